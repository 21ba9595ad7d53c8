"""The win-rate plot of a run (winrate.png), drawn by the same function as the card's plot.

A reader needs no README for it: the title names the models, the judge, the template and n; the
rows say in words what they are; an interval of zero width (every prompt scored alike, as with a
judge that always picks the first answer) is drawn as a diamond with a note, not as a dot that
looks certain.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from judge.files import write_bytes_atomic
from judge.report.format import DEGENERATE_NOTE, pct, winrate_rates
from judge.runs.summary import PairwiseStats

WINRATE_ROWS = 2  # rates draw_winrate shows, for callers sizing a figure
WINRATE_HEIGHT = 0.7 * WINRATE_ROWS + 1.8  # inches, title included


def plain(text: str) -> str:
    """Text matplotlib shows as is (a `$` would start mathtext)."""
    return text.replace("$", r"\$")


def draw_winrate(ax: Any, pw: PairwiseStats, title: str) -> None:
    """The win rate against the 50% line, each interval drawn around the rate it belongs to: the
    bootstrap around the mean score, Wilson around the discrete rate (run plot and card plot)."""
    rates = winrate_rates(pw)
    ax.axvline(50, color="grey", linestyle="--", linewidth=1)
    for y, r in zip(range(len(rates) - 1, -1, -1), rates, strict=True):
        if r.degenerate:
            ax.plot([100 * r.rate], [y], marker="D", markersize=9, color="tab:orange",
                    markeredgecolor="black", linestyle="none")
            note = f"{pct(r.rate)}: " + DEGENERATE_NOTE.replace(", ", ",\n", 1)
        else:
            err = [[max(0.0, 100 * (r.rate - r.low))], [max(0.0, 100 * (r.high - r.rate))]]
            ax.errorbar([100 * r.rate], [y], xerr=err, fmt="o", capsize=6, color="tab:blue")
            note = f"{pct(r.rate)}  ({pct(r.low)} – {pct(r.high)})"
        ax.annotate(note, (100 * r.rate, y), xytext=(0, 9), textcoords="offset points",
                    ha="center", fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, len(rates) - 0.3)
    labels = [r.label.replace(", ", ",\n") + f",\n{r.level:.0%} interval" for r in rates]
    ax.set_yticks(range(len(rates)), labels[::-1], fontsize=9)
    ax.set_xlabel("tuned model's win rate against the base, %\n(dashed line: no difference)",
                  fontsize=9)
    ax.figure.suptitle(plain(title), x=0.01, ha="left", fontsize=9)


def plot_winrate(pw: PairwiseStats, title: str, path: Path) -> None:
    """Win rate with its interval against the 50% line; skipped when matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(6.4, WINRATE_HEIGHT), dpi=100)
    draw_winrate(ax, pw, title)
    fig.tight_layout()
    save_png(fig, path)


def save_png(fig, path: Path) -> None:  # type: ignore[no-untyped-def]
    """A matplotlib figure written as PNG in one rename (no version in it: same bytes each time);
    the figure is closed either way."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", metadata={"Software": None})
    finally:
        plt.close(fig)
    write_bytes_atomic(path, buffer.getvalue())
