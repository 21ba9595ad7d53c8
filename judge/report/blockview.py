"""The seam between a summary.json block and the views that show it.

A statistic or verdict kind that adds a block to summary.json (judge/runs/summary.py) declares how
every view shows it in one `BlockView`, in its own module, and registers it with `@register`;
judge/report/blocks.py imports the module (the one line a new view adds there) and hands the
registered views, in the order they were registered, to every writer: the terminal table
(report/tables.py), report.md (report/markdown.py), report.html (report/html.py and its
template) and the card (card/context.py). None of them names a block.

What a view may declare (each optional but `name`):

    name       the Summary field it reads; a view is shown only where that block is there
    rows       [(measure, value)] rows of the shared measures table (all four views; the
               `judge stats` table too). A row named "warning" is a warning: report.html shows
               it with the run's other warnings. Values are shown as they are in report.md's
               table: escape data (names) in them with md_text, as the built-in rows need not.
    grid       a table of its own (judge/report/grid.py), printed after the summary table; by
               default also report.md's and report.html's section of it
    markdown   report.md's section, when it is more than the grid (conventions, a plot)
    html       report.html's section as data for the template, when it is more than the grid
    plot_name, plot   a PNG of its own beside winrate.png
    whole      False when report.html does not show every number of the block: it then also
               lists the block as it is, among the blocks it has no section for
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

from judge.report.grid import Grid

Rows = list[tuple[str, str]]


class BlockView(Protocol):
    """How every view shows one summary block. Subclass it and override what the block has."""

    name: str
    whole: bool = True
    plot_name: str | None = None

    def rows(self, block: Any) -> Rows:
        return []

    def grid(self, block: Any) -> Grid | None:
        return None

    def markdown(self, block: Any, names: Mapping[str, str],
                 escape: Callable[[str], str]) -> list[str] | None:
        """report.md's lines for the block; None: its grid's (if any)."""
        return None

    def html(self, block: Any, names: Mapping[str, str]) -> dict[str, Any] | None:
        """report.html's data for the block; None: its grid's (if any)."""
        return None

    def plot(self, block: Any, names: Mapping[str, str], path: Path) -> None:
        return None


VIEWS: list[BlockView] = []
V = TypeVar("V", bound=type[BlockView])


def register(cls: V) -> V:
    """Class decorator: one instance of the view joins the registry, after those before it."""
    if not any(type(view) is cls for view in VIEWS):
        VIEWS.append(cls())
    return cls


def unregister(cls: type[BlockView]) -> None:
    """Take a view out of the registry again (one registered for a while, as a test does)."""
    VIEWS[:] = [view for view in VIEWS if type(view) is not cls]
