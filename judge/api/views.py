"""A folder's views again, from the folder alone (`judge report FOLDER`, `judge.report`).

    from judge.api.views import regenerate
    regenerate(Path("results/base-vs-tuned"))   # report.html .md, winrate.png, verdicts.csv again

`regenerate` is `judge report FOLDER`: it tells a run folder, a leaderboard folder and a sweep
folder apart by the record each holds, and rewrites that folder's views from the folder alone
(no model is loaded). It lives here, above pipeline/, because it reaches every kind of folder;
it imports neither judge.sweep nor judge.train, so `judge report` loads no training library.
"""

from __future__ import annotations

from pathlib import Path

from judge.errors import InputError
from judge.pipeline.export import check_export, write_board, write_run
from judge.pipeline.leaderboard import read_board, rewrite_board
from judge.report.sweep import write_sweep_views
from judge.report.views import rewrite_run
from judge.runs.boards import SweepFolder
from judge.runs.folder import RunFolder, read_json
from judge.runs.reader import read_run
from judge.stats.sweep import read_sweep


def regenerate(root: Path, page_template: str | None = None,
               board_template: str | None = None) -> list[Path]:
    """A run folder's views, or a leaderboard folder's and every one of its run folders', or a
    sweep's and its leaderboard's. The files written, the page to open first."""
    if (root / "sweep.json").is_file():
        return rewrite_sweep(root, page_template, board_template)
    if (root / "leaderboard.json").is_file():
        return rewrite_board(root, page_template, board_template)
    if not RunFolder(root).summary_file.is_file():
        raise InputError(f"{root} is neither a run folder (it has no summary.json) nor a "
                         "leaderboard folder (no leaderboard.json) nor a sweep (no sweep.json)")
    return rewrite_run(root, page_template)


def export_folder(root: Path, fmt: str) -> list[Path]:
    """`judge report FOLDER --export FMT`: a run folder's or a leaderboard folder's files."""
    check_export(root, fmt)
    if (root / "leaderboard.json").is_file():
        return write_board(root, read_board(root))
    folder = RunFolder(root)
    return write_run(folder, read_run(folder))


def rewrite_sweep(root: Path, page_template: str | None = None,
                  board_template: str | None = None) -> list[Path]:
    """`judge report SWEEP`: sweep.md and sweep.png from sweep.json, and the views of its
    leaderboard and of every trial's run folder; loads no model. The files written, the
    leaderboard's page (the one to open) first."""
    folder = SweepFolder(root)
    sweep = read_sweep(read_json(folder.json_file), str(folder.json_file))
    written = []
    if (folder.leaderboard / "leaderboard.json").is_file():
        written = rewrite_board(folder.leaderboard, page_template, board_template)
    write_sweep_views(folder, sweep)  # sweep.json is the data: read, not written
    return [*written, folder.md_file, *([folder.plot_file] if folder.plot_file.is_file() else [])]
