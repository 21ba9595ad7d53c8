"""The views of the diagnostics beside the win rate: the style-controlled rate (`style_control`),
arena-hard's pooled rate (`graded`) and the judge-bias rates (`bias`), each a row set of the
shared measures table in every view (judge/report/blockview.py)."""

from __future__ import annotations

from judge.report.blockview import BlockView, Rows, register
from judge.report.format import interval, pct
from judge.runs.summary import BiasStats, GradedStats, StyleControl


@register
class StyleControlView(BlockView):
    name = "style_control"

    def rows(self, block: StyleControl) -> Rows:
        value = (f"{pct(block.win_rate)}, {interval(block.ci, 'item bootstrap')}"
                 if block.win_rate is not None else f"n/a ({block.reason})")
        return [("style-controlled win rate", value)]


@register
class GradedView(BlockView):
    """Only the pooled rate has a row; report.html lists the rest of the block as it is."""

    name = "graded"
    whole = False

    def rows(self, block: GradedStats) -> Rows:
        if block.pooled_win_rate is None:
            return []
        pooled = interval(block.pooled_ci, "prompt bootstrap")
        return [("weighted win rate, arena-hard pooled (strong verdicts ×3)",
                 f"{pct(block.pooled_win_rate)}, {pooled}")]


@register
class BiasView(BlockView):
    name = "bias"

    def rows(self, block: BiasStats) -> Rows:
        rates: list[tuple[str, str, float | None, int]] = [
            ("longer answer wins (length differs > 30 chars)", "prefer_longer",
             block.prefer_longer, block.n_prefer_longer),
            ("answer with a list wins (only one has a list)", "prefer_lists",
             block.prefer_lists, block.n_prefer_lists),
            ("answer with more list items wins", "more_list_items", block.more_list_items,
             block.n_more_list_items),
        ]
        rows = [(label, f"{pct(rate)} of {n} decisive verdicts" if rate is not None
                 else f"n/a ({block.reasons.get(key, 'not computed')})")
                for label, key, rate, n in rates]
        return rows + [("warning", w) for w in block.warnings]
