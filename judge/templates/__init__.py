"""Judge templates: Jinja2 files with a declared verdict format (template.py), their checks
(check.py), Flow Judge's rubric binding (flow.py), and the shipped library (the repo's prompts/
folder, installed as judge.templates.shipped)."""
