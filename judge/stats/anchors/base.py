"""What an anchor reader hands on: a file's lines in judge's own shape, and what else it knows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class StatsFile:
    """A file `judge stats` reads, translated.

    `rows` are lines in the shapes docs/reference/statistics.md's "Input formats" lists (what
    lines.py checks);
    `texts` maps a prompt id to its (base, tuned) answers where the file has them, for the
    statistics that read the answers themselves (list bias, markdown style).
    """

    format: str
    kind: Literal["pairwise", "models", "ratings", "mt_bench"]
    rows: list[dict[str, Any]]
    texts: dict[str, tuple[str, str]] | None = None
