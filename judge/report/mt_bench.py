"""The views of the `mt_bench` block (per-turn grading): FastChat's score table with intervals in
the terminal, report.md and report.html, and the per-category plot (mt_bench.png, grouped bars).

Columns are overall, turn 1, turn 2 and each category; rows are each model, then each model minus
the baseline (paired by question and turn). Every cell is the mean, its interval (a bootstrap
over questions, judge/stats/mt_bench.py) and n, the question-turn rows behind it. Model names
are data: the callers escape them for their format (md_text, autoescape, rich).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from judge.report.blockview import BlockView, register
from judge.report.grid import Grid
from judge.report.plots import plain, save_png
from judge.runs.summary import MeanScore, MTBenchStats, ScoreTable

PLOT_NAME = "mt_bench.png"


@register
class MTBenchView(BlockView):
    """The block's own table in every view, and its plot; no rows in the shared table."""

    name = "mt_bench"
    plot_name = PLOT_NAME

    def grid(self, block: MTBenchStats) -> Grid:
        return mt_bench_grid(block, "MT-Bench scores (tuned − base paired)")

    def markdown(self, block: MTBenchStats, names: Mapping[str, str],
                 escape: Callable[[str], str]) -> list[str]:
        return mt_bench_markdown(block, names, escape)

    def html(self, block: MTBenchStats, names: Mapping[str, str]) -> dict[str, Any]:
        return mt_bench_view(block, names)

    def plot(self, block: MTBenchStats, names: Mapping[str, str], path: Path) -> None:
        plot_mt_bench(block, names, f"MT-Bench scores: {names['tuned']} vs {names['base']}, "
                      f"judge {names['judge']} ({names['template']})", path)


def cell(ms: MeanScore | None, signed: bool = False) -> str:
    if ms is None or ms.mean is None:
        return "n/a"
    shown = f"{ms.mean:+.2f}" if signed else f"{ms.mean:.2f}"
    if ms.ci is None:
        return f"{shown} (one question) n={ms.n}"
    low, high = (f"{ms.ci.low:+.2f}", f"{ms.ci.high:+.2f}") if signed else (
        f"{ms.ci.low:.2f}", f"{ms.ci.high:.2f}")
    return f"{shown} [{low}, {high}] n={ms.n}"


def columns(stats: MTBenchStats) -> list[str]:
    turns = sorted({t for table in stats.models.values() for t in table.turns}, key=int)
    categories = sorted({c for table in stats.models.values() for c in table.categories})
    return ["overall", *[f"turn {t}" for t in turns], *categories]


def row(table: ScoreTable, wanted: list[str], signed: bool = False) -> list[str]:
    return [cell(pick_column(table, name), signed) for name in wanted]


def score_rows(stats: MTBenchStats,
               name: Callable[[str], str]) -> tuple[list[str], list[list[str]]]:
    """(column names, rows): each model with its invalid count, then each paired difference."""
    wanted = columns(stats)
    rows = [[name(model), *row(table, wanted), str(stats.n_invalid.get(model, 0))]
            for model, table in stats.models.items()]
    rows += [[f"{name(model)} − {name(stats.baseline or '')} (paired)",
              *row(table, wanted, signed=True), ""]
             for model, table in stats.differences.items()]
    return ["model", *wanted, "invalid"], rows


def conventions(stats: MTBenchStats) -> str:
    level = next((ms.ci.level for t in stats.models.values() for ms in [t.overall] if ms.ci),
                 0.95)
    return (f"Mean 1–10 score of the valid question-turn rows (FastChat's show_result: a reply "
            f"with no rating, its -1, is left out and counted as invalid; overall = mean of all "
            f"valid rows), [{level:.0%} interval: bootstrap resampling whole questions], n = rows. "
            f"Differences pair each question-turn both models' ratings cover. "
            f"{stats.n_questions} questions.")


def mt_bench_grid(stats: MTBenchStats, title: str) -> Grid:
    """`judge stats` of a FastChat single judgment file (or of a per-turn run's lines)."""
    header, rows = score_rows(stats, lambda model: model)
    return Grid(f"{title}  (baseline {stats.baseline or 'none: pass --baseline'})", header, rows)


def mt_bench_markdown(stats: MTBenchStats, names: Mapping[str, str],
                      escape: Callable[[str], str]) -> list[str]:
    """report.md's section: the table, its conventions and the plot."""
    header, rows = score_rows(stats, lambda model: names.get(model, model))
    return ["## MT-Bench single-answer grading", "", conventions(stats), "",
            "| " + " | ".join(escape(h) for h in header) + " |",
            "|" + "---|" * len(header),
            *["| " + " | ".join(escape(c) for c in r) + " |" for r in rows], "",
            f"![mean score per category, with intervals]({PLOT_NAME})", ""]


def mt_bench_view(stats: MTBenchStats, names: Mapping[str, str]) -> dict[str, Any]:
    """report.html's section: the table, and the plot's bars as data the page draws itself (it
    loads nothing, not even the PNG beside it)."""
    header, rows = score_rows(stats, lambda model: names.get(model, model))
    groups = []
    for column in columns(stats):
        bars = []
        for model, table in stats.models.items():
            ms = pick_column(table, column)
            if ms is not None and ms.mean is not None:
                low, high = (ms.ci.low, ms.ci.high) if ms.ci else (ms.mean, ms.mean)
                bars.append({"label": names.get(model, model), "mean": ms.mean, "low": low,
                             "high": high, "width": round(10 * ms.mean, 1)})
        groups.append({"name": column, "bars": bars})
    return {"header": header, "rows": rows, "conventions": conventions(stats), "groups": groups,
            "plot": PLOT_NAME}


def pick_column(table: ScoreTable, column: str) -> MeanScore | None:
    if column == "overall":
        return table.overall
    if column.startswith("turn ") and column[5:] in table.turns:
        return table.turns[column[5:]]
    return table.categories.get(column)


def plot_mt_bench(stats: MTBenchStats, names: Mapping[str, str], title: str,
                  path: Path) -> None:
    """Grouped bars: per category (and overall, per turn) each model's mean score with its
    interval; skipped when matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    groups = columns(stats)
    models = list(stats.models)
    height = 0.8 / max(len(models), 1)
    fig, ax = plt.subplots(figsize=(6.4, 1.2 + 0.45 * len(groups) * max(len(models), 1)), dpi=100)
    colours = ["tab:grey", "tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
    for m, model in enumerate(models):
        ys: list[float] = []
        means: list[float] = []
        errs: list[list[float]] = [[], []]
        for g, column in enumerate(groups):
            ms = pick_column(stats.models[model], column)
            if ms is None or ms.mean is None:
                continue
            ys.append(len(groups) - 1 - g + (len(models) - 1 - m) * height - 0.4 + height / 2)
            means.append(ms.mean)
            low, high = (ms.ci.low, ms.ci.high) if ms.ci else (ms.mean, ms.mean)
            errs[0].append(max(0.0, ms.mean - low))
            errs[1].append(max(0.0, high - ms.mean))
        ax.barh(ys, means, height=height * 0.9, xerr=errs, capsize=3,
                color=colours[m % len(colours)], label=plain(names.get(model, model)))
    ax.set_yticks(range(len(groups)), [plain(g) for g in groups][::-1], fontsize=9)
    ax.set_xlim(0, 10.5)
    ax.set_xlabel("mean score (1–10) with its interval (bootstrap over questions)", fontsize=9)
    ax.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0, 1), ncol=max(len(models), 1),
              frameon=False)
    fig.suptitle(plain(title), x=0.01, ha="left", fontsize=9)
    fig.tight_layout()
    save_png(fig, path)
