"""What a run folder shows people, made from its data: report.md, winrate.png, report.html and
verdicts.csv (a leaderboard folder's leaderboard.md, .png and .html: judge/pipeline/leaderboard.py).

`judge compare` writes them at the end of every run from what it holds in memory; `judge report
FOLDER` (judge/api.py) writes them again from the folder alone, read by the one run reader
(judge/runs/reader.py), loading no model, for any run folder, old ones included.

Everything is rendered in memory first: a template that fails leaves every file as it was.
"""

from __future__ import annotations

from pathlib import Path

from judge.files import check_targets, write_atomic
from judge.report import blocks
from judge.report.evidence import prompt_views
from judge.report.export import verdicts_csv
from judge.report.format import plot_title, prompt_source, run_names
from judge.report.html import run_page
from judge.report.markdown import report_markdown
from judge.report.plots import plot_winrate
from judge.runs.folder import RunFolder
from judge.runs.lock import folder_lock
from judge.runs.reader import RunData, read_run


def render_views(folder: RunFolder, data: RunData, template: str | None) -> dict[Path, str]:
    """report.md, report.html and verdicts.csv as texts, written by nobody yet."""
    summary, run, items, answers, judgments = data
    views = prompt_views(items, answers, judgments)
    return {
        folder.html_file: run_page(summary, run, views, prompt_source(run), template),
        folder.report_file: report_markdown(summary, items, answers, judgments) + "\n",
        folder.csv_file: verdicts_csv(views),
    }


def write_views(folder: RunFolder, data: RunData, texts: dict[Path, str]) -> list[Path]:
    """The rendered texts and the win-rate plot, each replaced in one rename; a target that is a
    folder is refused before any of them is written."""
    own = blocks.plots(data.summary)
    plots = [folder.plot_file] + [folder.root / name for name, _, _ in own]
    check_targets([*texts, *plots])
    for path, text in texts.items():
        write_atomic(path, text)
    names = run_names(data.summary, data.run.models)
    pw = data.summary.pairwise
    plot_winrate(pw, plot_title(names["tuned"], names["base"], names["judge"],
                                names["template"], pw), folder.plot_file)
    for name, view, block in own:
        view.plot(block, names, folder.root / name)
    return [*texts, *plots]


def rewrite_run(root: Path, template: str | None = None) -> list[Path]:
    """Every view of one run folder, again; the files written, report.html first. The folder is
    locked while they are (a run writing it at the same time is refused, or refuses this)."""
    folder = RunFolder(root)
    data = read_run(folder)
    texts = render_views(folder, data, template)
    with folder_lock(root, "run folder"):
        return write_views(folder, data, texts)
