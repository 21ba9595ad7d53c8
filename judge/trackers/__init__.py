"""Experiment trackers: what a compare, a leaderboard or a sweep left in its folder, logged to W&B,
MLflow or TensorBoard (`--report-to`, the names trl uses).

    settings = TrackerSettings(report_to=["tensorboard"], folder="results/run/trackers")
    log_folder("compare", Path("results/run"), settings)

One protocol, Tracker, with one method; one module per tracker, importing its library only when
chosen (judge/trackers/*_tracker.py). What is logged is built once from the folder's own records
(judge/trackers/content.py), so every tracker logs the same numbers as summary.json. Nothing here
reads the environment: the CLI resolves the folder, project and MLflow store (the libraries still
read their own variables, such as WANDB_MODE and WANDB_API_KEY, inside themselves).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Literal, NamedTuple, Protocol, get_args

from judge.errors import InputError, ServiceError, first_line
from judge.records import Record
from judge.trackers.content import folder_run
from judge.trackers.records import Kind, TrackedRun

TrackerName = Literal["wandb", "mlflow", "tensorboard"]
NAMES: tuple[str, ...] = get_args(TrackerName)
EXTRA = "pip install 'judge[trackers]'"


class TrackerSettings(Record):
    report_to: list[TrackerName] = []
    folder: str  # local files: TensorBoard's event files, W&B's run files (offline or not)
    project: str = "judge"  # the W&B project and the MLflow experiment
    mlflow_uri: str  # the MLflow tracking store (a sqlite file in `folder` unless told)
    mlflow_artifacts: str | None = None  # where a new MLflow experiment keeps artifacts


class Tracker(Protocol):
    def log(self, run: TrackedRun) -> None:
        """Log one run, and each of its children as a run of its own under it."""


class Backend(NamedTuple):
    module: str
    cls: str
    library: str  # what must import for it to work


BACKENDS: dict[str, Backend] = {
    "wandb": Backend("judge.trackers.wandb_tracker", "WandbTracker", "wandb"),
    "mlflow": Backend("judge.trackers.mlflow_tracker", "MlflowTracker", "mlflow"),
    "tensorboard": Backend("judge.trackers.tensorboard_tracker", "TensorBoardTracker",
                           "tensorboard"),
}


def parse_report_to(text: str) -> list[TrackerName]:
    """`--report-to`: a comma list of tracker names, `all`, or `none` (the default)."""
    given = [name.strip().lower() for name in text.split(",") if name.strip()]
    if given in ([], ["none"]):
        return []
    if given == ["all"]:
        return list(NAMES)  # type: ignore[arg-type]
    unknown = [name for name in given if name not in NAMES]
    if unknown:
        raise InputError(f"--report-to {unknown[0]}: not a tracker; choose from "
                         f"{', '.join(NAMES)}, all or none")
    return list(dict.fromkeys(given))  # type: ignore[arg-type]


def check_installed(names: list[TrackerName]) -> None:
    """Each chosen tracker's library imports, or one line naming the extra that installs it."""
    for name in names:
        library = BACKENDS[name].library
        try:
            importlib.import_module(library)
        except ImportError:
            raise InputError(f"--report-to {name} needs the {library} package: "
                             f"{EXTRA}") from None


def open_tracker(name: TrackerName, settings: TrackerSettings) -> Tracker:
    backend = BACKENDS[name]
    tracker: Tracker = getattr(importlib.import_module(backend.module), backend.cls)(settings)
    return tracker


def log_run(run: TrackedRun, settings: TrackerSettings) -> None:
    """Log `run` to every chosen tracker. A tracker that fails (a server that does not answer,
    W&B without a login) does not stop the others; then one ServiceError names the first that
    failed. The folder's results are saved before any tracker is asked."""
    Path(settings.folder).mkdir(parents=True, exist_ok=True)
    failed: list[tuple[str, Exception]] = []
    for name in settings.report_to:
        try:
            open_tracker(name, settings).log(run)
        except Exception as err:  # a third-party library's failure, whatever its type
            failed.append((name, err))
    if failed:
        first, cause = failed[0]
        others = f"; {', '.join(n for n, _ in failed[1:])} failed too" if failed[1:] else ""
        raise ServiceError(f"--report-to {first}: {first_line(cause)}{others} (the results are "
                           "saved; rerun to log them again)") from cause


def log_folder(kind: Kind, root: Path, settings: TrackerSettings) -> TrackedRun | None:
    """Log what a compare, leaderboard or sweep folder holds; the run logged (None: no tracker)."""
    if not settings.report_to:
        return None
    run = folder_run(kind, root)
    log_run(run, settings)
    return run
