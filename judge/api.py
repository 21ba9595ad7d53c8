"""What a notebook or a script calls: the floor right under the CLI (see
docs/reference/architecture.md).

    from judge.api import regenerate
    regenerate(Path("results/base-vs-tuned"))   # report.html .md, winrate.png, verdicts.csv again

`regenerate` is `judge report FOLDER`: it tells a run folder, a leaderboard folder and a sweep
folder apart by the record each holds, and rewrites that folder's views from the folder alone
(no model is loaded). It lives here, above pipeline/ and sweep/, because it reaches all three.
"""

from __future__ import annotations

from pathlib import Path

from judge.errors import InputError
from judge.pipeline.leaderboard import rewrite_board
from judge.report.views import rewrite_run
from judge.runs.folder import RunFolder
from judge.sweep.run import rewrite_sweep


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
