"""What one tracker run holds, the same for every tracker: numbers, settings, verdicts in words,
tables and plots. Model text (prompts, answers, judge replies) only ever sits in table cells, as
data: each tracker writes it as its own table type, or escaped (TensorBoard's Markdown).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

from judge.records import Record

Kind = Literal["compare", "leaderboard", "sweep", "trial"]
Cell = str | int | float | bool | None
# what every tracker accepts in a metric name (MLflow is the strictest: no `:` `,` `@` ...)
UNSAFE_KEY = re.compile(r"[^A-Za-z0-9_.\- /]")


class Table(Record):
    columns: list[str]
    rows: list[list[Cell]]


class TrackedRun(Record):
    name: str  # the folder's name (a sweep's trial: the trial's name)
    kind: Kind
    group: str | None = None  # a sweep's trials: the sweep's name
    tags: list[str] = []
    params: dict[str, Cell] = {}  # the settings: W&B config, MLflow params
    notes: dict[str, str] = {}  # verdicts in words: W&B summary, MLflow tags, TensorBoard text
    metrics: dict[str, float] = {}  # at step 0
    tables: dict[str, Table] = {}
    images: dict[str, str] = {}  # name -> PNG file
    children: list[TrackedRun] = []  # a sweep's trials, each a run of its own


def key_part(name: str) -> str:
    """A name from data (a category, a model) as one part of a metric name."""
    return UNSAFE_KEY.sub("_", name).replace("/", "_").strip() or "_"


def numbers(prefix: str, values: Mapping[str, object]) -> dict[str, float]:
    """`prefix/name` for every value that is a finite number (None and text left out)."""
    out: dict[str, float] = {}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if value == value and abs(value) != float("inf"):
            out[f"{prefix}/{name}" if prefix else name] = float(value)
    return out


def interval(prefix: str, rate: float | None, low: float | None,
             high: float | None) -> dict[str, float]:
    """A rate with its interval: prefix, prefix_low, prefix_high."""
    return numbers("", {prefix: rate, f"{prefix}_low": low, f"{prefix}_high": high})
