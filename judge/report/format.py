"""The words and numbers every view of a run shares: the terminal, report.md and the card."""

from __future__ import annotations

from collections.abc import Mapping

from judge.stats.summary import BenchDelta, PairwiseStats


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def headline(pw: PairwiseStats) -> list[tuple[str, str]]:
    """The rows every summary shows, in one place for the table, the report and the card."""
    ci, boot = pw.ci, pw.ci_bootstrap
    return [
        ("win rate (tuned vs base)", f"{pct(pw.win_rate)} ± {pct(pw.standard_error)} s.e."),
        (f"{ci.level:.0%} interval (Wilson)", f"{pct(ci.low)} – {pct(ci.high)}"),
        (f"{boot.level:.0%} interval (paired bootstrap)", f"{pct(boot.low)} – {pct(boot.high)}"),
        ("soft win rate (label probabilities)", pct(pw.soft_win_rate)),
        ("length-controlled win rate", pct(pw.lc_win_rate)),
        ("wins / ties / losses", f"{pw.wins} / {pw.ties} / {pw.losses}"),
        ("prompts judged (invalid lines)", f"{pw.n} ({pw.n_invalid})"),
        ("sign test p-value", f"{pw.p_value:.3g}"),
        ("position consistency", pct(pw.position_consistency)),
        ("first-shown answer wins", pct(pw.first_position_rate)),
        *[("warning", w) for w in pw.warnings],
    ]


def bench_rows(benchmarks: Mapping[str, BenchDelta]) -> list[tuple[str, str]]:
    rows = []
    for task, b in benchmarks.items():
        spread = "n/a" if b.stderr is None else f"{b.stderr:.3f}"
        rows.append((f"{task} ({b.metric})",
                     f"{b.base:.3f} → {b.tuned:.3f}, delta {b.delta:+.3f} ± {spread}"
                     + ("" if b.p_value is None else f", McNemar p {b.p_value:.3g}")))
    return rows


def one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
