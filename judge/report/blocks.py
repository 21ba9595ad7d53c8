"""Every registered block view (judge/report/blockview.py), as the writers use them: the terminal
table, report.md, report.html and the card iterate these and name no block themselves.

A new block's views: a module with its `@register`ed BlockView, imported below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from judge.report import diagnostics, mt_bench
from judge.report.blockview import VIEWS, BlockView, Rows
from judge.report.grid import Grid
from judge.runs.summary import Summary

BUILT_IN = (diagnostics, mt_bench)  # the modules whose views register on import


def present(get: Callable[[str], Any]) -> Iterator[tuple[BlockView, Any]]:
    """(view, block) for every registered view whose block is there, in registration order."""
    for view in VIEWS:
        block = get(view.name)
        if block is not None:
            yield view, block


def of(summary: Summary) -> Iterator[tuple[BlockView, Any]]:
    return present(lambda name: getattr(summary, name, None))


def rows(summary: Summary) -> Rows:
    """The rows every view's measures table shows after the headline."""
    return [row for view, block in of(summary) for row in view.rows(block)]


def block_rows(blocks: Mapping[str, Any]) -> Rows:
    """The same rows from a mapping of blocks (`judge stats`)."""
    return [row for view, block in present(blocks.get) for row in view.rows(block)]


def grids(summary: Summary) -> list[Grid]:
    """The tables of their own the terminal prints after the summary table."""
    return [grid for view, block in of(summary) if (grid := view.grid(block)) is not None]


def markdown(summary: Summary, names: Mapping[str, str],
             escape: Callable[[str], str]) -> list[str]:
    """report.md's sections: a view's own, or its grid as a table (every cell escaped)."""
    lines: list[str] = []
    for view, block in of(summary):
        own = view.markdown(block, names, escape)
        grid = view.grid(block) if own is None else None
        if own is not None:
            lines += own
        elif grid is not None:
            lines += [f"## {escape(grid.title)}", "",
                      "| " + " | ".join(escape(c) for c in grid.columns) + " |",
                      "|" + "---|" * len(grid.columns),
                      *["| " + " | ".join(escape(c) for c in row) + " |" for row in grid.rows],
                      ""]
    return lines


def html(summary: Summary, names: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """report.html's sections by block name: a view's own data, or its grid's {title, header,
    rows} (the shipped template draws those as a table)."""
    sections: dict[str, dict[str, Any]] = {}
    for view, block in of(summary):
        own = view.html(block, names)
        grid = view.grid(block) if own is None else None
        if own is not None:
            sections[view.name] = own
        elif grid is not None:
            sections[view.name] = {"title": grid.title, "header": grid.columns,
                                   "rows": grid.rows}
    return sections


def whole(summary: Summary) -> set[str]:
    """The blocks whose views show every number of them."""
    return {view.name for view, _ in of(summary) if view.whole}


def plots(summary: Summary) -> list[tuple[str, BlockView, Any]]:
    """(file name, view, block) of every plot of a block of the run, beside winrate.png."""
    return [(view.plot_name, view, block) for view, block in of(summary) if view.plot_name]
