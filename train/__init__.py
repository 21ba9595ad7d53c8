"""A compact ORPO module over trl.experimental.orpo: recipes, preference-data mixing, LoRA, outputs.

    judge train orpo --recipe recipes/smollm2-cpu.yaml      (or: python -m train orpo ...)

recipe.py reads recipes, fields.py types ORPOConfig settings, data.py mixes preference sets,
run.py trains, outputs.py writes the model folder, training.json and metrics.jsonl.
"""
