"""Numbers for other tools: the per-prompt CSV of a run folder (verdicts.csv), and `--format csv`
and `--format markdown` of `judge stats` and `judge agreement`.

CSV is for spreadsheets and scripts: plain numbers, one field per cell (csv module quoting), and
every text cell through csv_cell (judge/escape.py), so a prompt id or category that starts like a
formula stays text. The Markdown table is the terminal table for pasting into a pull request or
an issue, every cell escaped (md_text) so that data (a category name, a model name) can neither
break the table nor add markup.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from judge.escape import csv_cell, md_text
from judge.report.evidence import PromptView

VERDICT_COLUMNS = ["prompt_id", "category", "base_chars", "tuned_chars", "base_first_verdict",
                   "tuned_first_verdict", "base_first_source", "tuned_first_source",
                   "rating_base", "rating_tuned", "score", "outcome", "split"]


def csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_cell(cell) for cell in header])
    writer.writerows([["" if cell is None else csv_cell(cell) for cell in row] for row in rows])
    return buffer.getvalue()


def verdict_rows(views: Sequence[PromptView]) -> list[list[Any]]:
    """One row per prompt, in VERDICT_COLUMNS: its id and category, both answers' lengths in
    characters, the winner each order's line gave and where it was read from (pointwise: both
    ratings), the prompt's score for the tuned model, its outcome and whether the orders
    disagreed."""
    rows = []
    for v in views:
        by_order = {j.order: j for j in v.judgments}
        first, second = by_order.get("base_first"), by_order.get("tuned_first")
        rated = by_order.get(None)
        rows.append([
            v.prompt_id, v.category, len(v.base), len(v.tuned),
            first and first.winner, second and second.winner,
            first and first.source, second and second.source,
            rated and rated.rating_base, rated and rated.rating_tuned,
            v.score, v.outcome, int(v.split),
        ])
    return rows


def verdicts_csv(views: Sequence[PromptView]) -> str:
    """verdicts.csv: verdict_rows under their header."""
    return csv_text(VERDICT_COLUMNS, verdict_rows(views))


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted.name, value) for every leaf of a JSON-like value; list items by index."""
    if isinstance(value, Mapping):
        items: list[tuple[str, Any]] = []
        for key, item in value.items():
            items += flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return items
    if isinstance(value, list | tuple):
        return [pair for i, item in enumerate(value) for pair in flatten(item, f"{prefix}.{i}")]
    return [(prefix, value)]


def fields_csv(data: Mapping[str, Any]) -> str:
    """A long table, one number per row: `field,value` (e.g. `ci.low,0.31`)."""
    return csv_text(["field", "value"], flatten(data))


def records_csv(records: Mapping[str, Mapping[str, Any]], key: str) -> str:
    """A wide table, one row per record (a model), its fields flattened into columns."""
    flat = {name: dict(flatten(record)) for name, record in records.items()}
    columns = list(dict.fromkeys(c for record in flat.values() for c in record))
    return csv_text([key, *columns], [[name, *(r.get(c) for c in columns)]
                                      for name, r in flat.items()])


def markdown_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = [f"**{md_text(title)}**", "",
             "| " + " | ".join(md_text(c) for c in columns) + " |",
             "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(md_text(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
