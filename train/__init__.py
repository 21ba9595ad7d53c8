"""A compact fine-tuning module over trl: ORPO, DPO and SFT from recipes, data mixing, LoRA,
a judged win rate during training, outputs.

    judge train orpo --recipe smollm2-cpu                   (or: python -m judge train orpo ...)
    judge train dpo --recipe smollm2-dpo-cpu --judge-every 10 --judge-limit 16

In the repo this is the top-level train/ folder; installed, it is `judge.train` (pyproject.toml
maps it), so the wheel carries it and no bare `train` module is installed. methods.py says what
differs between ORPO, DPO and SFT (trl's config and trainer, row shape, reference model); recipe.py
reads recipes, fields.py types the method's config fields, data.py mixes data sets, judged.py is
the judged-win-rate callback, run.py trains (one path for every method), outputs.py writes the
model folder, training.json and metrics.jsonl. The `judge train` commands live in
judge/cli/train.py: this package is the library they call.
"""
