"""lm-eval benchmarks for both models (lmeval.py) and their paired comparison (paired.py); the
shipped offline task lives in tasks/."""
