"""What a run leaves for people: summary.json, report.md, winrate.png, and the terminal table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from judge.ledger import write_atomic
from judge.records import Judgment, PromptItem


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def headline(pairwise: dict[str, Any]) -> list[tuple[str, str]]:
    """The rows every summary shows, in one place for the table, the report and the card."""
    ci = pairwise["ci"]
    boot = pairwise.get("ci_bootstrap") or {}
    se = pairwise.get("standard_error")
    return [
        ("win rate (tuned vs base)", f"{pct(pairwise['win_rate'])} ± {pct(se)} s.e."),
        (f"{ci['level']:.0%} interval (Wilson)", f"{pct(ci['low'])} – {pct(ci['high'])}"),
        (f"{boot.get('level', 0):.0%} interval (paired bootstrap)",
         f"{pct(boot.get('low'))} – {pct(boot.get('high'))}"),
        ("soft win rate (label probabilities)", pct(pairwise.get("soft_win_rate"))),
        ("length-controlled win rate", pct(pairwise.get("lc_win_rate"))),
        ("wins / ties / losses", f"{pairwise['wins']} / {pairwise['ties']} / {pairwise['losses']}"),
        ("prompts judged (invalid lines)", f"{pairwise['n']} ({pairwise['n_invalid']})"),
        ("sign test p-value", f"{pairwise['p_value']:.3g}"),
        ("position consistency", pct(pairwise.get("position_consistency"))),
        ("first-shown answer wins", pct(pairwise.get("first_position_rate"))),
        *[("warning", w) for w in pairwise.get("warnings") or []],
    ]


def bench_rows(benchmarks: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for task, b in benchmarks.items():
        p = b.get("p_value")
        rows.append((f"{task} ({b['metric']})",
                     f"{b['base']:.3f} → {b['tuned']:.3f}, delta {b['delta']:+.3f} ± "
                     f"{b['stderr']:.3f}" + ("" if p is None else f", McNemar p {p:.3g}")))
    return rows


def summary_table(summary: dict[str, Any]) -> Table:
    table = Table(title=f"{summary['tuned']} vs {summary['base']}  (judge: {summary['judge']}, "
                  f"template: {summary['template']})", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    for name, value in headline(summary["pairwise"]):
        table.add_row(name, value)
    for name, value in bench_rows(summary.get("benchmarks") or {}):
        table.add_row(name, value)
    sources = summary.get("verdict_sources", {})
    table.add_row("verdicts from", ", ".join(f"{k} {v}" for k, v in sorted(sources.items())))
    for stage, t in summary.get("timing", {}).items():
        rate = t.get("tokens_per_second")
        table.add_row(f"time: {stage}", f"{t['seconds']:.1f} s" + (
            f", {t['tokens']} tok, {rate:.1f} tok/s" if rate else ""))
    return table


def report_markdown(
    summary: dict[str, Any],
    items: Sequence[PromptItem],
    answers: dict[str, tuple[str, str]],
    judgments: Sequence[Judgment],
) -> str:
    lines = [
        f"# {summary['tuned']} vs {summary['base']}",
        "",
        f"Judge `{summary['judge']}` with template `{summary['template']}`, every pair in both "
        "orders. Score per prompt = tuned model's share of the two verdicts (tie = 0.5).",
        "",
        "| measure | value |",
        "|---|---|",
        *[f"| {name} | {value} |" for name, value in headline(summary["pairwise"])],
        "",
        *(["## Benchmarks", "", "| task (metric) | base → tuned |", "|---|---|",
           *[f"| {n} | {v} |" for n, v in bench_rows(summary.get("benchmarks") or {})], ""]
          if summary.get("benchmarks") else []),
        "## Timing",
        "",
        "| stage | seconds | tokens | tokens/s |",
        "|---|---|---|---|",
    ]
    for stage, t in summary["timing"].items():
        rate = t.get("tokens_per_second")
        lines.append(f"| {stage} | {t['seconds']:.1f} | {t['tokens']} | "
                     f"{'' if rate is None else f'{rate:.1f}'} |")
    by_prompt: dict[str, list[Judgment]] = {}
    for j in judgments:
        by_prompt.setdefault(j.prompt_id, []).append(j)
    lines += ["", "## Examples", ""]
    for item in items[:3]:
        base, tuned = answers[item.prompt_id]
        verdicts = ", ".join(
            f"{j.order or 'rated'}: {j.winner} ({j.source})" for j in by_prompt[item.prompt_id]
        )
        lines += [f"**Prompt {item.prompt_id}:** {item.prompt}", "",
                  f"- base: {one_line(base)}", f"- tuned: {one_line(tuned)}",
                  f"- verdicts: {verdicts}", ""]
    return "\n".join(lines)


def one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


WINRATE_ROWS = 2  # rates draw_winrate shows, for callers sizing a figure


def draw_winrate(ax: Any, pw: dict[str, Any]) -> None:
    """The win rate against the 50% line, each interval drawn around the rate it belongs to: the
    bootstrap around the mean score, Wilson around the discrete rate (run plot and card plot)."""
    rates = [
        ("mean score,\nbootstrap", pw["win_rate"], pw.get("ci_bootstrap") or pw["ci"]),
        ("discrete,\nWilson", pw.get("discrete_win_rate", pw["win_rate"]), pw["ci"]),
    ]
    ax.axvline(50, color="grey", linestyle="--", linewidth=1)
    for y, (_, rate, ci) in enumerate(rates):
        err = [[max(0.0, 100 * (rate - ci["low"]))], [max(0.0, 100 * (ci["high"] - rate))]]
        ax.errorbar([100 * rate], [y], xerr=err, fmt="o", capsize=6, color="tab:blue")
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, len(rates) - 0.4)
    ax.set_yticks(range(len(rates)), [label for label, _, _ in rates])
    ax.set_xlabel(f"tuned win rate vs base, % ({pw['ci']['level']:.0%} intervals)")


def plot_winrate(summary: dict[str, Any], path: Path) -> None:
    """Win rate with its interval against the 50% line; skipped when matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(6, 2.2), dpi=100)
    draw_winrate(ax, summary["pairwise"])
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, metadata={"Software": None})
    plt.close(fig)
    tmp.replace(path)


def write_outputs(
    out: Path,
    summary: dict[str, Any],
    items: Sequence[PromptItem],
    answers: dict[str, tuple[str, str]],
    judgments: Sequence[Judgment],
) -> None:
    write_atomic(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    write_atomic(out / "report.md", report_markdown(summary, items, answers, judgments) + "\n")
    plot_winrate(summary, out / "winrate.png")


def demo_table(summary: dict[str, Any], card: str) -> Table:
    """The ten-second reading of a demo: the verdict, its doubt, the benchmarks, where it went."""
    pw = summary["pairwise"]
    table = Table(title="judge demo: ORPO-tuned smollm2 vs smollm2", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    ci = pw["ci"]
    table.add_row("win rate", f"{pct(pw['win_rate'])}  ({ci['level']:.0%} interval "
                  f"{pct(ci['low'])} – {pct(ci['high'])})")
    table.add_row("wins / ties / losses", f"{pw['wins']} / {pw['ties']} / {pw['losses']}")
    table.add_row("invalid verdicts", f"{pw['n_invalid']} of {2 * pw['n'] + pw['n_invalid']}")
    table.add_row("position consistency", pct(pw.get("position_consistency")))
    for name, value in bench_rows(summary.get("benchmarks") or {}):
        table.add_row(name, value)
    table.add_row("card", card)
    stages = summary.get("timing", {})
    table.add_row("time", ", ".join(f"{k} {v['seconds']:.0f} s" for k, v in stages.items()))
    return table
