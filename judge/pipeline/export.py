"""Files other tools read, written from a run's own records: `--export alpaca_eval` on compare
and leaderboard, and `judge report FOLDER --export alpaca_eval` for a folder already there.

    <run>/alpaca_eval/annotations.json   alpaca_eval's annotations (judge/report/alpaca_eval.py)
    <run>/alpaca_eval/leaderboard.csv    its leaderboard table: this run's model, one row
    <leaderboard>/alpaca_eval/leaderboard.csv   every model of a leaderboard, one row each
                                                (each model's annotations in its run folder)

The files follow the run's views: a panel's annotations are its first judge's verdicts.
"""

from __future__ import annotations

from pathlib import Path

from judge.errors import InputError
from judge.files import check_targets, write_atomic
from judge.report.alpaca_eval import (
    annotation_records,
    annotations_json,
    leaderboard_csv,
    leaderboard_row,
)
from judge.report.format import run_names
from judge.runs.folder import RunFolder
from judge.runs.reader import RunData, read_run
from judge.stats.leaderboard import Leaderboard

FORMATS = ("alpaca_eval",)
FOLDER = "alpaca_eval"


def run_exports(folder: RunFolder, data: RunData) -> tuple[list[dict], str]:
    """(annotations, the tuned model's name) of one run."""
    names = run_names(data.summary, data.run.models)
    return annotation_records(data.items, data.answers, data.judgments, names), names["tuned"]


def write_run(folder: RunFolder, data: RunData) -> list[Path]:
    """annotations.json and a one-row leaderboard.csv into the run folder's alpaca_eval/."""
    target = folder.root / FOLDER
    files = [target / "annotations.json", target / "leaderboard.csv"]
    check_targets(files)
    records, name = run_exports(folder, data)
    write_atomic(files[0], annotations_json(records))
    write_atomic(files[1], leaderboard_csv({name: leaderboard_row(records)}))
    return files


def write_board(root: Path, board: Leaderboard) -> list[Path]:
    """Every model's run folder's files, and the leaderboard's leaderboard.csv of them all."""
    table = root / FOLDER / "leaderboard.csv"
    check_targets([table])
    written, rows = [], {}
    for standing in board.standings:
        folder = RunFolder(root / standing.folder)
        data = read_run(folder)
        written += write_run(folder, data)
        records, _ = run_exports(folder, data)
        rows[standing.name] = leaderboard_row(records)
    write_atomic(table, leaderboard_csv(rows))
    return [table, *written]


def check_export(root: Path, fmt: str) -> None:
    """Before anything is written: a known format, and a folder it can be written for."""
    if fmt not in FORMATS:
        raise InputError(f"--export {fmt}: no such format (known: {', '.join(FORMATS)})")
    if not (root / "leaderboard.json").is_file() and not RunFolder(root).summary_file.is_file():
        raise InputError(f"--export {fmt}: {root} is neither a run folder (no summary.json) nor "
                         "a leaderboard folder (no leaderboard.json)")

