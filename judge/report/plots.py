"""The win-rate plot of a run (winrate.png), drawn by the same function as the card's plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from judge.stats.summary import PairwiseStats, Summary

WINRATE_ROWS = 2  # rates draw_winrate shows, for callers sizing a figure


def draw_winrate(ax: Any, pw: PairwiseStats) -> None:
    """The win rate against the 50% line, each interval drawn around the rate it belongs to: the
    bootstrap around the mean score, Wilson around the discrete rate (run plot and card plot)."""
    rates = [
        ("mean score,\nbootstrap", pw.win_rate, pw.ci_bootstrap),
        ("discrete,\nWilson", pw.discrete_win_rate, pw.ci),
    ]
    ax.axvline(50, color="grey", linestyle="--", linewidth=1)
    for y, (_, rate, ci) in enumerate(rates):
        err = [[max(0.0, 100 * (rate - ci.low))], [max(0.0, 100 * (ci.high - rate))]]
        ax.errorbar([100 * rate], [y], xerr=err, fmt="o", capsize=6, color="tab:blue")
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, len(rates) - 0.4)
    ax.set_yticks(range(len(rates)), [label for label, _, _ in rates])
    ax.set_xlabel(f"tuned win rate vs base, % ({pw.ci.level:.0%} intervals)")


def plot_winrate(summary: Summary, path: Path) -> None:
    """Win rate with its interval against the 50% line; skipped when matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(6, 2.2), dpi=100)
    draw_winrate(ax, summary.pairwise)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, metadata={"Software": None})
    plt.close(fig)
    tmp.replace(path)
