"""The terminal tables (rich) of compare, demo, stats and agreement. Every title and cell is a
plain rich Text of term_text (judge/escape.py): names, categories and tasks are data, and are
neither rich markup nor terminal escape sequences."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table

from judge.escape import term_cell
from judge.report import blocks as block_views
from judge.report.format import (
    DEGENERATE_NOTE,
    bench_rows,
    category_rows,
    check_rows,
    headline,
    interval,
    kappa,
    panel_rows,
    pct,
    verdict_rows,
    zero_width,
)
from judge.report.grid import Grid
from judge.runs.summary import PairwiseStats, RatingsStats, Summary
from judge.stats.agreement import AgreementRun, AgreementStats


def two_columns(title: str) -> Table:
    table = Table(title=term_cell(title), show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    return table


def add_rows(table: Table, rows: list[tuple[str, str]]) -> None:
    for name, value in rows:
        table.add_row(term_cell(name), term_cell(value))


def summary_table(summary: Summary) -> Table:
    table = two_columns(f"{summary.tuned} vs {summary.base}  (judge: {summary.judge}, "
                        f"template: {summary.template})")
    add_rows(table, verdict_rows(summary))
    add_rows(table, headline(summary.pairwise))
    add_rows(table, block_views.rows(summary))
    add_rows(table, panel_rows(summary.panel, summary.members))
    add_rows(table, [(f"category {name}", value)
                     for name, value in category_rows(summary.by_category)])
    add_rows(table, bench_rows(summary.benchmarks))
    sources = summary.verdict_sources
    add_rows(table, [("verdicts from", ", ".join(f"{k} {v}" for k, v in sorted(sources.items())))])
    for stage, t in summary.timing.items():
        rate = t.tokens_per_second
        add_rows(table, [(f"time: {stage}", f"{t.seconds:.1f} s" + (
            f", {t.tokens} tok, {rate:.1f} tok/s" if rate else ""))])
    return table


def demo_table(summary: Summary, card: str) -> Table:
    """The ten-second reading of a demo: the verdict, its doubt, the benchmarks, where it went."""
    pw = summary.pairwise
    table = two_columns("judge demo: ORPO-tuned smollm2 vs smollm2")
    add_rows(table, verdict_rows(summary))
    boot = pw.ci_bootstrap
    table.add_row("win rate", f"{pct(pw.win_rate)}  ({interval(boot, 'bootstrap')})"
                  + (f"; {DEGENERATE_NOTE}" if zero_width(boot.low, boot.high) else ""))
    table.add_row("prompts won, ties half",
                  f"{pct(pw.discrete_win_rate)}  ({interval(pw.ci, 'Wilson')})")
    table.add_row("wins / ties / losses", f"{pw.wins} / {pw.ties} / {pw.losses}")
    table.add_row("invalid verdicts", f"{pw.n_invalid} of {2 * pw.n + pw.n_invalid}")
    table.add_row("position consistency", pct(pw.position_consistency))
    add_rows(table, bench_rows(summary.benchmarks))
    add_rows(table, [("card", card)])
    stages = summary.timing
    table.add_row("time", ", ".join(f"{k} {v.seconds:.0f} s" for k, v in stages.items()))
    return table


def pairs(title: str, rows: list[tuple[str, str]]) -> Grid:
    return Grid(title, ["measure", "value"], [list(row) for row in rows], header=False)


def rich_table(grid: Grid) -> Table:
    """The grid in the terminal; every cell plain text (names are data, not rich markup)."""
    table = Table(title=term_cell(grid.title), show_header=grid.header)
    for i, column in enumerate(grid.columns):
        table.add_column(term_cell(column), style="bold" if i == 0 and not grid.header else None)
    for row in grid.rows:
        table.add_row(*(term_cell(cell) for cell in row))
    return table


def lines_grid(blocks: Mapping[str, Any], title: str) -> Grid:
    """`judge stats` on base-vs-tuned lines: the headline, diagnostics and categories."""
    pairwise: PairwiseStats = blocks["pairwise"]
    rows = [row for row in headline(pairwise) if row[0] != "warning"]
    rows += [row for row in block_views.block_rows(blocks) if row[0] != "warning"]
    rows += [(f"category {name}", value)
             for name, value in category_rows(blocks.get("by_category") or {})]
    return pairs(title, rows)


def models_grid(result: dict[str, Any], title: str) -> Grid:
    level = result["ci"]["level"]
    columns = ["model", "Elo-style", f"win rate vs baseline [{level:.0%} interval]", "battles",
               "W / T / L"]
    rows = [[name, f"{m['elo']:.0f}",
             f"{pct(m['win_rate'])}  [{pct(m['ci']['low'])} – {pct(m['ci']['high'])}]",
             str(m["battles"]), f"{m['wins']} / {m['ties']} / {m['losses']}"]
            for name, m in result["models"].items()]
    return Grid(f"{title}  (baseline {result['baseline']}, {result['n']} battles, "
                f"{result['n_invalid']} invalid)", columns, rows)


def ratings_grid(result: RatingsStats, title: str) -> Grid:
    ci, se = result.ci, result.standard_error
    return pairs(title, [
        ("mean rating base / tuned", f"{result.mean_base:.3f} / {result.mean_tuned:.3f}"),
        ("mean difference (tuned − base)",
         f"{result.mean_difference:+.3f}" + ("" if se is None else f" ± {se:.3f} s.e.")),
        (f"{ci.level:.0%} interval (paired bootstrap)", f"{ci.low:+.3f} – {ci.high:+.3f}"),
        ("tuned higher / equal / lower", f"{result.higher} / {result.equal} / {result.lower}"),
        ("prompts rated (invalid lines)", f"{result.n} ({result.n_invalid})"),
        ("Wilcoxon signed-rank p-value", f"{result.p_value:.3g}"),
    ])


def agreement_rows(r: AgreementStats) -> list[tuple[str, str]]:
    """Each rate over all pairs (invalid = wrong) with its Wilson interval, then over the pairs
    valid in both orders."""

    def rate(name: str) -> str:
        shown = f"{pct(getattr(r, name))} [{interval(r.intervals.get(name), 'Wilson')}]"
        valid = getattr(r, f"{name}_valid")
        return shown + f"; valid pairs only {pct(valid)}"

    return [
        ("pairs (with an invalid verdict)", f"{r.n} ({r.n_invalid})"),
        ("accuracy, original order", rate("accuracy_original")),
        ("accuracy, swapped order", rate("accuracy_swapped")),
        ("accuracy (mean of both orders)", rate("accuracy")),
        ("position consistency", rate("position_consistency")),
        ("correct in both orders", rate("both_correct")),
        ("vote accuracy (JudgeBench)", rate("vote_accuracy")),
        ("MT-Bench agreement, ties included", rate("mt_bench_agreement")),
        (f"MT-Bench agreement, no ties ({r.n_no_ties} pairs)", rate("mt_bench_agreement_no_ties")),
        ("Cohen's kappa, original / swapped",
         f"{kappa(r.cohen_kappa_original)} / {kappa(r.cohen_kappa_swapped)}; valid pairs only "
         f"{kappa(r.cohen_kappa_original_valid)} / {kappa(r.cohen_kappa_swapped_valid)}"),
    ]


def agreement_grid(result: AgreementStats, title: str) -> Grid:
    rows = agreement_rows(result)
    rows += [(f"category {name}", f"accuracy {pct(stats.accuracy)}, vote accuracy "
              f"{pct(stats.vote_accuracy)}, position consistency "
              f"{pct(stats.position_consistency)}; n {stats.n}")
             for name, stats in result.by_category.items()]
    return pairs(title, rows)


def judge_run_grid(found: AgreementRun, title: str) -> Grid:
    """`judge agreement --judge`: the verdict on the judge and its controls first, then the
    agreement with the labels, and for a panel each judge's own and how much they agree."""
    rows = check_rows(found.judge_check, found.controls, found.panel is not None)
    rows += agreement_rows(found.agreement)
    if found.panel is not None:
        rows += panel_agreement_rows(found)
    return pairs(title, rows)


def panel_agreement_rows(found: AgreementRun) -> list[tuple[str, str]]:
    panel = found.panel
    assert panel is not None
    rows = [("Fleiss' kappa (members' outcomes)",
             f"{kappa(panel.fleiss_kappa)} over the {panel.n} pairs every member judged validly")]
    rows += [(f"Cohen's kappa, {p.a} / {p.b}",
              f"{kappa(p.cohen_kappa)} over {p.n} pairs; same outcome on {pct(p.agreement)}")
             for p in panel.pairs]
    for label, m in found.members.items():
        controls = pct(m.controls.accuracy) if m.controls else "n/a"
        rows.append((f"judge {label}",
                     f"accuracy {pct(m.agreement.accuracy)}, position consistency "
                     f"{pct(m.agreement.position_consistency)}, sides with the panel on "
                     f"{pct(panel.sides_with_panel.get(label))}; controls {controls}; "
                     f"{m.judge_check.status}"))
    return rows
