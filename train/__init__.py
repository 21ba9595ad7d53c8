"""A compact fine-tuning module over trl: recipes, preference-data mixing, LoRA, outputs.

    judge train orpo --recipe smollm2-cpu                   (or: python -m judge train orpo ...)

In the repo this is the top-level train/ folder; installed, it is `judge.train` (pyproject.toml
maps it), so the wheel carries it and no bare `train` module is installed. recipe.py reads
recipes, fields.py types ORPOConfig settings, data.py mixes preference sets, run.py trains,
outputs.py writes the model folder, training.json and metrics.jsonl. The `judge train` command
itself lives in judge/cli/train.py: this package is the library it calls.
"""
