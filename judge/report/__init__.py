"""What a run leaves for people: terminal tables, report.md, report.html, CSV and plots.

Called, this package is judge.api.report (`from judge import report; report("results/run")`).
"""

from judge import callable_module

callable_module(__name__, "report")
