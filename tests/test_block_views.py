"""A block's views come from its registered BlockView: a view registered here, in this process,
shows its rows and its own table in the terminal, report.md, report.html and the card, with no
writer touched (judge/report/blockview.py, judge/report/blocks.py)."""

from __future__ import annotations

import pytest
from rich.console import Console
from scenes import make_run

from judge.card.context import card_context
from judge.card.write import render_section
from judge.report import blocks
from judge.report.blockview import BlockView, Rows, register, unregister
from judge.report.grid import Grid
from judge.report.tables import rich_table, summary_table
from judge.report.views import render_views
from judge.runs.folder import RunFolder
from judge.runs.reader import read_run
from judge.runs.summary import PairwiseStats

# make_run's verdicts per prompt (scenes.CARD_WINNERS): p1, p4, p5 tuned; p0, p2 split (ties);
# p3 base; p5's second line is invalid, its one valid verdict decides it
ROW = ("throwaway measure", "6 prompts: 3 won, 2 tied, 1 lost")


class Throwaway(BlockView):
    """Reads the `pairwise` block every run has; its table carries data that needs escaping."""

    name = "pairwise"
    whole = True

    def rows(self, block: PairwiseStats) -> Rows:
        return [(ROW[0], f"{block.n} prompts: {block.wins} won, {block.ties} tied, "
                         f"{block.losses} lost")]

    def grid(self, block: PairwiseStats) -> Grid:
        return Grid("Throwaway table", ["what", "value"],
                    [["invalid lines", str(block.n_invalid)], ["<b>odd</b> | *name*", "x"]])


@pytest.fixture
def registered():
    register(Throwaway)
    try:
        yield
    finally:
        unregister(Throwaway)
    assert not any(isinstance(view, Throwaway) for view in blocks.VIEWS)


def views(root):
    folder = RunFolder(root)
    data = read_run(folder)
    texts = {path.name: text for path, text in render_views(folder, data, None).items()}
    console = Console(record=True, width=250, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(summary_table(data.summary))
    for grid in blocks.grids(data.summary):  # what `judge compare` prints after the table
        console.print(rich_table(grid))
    texts["terminal"] = console.export_text()
    texts["card"] = render_section(card_context(root, "winrate.png"), None)
    return texts


def test_a_registered_view_shows_in_all_four_views(tmp_path, registered):
    out = views(make_run(tmp_path))
    terminal, md, html, card = out["terminal"], out["report.md"], out["report.html"], out["card"]
    assert f"│ {ROW[0]}" in terminal and ROW[1] in terminal
    assert "Throwaway table" in terminal and "<b>odd</b> | *name*" in terminal
    assert f"| {ROW[0]} | {ROW[1]} |" in md.splitlines()
    assert "## Throwaway table" in md and "| invalid lines | 1 |" in md
    assert "&lt;b&gt;odd&lt;/b&gt; \\| \\*name\\*" in md and "<b>odd" not in md
    assert f"<th>{ROW[0]}</th><td>{ROW[1]}</td>" in " ".join(html.split()).replace("> <", "><")
    assert '<section id="block-pairwise">' in html and "<h2>Throwaway table</h2>" in html
    assert "&lt;b&gt;odd&lt;/b&gt;" in html and "<b>odd" not in html
    assert f"| {ROW[0]} | {ROW[1]} |" in card


def test_without_it_no_view_shows_it(tmp_path):
    out = views(make_run(tmp_path))
    assert not any(ROW[0] in text or "Throwaway" in text for text in out.values())
