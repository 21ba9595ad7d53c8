"""What a card shows, gathered from one run folder through the run reader (judge/runs/reader.py).

The result is the namespace of the card template (judge/card/templates/eval_section.md.j2; a
template of your own gets the same names):

    model_name, base, tuned, judge, template   display names (a local path by its last part; an
                          answers file by the model it names)
    base_hub_id           the base model's hub id, when it has one
    prompts, n_prompts    the prompt set and how many prompts were judged
    pairwise              summary.json's pairwise block (a mapping); a panel's numbers for a
                          panel
    verdict               the sentence that says whether the judge could judge on this run's
                          own checks ("inconclusive: the judge could not tell ..."), or None
                          for a summary.json written before the verdict existed
    verdict_status        passed | inconclusive | unchecked, or None
    smoke_test            a sentence naming the bundled smoke-test judge when the run used it,
                          else None
    headline              [(measure, value)] rows, as the terminal shows them (ready for a
                          Markdown table: rows that carry names escaped): the control pairs,
                          the headline numbers, the rows of every registered block view
                          whose block the run has (judge/report/blocks.py: the style-controlled
                          rate, bias diagnostics, ...), the panel's agreement for a panel
    controls, panel, members   summary.json's blocks of those names (mappings), or None / {}
    bias, style_control   summary.json's blocks of those names (mappings), or None
    categories            [{category, win_rate, low, high, n, wins, ties, losses}] per category
                          (the bootstrap interval of the mean score; every number None for a
                          category whose verdicts were all invalid), [] without categories;
                          category names come escaped for a Markdown table cell
    verdict_sources       {text|logprob|skipped|none: count}
    benchmarks            [{task, metric, base, tuned, delta, stderr, p_value, n}]
    examples              [{prompt_id, prompt, base, tuned, verdicts: [{order, winner, source}]}],
                          differing answers first (a panel: its first judge's verdicts)
    plot, judge_version   the plot's file name; the judge version that ran
    filters               pct, pp, points, num, fence (judge/card/write.py)

Every text that comes from data is Markdown-escaped here (md_text, judge/escape.py), names, ids,
categories, tasks and the sentences that carry them, so a template can print it as it is: it shows
as text and makes no markup, link, image or HTML. The exceptions are the examples' `prompt`,
`base` and `tuned`, whole multi-line texts given as they are, to be shown through the `fence`
filter (a code block they cannot close), as the shipped template does. The front matter is made
from card_facts, the same values unescaped, each through meta_text on its way into YAML.

Local paths are reduced to their last part: a card is meant to be published, a home directory is
not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from judge.escape import md_text
from judge.models.refs import HUB_ID, display_name, model_label
from judge.records import Judgment
from judge.report import blocks
from judge.report.format import (
    VERDICT,
    headline,
    panel_rows,
    prompt_source,
    smoke_text,
    verdict_rows,
)
from judge.report.format import member_name as shown_name
from judge.runs.folder import RunFolder
from judge.runs.reader import RunData, read_run
from judge.runs.summary import PairwiseStats, Summary

TEXTS = ("model_name", "base", "tuned", "judge", "template", "base_hub_id", "prompts", "verdict",
         "smoke_test", "judge_version")


def card_context(run_dir: Path, plot_name: str | None, n_examples: int = 3) -> dict[str, Any]:
    """The card template's namespace: card_facts with every data text Markdown-escaped."""
    facts = card_facts(run_dir, plot_name, n_examples)
    escaped = {key: None if facts[key] is None else md_text(facts[key]) for key in TEXTS}
    return {**facts, **escaped,
            "members": {md_text(name): m for name, m in facts["members"].items()},
            "categories": [{**row, "category": md_text(row["category"])}
                           for row in facts["categories"]],
            "benchmarks": [{**row, "task": md_text(row["task"]), "metric": md_text(row["metric"])}
                           for row in facts["benchmarks"]],
            # an example's verdicts are judge's own words (order, winner, source): as they are
            "examples": [{**ex, "prompt_id": md_text(ex["prompt_id"])}
                         for ex in facts["examples"]]}


def card_facts(run_dir: Path, plot_name: str | None, n_examples: int = 3) -> dict[str, Any]:
    """What the card shows, as plain values (the front matter's source; card_context escapes)."""
    data = read_run(RunFolder(run_dir))
    summary, run = data.summary, data.run
    benchmarks = [{"task": task, **row.model_dump()} for task, row in summary.benchmarks.items()]
    base, tuned = (model_label(run.models[side]) for side in ("base", "tuned"))
    prompts = prompt_source(run)
    leading = dict(verdict_rows(summary))
    return {
        "model_name": tuned,
        "base": base,
        "tuned": tuned,
        "judge": judge_name(summary),
        "template": summary.template,
        "base_hub_id": base if HUB_ID.match(base) else None,
        "prompts": prompts,
        "n_prompts": run.n_prompts,
        "pairwise": summary.pairwise.model_dump(),
        "verdict": leading.get(VERDICT),
        "verdict_status": summary.verdict.status if summary.verdict else None,
        "smoke_test": smoke_sentence(summary),
        # the headline is for the table as it is: rows that carry names (data) come escaped
        "headline": [(k, md_text(v)) for k, v in verdict_rows(summary)
                     if k not in (VERDICT, "smoke-test judge")]
        + headline(summary.pairwise)
        + blocks.rows(summary)
        + [(md_text(k), md_text(v)) for k, v in panel_rows(
            summary.panel, summary.members, lambda label: member_name(summary, label))],
        "controls": summary.controls.model_dump() if summary.controls else None,
        "panel": summary.panel.model_dump() if summary.panel else None,
        "members": {member_name(summary, label): m.model_dump()
                    for label, m in summary.members.items()},
        "bias": summary.bias.model_dump() if summary.bias else None,
        "style_control": summary.style_control.model_dump() if summary.style_control else None,
        "categories": categories(summary.by_category),
        "verdict_sources": summary.verdict_sources,
        "benchmarks": benchmarks,
        "examples": examples(data, n_examples),
        "plot": plot_name,
        "judge_version": run.versions.get("judge"),
    }


def member_name(summary: Summary, label: str) -> str:
    """A panel member as a card names it: its model's display name and its template."""
    return shown_name(summary, label)


def smoke_sentence(summary: Summary) -> str | None:
    """The smoke-test note with the judges by their display names (labels may be local paths)."""
    if summary.verdict is None or not summary.verdict.smoke_test:
        return None
    return smoke_text([member_name(summary, label) for label in summary.verdict.smoke_test])


def judge_name(summary: Summary) -> str:
    if not summary.members:
        return display_name(summary.judge)
    return "a panel of " + ", ".join(member_name(summary, label) for label in summary.members)


def categories(by_category: dict[str, PairwiseStats | None]) -> list[dict[str, Any]]:
    rows = []
    for name, pw in by_category.items():
        numbers: dict[str, Any] = dict.fromkeys(
            ("win_rate", "low", "high", "n", "wins", "ties", "losses"))
        if pw is not None:
            numbers = {"win_rate": pw.win_rate, "low": pw.ci_bootstrap.low,
                       "high": pw.ci_bootstrap.high, "n": pw.n, "wins": pw.wins,
                       "ties": pw.ties, "losses": pw.losses}
        rows.append({"category": name, **numbers})
    return rows


def examples(data: RunData, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` prompts with both answers and their verdicts; differing answers first. A
    panel's examples show its first judge's verdicts."""
    if limit <= 0:
        return []
    verdicts: dict[str, list[Judgment]] = {}
    for j in data.judgments:
        verdicts.setdefault(j.prompt_id, []).append(j)
    prompts = {item.prompt_id: item.prompt for item in data.items}
    answers = data.answers
    order = sorted(verdicts, key=lambda pid: answers[pid][0] == answers[pid][1])  # stable
    return [
        {
            "prompt_id": pid, "prompt": prompts[pid],
            "base": answers[pid][0], "tuned": answers[pid][1],
            "verdicts": [{"order": j.order, "winner": j.winner, "source": j.source}
                         for j in verdicts[pid]],
        }
        for pid in order[:limit]
    ]
