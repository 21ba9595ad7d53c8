"""The terminal tables (rich) of compare, demo, stats and agreement."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from judge.report.format import bench_rows, headline, pct
from judge.stats.summary import PairwiseStats, RatingsStats, Summary


def two_columns(title: str) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    return table


def summary_table(summary: Summary) -> Table:
    table = two_columns(f"{summary.tuned} vs {summary.base}  (judge: {summary.judge}, "
                        f"template: {summary.template})")
    for name, value in headline(summary.pairwise):
        table.add_row(name, value)
    for name, value in bench_rows(summary.benchmarks):
        table.add_row(name, value)
    sources = summary.verdict_sources
    table.add_row("verdicts from", ", ".join(f"{k} {v}" for k, v in sorted(sources.items())))
    for stage, t in summary.timing.items():
        rate = t.tokens_per_second
        table.add_row(f"time: {stage}", f"{t.seconds:.1f} s" + (
            f", {t.tokens} tok, {rate:.1f} tok/s" if rate else ""))
    return table


def demo_table(summary: Summary, card: str) -> Table:
    """The ten-second reading of a demo: the verdict, its doubt, the benchmarks, where it went."""
    pw, ci = summary.pairwise, summary.pairwise.ci
    table = two_columns("judge demo: ORPO-tuned smollm2 vs smollm2")
    table.add_row("win rate", f"{pct(pw.win_rate)}  ({ci.level:.0%} interval "
                  f"{pct(ci.low)} – {pct(ci.high)})")
    table.add_row("wins / ties / losses", f"{pw.wins} / {pw.ties} / {pw.losses}")
    table.add_row("invalid verdicts", f"{pw.n_invalid} of {2 * pw.n + pw.n_invalid}")
    table.add_row("position consistency", pct(pw.position_consistency))
    for name, value in bench_rows(summary.benchmarks):
        table.add_row(name, value)
    table.add_row("card", card)
    stages = summary.timing
    table.add_row("time", ", ".join(f"{k} {v.seconds:.0f} s" for k, v in stages.items()))
    return table


def pairwise_table(result: PairwiseStats, title: str) -> Table:
    table = two_columns(title)
    for name, value in headline(result):
        table.add_row(name, value)
    table.add_row("discrete win rate (ties half)", pct(result.discrete_win_rate))
    table.add_row("length-controlled win rate", pct(result.lc_win_rate))
    return table


def models_table(result: dict[str, Any], title: str) -> Table:
    level = result["ci"]["level"]
    table = Table(title=f"{title}  (baseline {result['baseline']}, {result['n']} battles, "
                  f"{result['n_invalid']} invalid)")
    for column in ("model", "Elo-style", f"win rate vs baseline [{level:.0%} interval]",
                   "battles", "W / T / L"):
        table.add_column(column)
    for name, m in result["models"].items():
        table.add_row(name, f"{m['elo']:.0f}",
                      f"{pct(m['win_rate'])}  [{pct(m['ci']['low'])} – {pct(m['ci']['high'])}]",
                      str(m["battles"]), f"{m['wins']} / {m['ties']} / {m['losses']}")
    return table


def ratings_table(result: RatingsStats, title: str) -> Table:
    table = two_columns(title)
    ci, se = result.ci, result.standard_error
    rows = [
        ("mean rating base / tuned", f"{result.mean_base:.3f} / {result.mean_tuned:.3f}"),
        ("mean difference (tuned − base)",
         f"{result.mean_difference:+.3f}" + ("" if se is None else f" ± {se:.3f} s.e.")),
        (f"{ci.level:.0%} interval (paired bootstrap)", f"{ci.low:+.3f} – {ci.high:+.3f}"),
        ("tuned higher / equal / lower", f"{result.higher} / {result.equal} / {result.lower}"),
        ("prompts rated (invalid lines)", f"{result.n} ({result.n_invalid})"),
        ("Wilcoxon signed-rank p-value", f"{result.p_value:.3g}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def agreement_table(result: dict[str, Any], title: str) -> Table:
    table = two_columns(title)

    def kappa(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    rows = [
        ("items (invalid)", f"{result['n']} ({result['n_invalid']})"),
        ("accuracy, original / swapped order",
         f"{pct(result['accuracy_original'])} / {pct(result['accuracy_swapped'])}"),
        ("accuracy (mean of both orders)", pct(result["accuracy"])),
        ("position consistency", pct(result["position_consistency"])),
        ("correct in both orders", pct(result["both_correct"])),
        ("Cohen's kappa, original / swapped",
         f"{kappa(result['cohen_kappa_original'])} / {kappa(result['cohen_kappa_swapped'])}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table
