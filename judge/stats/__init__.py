"""Pure statistics over judged comparisons, one family per module, and the typed summary.json.

Called, this package is judge.api.stats (`from judge import stats; stats("annotations.json")`).
"""

from judge import callable_module

callable_module(__name__, "stats")
