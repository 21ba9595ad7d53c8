"""report.html and leaderboard.html: one file each that works offline, for people to look at.

The pages are rendered from Jinja2 templates (judge/report/templates/; `--report-template` and
`--leaderboard-template` swap in your own, which may `{% extends "report.html.j2" %}` and override
its blocks) in a sandbox, with autoescape on and StrictUndefined. Model text is data: escaped, and
only a safe subset of Markdown is applied to it after that (judge/report/markup.py). The page's one
script is ours, inline, and allowed by its hash in the page's Content-Security-Policy, which also
forbids every load from anywhere: a page that makes no request by construction.

Names a run page's template gets:

    title, names          "TUNED vs BASE"; {base, tuned, judge, template} display names
    prompts, n_prompts    the prompt set's name and how many prompts the run judged
    judge_version         the judge version that ran
    summary               summary.json as a mapping (every block of it)
    key                   {field: value} of the headline numbers (pairwise keys; ci_low, ci_high,
                          bootstrap_low, bootstrap_high)
    headline, diagnostics [(measure, value)] rows as the terminal and report.md show them
                          (diagnostics: every registered block view's rows)
    warnings              every warning of the run (pairwise and bias)
    categories, benchmarks  [(name, value)] rows per category and per benchmark task
    timing                [{stage, seconds, tokens, tokens_per_second}]
    verdict_sources       {text|logprob|skipped|none: count}
    verdict               {status, text, smoke} or None: the verdict on the judge (passed,
                          inconclusive, unchecked), its sentence, the smoke-test note or None
    controls              [(measure, value)] rows of the control pairs, [] without them
    panel                 [(measure, value)] rows of a panel's agreement and members, [] for one
                          judge
    sections              {block: data} of every registered block view whose block the run has
                          (judge/report/blocks.py): its own data, or {title, header, rows} of
                          its table; the shipped page draws each of the latter as a table
    mt_bench              sections' mt_bench: per-turn grading's table and bars
                          (judge/report/mt_bench.py), or None
    other_blocks          {name: block}: summary.json blocks the page has no section of its own
                          for (ratings, graded, blocks no view shows whole), shown as they are
    plot                  {title, rates: [{label, rate, low, high, level, method, degenerate}],
                          note, axis, caption}: the win-rate plot (judge/report/format.py)
    views                 [PromptView as a mapping] (judge/report/evidence.py), every prompt
    category_names        the categories the prompts have, sorted
    outcomes              {tuned, tie, base, invalid: number of prompts}
    notes                 [text]: things the reader must know about the page itself
    script, csp           the page's script and Content-Security-Policy (put both in the page)

A leaderboard page's: title, board (leaderboard.json as a mapping), judge, convention (the sentence
of leaderboard.md), columns and rows (the standings as leaderboard.md has them, each row with its
`name` and `folder`), reference_row, categories ({name, cells}), plot, timing, script, csp.
Filters both get: pct, markdown (model text as safe HTML), num, source (a verdict source in words).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from judge import sandbox
from judge.errors import InputError
from judge.files import read_text
from judge.models.refs import display_name
from judge.report import blocks
from judge.report.evidence import PromptView, disagreement, outcome_counts
from judge.report.format import (
    DEGENERATE_NOTE,
    bench_rows,
    category_rows,
    control_text,
    headline,
    member_name,
    panel_rows,
    plot_title,
    run_names,
    smoke_text,
    verdict_text,
    winrate_rates,
    zero_width,
)
from judge.report.leaderboard import (
    board_title,
    category_table,
    cells,
    columns,
    convention,
    reference_cells,
)
from judge.report.markup import markdown_html
from judge.resources import resource
from judge.runs.folder import RunRecord
from judge.runs.summary import PairwiseStats, Summary
from judge.sandbox import TEMPLATE_BYTES, BoundedSandbox, TemplateFailure
from judge.stats.leaderboard import Leaderboard

TEMPLATES = resource("judge.report", "templates")
RUN_PAGE, BOARD_PAGE = "report.html.j2", "leaderboard.html.j2"
# the blocks the page has sections of its own for; a block view (judge/report/blocks.py) that
# shows its whole block adds its own
SHOWN = {"schema", "base", "tuned", "judge", "template", "pairwise", "by_category",
         "verdict_sources", "benchmarks", "timing", "verdict", "controls", "panel", "members"}
SOURCES = {"text": "text", "logprob": "log-prob", "skipped": "skipped (identical answers)",
           "none": "none (nothing could be read)"}


def percent(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def num(value: Any, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def environment() -> Any:
    """judge's one bounded sandbox (judge/sandbox.py), loading the shipped pages for `extends`."""
    import jinja2


    env = BoundedSandbox(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                         trim_blocks=True, lstrip_blocks=True)
    env.add_filters(pct=percent, markdown=markdown_html, num=num,
                    source=lambda s: SOURCES.get(s, s))
    return env


def page_template(path: str | None, default: str) -> Any:
    """The shipped template, or the user's file, compiled; a missing or broken file is bad input
    (checked before a run starts)."""
    env = environment()
    if path is None:
        return env.get_template(default)
    file = Path(path)
    try:
        return env.compile_source(read_text(file, "report template", TEMPLATE_BYTES))
    except TemplateFailure as err:
        raise InputError(f"report template {file}: {err}") from None


def render(path: str | None, default: str, namespace: dict[str, Any]) -> str:
    from markupsafe import Markup


    script = (TEMPLATES / "page.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    csp = (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; "
           "base-uri 'none'; form-action 'none'")
    template = page_template(path, default)
    try:
        return sandbox.render(template, {**namespace, "script": Markup(script), "csp": csp})
    except sandbox.TemplateFailure as err:
        raise InputError(f"report template {path or default}: {err}") from None


def plot(pw: PairwiseStats, title: str) -> dict[str, Any]:
    rates = [r._asdict() | {"degenerate": r.degenerate} for r in winrate_rates(pw)]
    caption = "; ".join(f"{r['label']}: {r['method']}" for r in rates) + "."
    return {"title": title, "rates": rates, "note": DEGENERATE_NOTE, "caption": caption,
            "axis": "tuned model's win rate against the base  (dashed: no difference)"}


def judge_check(summary: Summary) -> dict[str, Any]:
    """The verdict on the judge, its control pairs and a panel's agreement, for the page."""
    found: dict[str, Any] = {"verdict": None, "controls": [], "panel": []}
    v = summary.verdict
    if v is not None:
        smoke = [member_name(summary, label) for label in v.smoke_test]
        found["verdict"] = {"status": v.status,
                            "text": verdict_text(v, "the panel" if summary.panel else "the judge"),
                            "smoke": smoke_text(smoke) if smoke else None}
    c = summary.controls
    if c is not None:
        found["controls"] = [("control pairs", control_text(c))] + [
            (f"{kind}", f"{percent(k.accuracy)} for the real answer of {k.n} pairs")
            for kind, k in c.by_kind.items() if k.n]
    found["panel"] = panel_rows(summary.panel, summary.members,
                                lambda label: member_name(summary, label))
    return found


def run_page(
    summary: Summary, run: RunRecord, views: Sequence[PromptView], prompts: str,
    template: str | None = None,
) -> str:
    """report.html of one run (`run` is its run.json; `prompts` the prompt set's name)."""
    names = run_names(summary, run.models)
    pw, data = summary.pairwise, summary.as_json()
    key = pw.model_dump(exclude={"ci", "ci_bootstrap", "lc_model", "warnings"}) | {
        "ci_low": pw.ci.low, "ci_high": pw.ci.high, "bootstrap_low": pw.ci_bootstrap.low,
        "bootstrap_high": pw.ci_bootstrap.high}
    note = disagreement(views, pw)
    rows = blocks.rows(summary)
    sections = blocks.html(summary, names)
    shown = SHOWN | blocks.whole(summary)
    return render(template, RUN_PAGE, {
        "title": f"{names['tuned']} vs {names['base']}", "names": names, "prompts": prompts,
        "n_prompts": run.n_prompts, "judge_version": run.versions.get("judge", "unknown"),
        "summary": data, "key": key, "headline": headline(pw),
        "diagnostics": rows,
        "measures": [row for row in headline(pw) + rows if row[0] != "warning"],
        "warnings": pw.warnings + [value for name, value in rows if name == "warning"],
        "categories": category_rows(summary.by_category),
        "benchmarks": bench_rows(summary.benchmarks),
        "timing": [{"stage": stage, **t.model_dump()} for stage, t in summary.timing.items()],
        "verdict_sources": summary.verdict_sources,
        "other_blocks": {k: v for k, v in data.items() if k not in shown},
        "plot": plot(pw, plot_title(names["tuned"], names["base"], names["judge"],
                                    names["template"], pw)),
        "views": [v.model_dump() | {"judgments": [dict(j) for j in v.judgments]} for v in views],
        "category_names": sorted({v.category for v in views if v.category is not None}),
        "outcomes": outcome_counts(views), "notes": [note] if note else [],
        "sections": sections, "mt_bench": sections.get("mt_bench"),
        **judge_check(summary),
    })


def leaderboard_page(board: Leaderboard, template: str | None = None) -> str:
    """leaderboard.html."""
    names, cells_by_model = category_table(board)
    level = board.bradley_terry["ci"]["level"]
    rates = [{"label": s.name, "rate": s.bradley_terry.win_rate, "low": s.bradley_terry.low,
              "high": s.bradley_terry.high, "level": level, "method": "Bradley–Terry",
              "degenerate": zero_width(s.bradley_terry.low, s.bradley_terry.high)}
             for s in board.standings if s.bradley_terry is not None]
    return render(template, BOARD_PAGE, {
        "title": f"Leaderboard vs {board.reference}", "board": board.as_json(),
        "judge": display_name(board.judge), "convention": convention(board),
        "columns": columns(board),
        "rows": [{"cells": cells(s), "name": s.name, "folder": s.folder}
                 for s in board.standings],
        "reference_row": reference_cells(board),
        "categories": {"names": names, "rows": [
            {"name": s.name, "cells": row}
            for s, row in zip(board.standings, cells_by_model, strict=True)]},
        "plot": {"title": board_title(board), "rates": rates, "note": DEGENERATE_NOTE,
                 "axis": f"win rate against {board.reference}  (dashed: as good)",
                 "caption": "Bradley–Terry win rates, fitted over every model's verdicts, with "
                            "prompt bootstrap intervals."},
        "timing": [{"stage": stage, **t.model_dump()} for stage, t in board.timing.items()],
    })
