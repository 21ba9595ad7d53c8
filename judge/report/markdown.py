"""report.md: the run's numbers, benchmarks, timing and a few examples, for people. Everything that
comes from data (model, judge and template names, categories, tasks, prompt ids, prompts, answers)
goes through md_text (judge/escape.py): it shows as text and makes no markup, link or HTML."""

from __future__ import annotations

from collections.abc import Sequence

from judge.escape import md_text
from judge.records import Judgment, PromptItem
from judge.report import blocks
from judge.report.format import (
    VERDICT,
    bench_rows,
    category_rows,
    headline,
    one_line,
    panel_rows,
    verdict_rows,
)
from judge.runs.summary import Summary


def report_markdown(
    summary: Summary,
    items: Sequence[PromptItem],
    answers: dict[str, tuple[str, str]],
    judgments: Sequence[Judgment],
) -> str:
    leading = verdict_rows(summary)
    lines = [
        f"# {md_text(summary.tuned)} vs {md_text(summary.base)}",
        "",
        *[f"**{md_text(value)}**\n" for name, value in leading if name == VERDICT],
        f"Judge {md_text(summary.judge)} with template {md_text(summary.template)}, every pair "
        "in both "
        "orders. Score per prompt = tuned model's share of the two verdicts (tie = 0.5).",
        "",
        "| measure | value |",
        "|---|---|",
        *[f"| {name} | {md_text(value)} |" for name, value in leading if name != VERDICT],
        *[f"| {name} | {value} |" for name, value in headline(summary.pairwise)],
        *[f"| {name} | {value} |" for name, value in blocks.rows(summary)],
        *[f"| {name} | {md_text(value)} |" for name, value in  # names inside: escaped
          panel_rows(summary.panel, summary.members, md_text)],
        "",
        *blocks.markdown(summary, {"base": summary.base, "tuned": summary.tuned}, md_text),
        *(["## By category", "", "| category | win rate (mean score) |", "|---|---|",
           *[f"| {md_text(n)} | {v} |" for n, v in category_rows(summary.by_category)], ""]
          if summary.by_category else []),
        *(["## Benchmarks", "", "| task (metric) | base → tuned |", "|---|---|",
           *[f"| {md_text(n)} | {v} |" for n, v in bench_rows(summary.benchmarks)], ""]
          if summary.benchmarks else []),
        "## Timing",
        "",
        "| stage | seconds | tokens | tokens/s |",
        "|---|---|---|---|",
    ]
    for stage, t in summary.timing.items():
        rate = t.tokens_per_second
        lines.append(f"| {md_text(stage)} | {t.seconds:.1f} | {t.tokens} | "
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
        lines += [f"**Prompt {md_text(item.prompt_id)}:** {md_text(item.prompt)}", "",
                  f"- base: {md_text(one_line(base))}", f"- tuned: {md_text(one_line(tuned))}",
                  f"- verdicts: {md_text(verdicts)}", ""]
    return "\n".join(lines)
