"""A table as text cells, the one shape every writer can show (terminal, Markdown, HTML)."""

from __future__ import annotations

from typing import NamedTuple


class Grid(NamedTuple):
    """A table as text cells, for the terminal (rich), Markdown or anything else: `judge stats`
    and `judge agreement` print one in the format asked for, and a block view's own table is one
    (judge/report/blockview.py). `header` False: a two-column table of (measure, value) rows,
    shown without its header in the terminal."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    header: bool = True
