"""The judge templates shipped with judge, installed as the package data `judge.templates.shipped`
(see pyproject.toml) and found with importlib.resources: pair templates here, one-answer templates
in pointwise/."""
