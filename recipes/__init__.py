"""Training recipes shipped with judge, installed as `judge.train.recipes` (see pyproject.toml):
`judge train orpo --recipe smollm2-cpu` names one; accelerate/ holds launch configs."""
