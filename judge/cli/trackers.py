"""`--report-to wandb,mlflow,tensorboard` on compare, leaderboard and sweep: the options, and the
hook each command calls once its folder is written (judge/trackers/ does the logging).

    judge compare BASE TUNED --report-to tensorboard
    WANDB_MODE=offline judge sweep --recipe R --grid learning_rate=1e-5,2e-5 --report-to wandb

The options are parsed into the click context (not the command's arguments), so a command takes
them with one decorator and one call at its end. This is where the trackers' environment is read:
MLFLOW_TRACKING_URI (else a sqlite store in the trackers folder), WANDB_PROJECT and
MLFLOW_EXPERIMENT_NAME (else `judge`) for the project; W&B reads its own (WANDB_MODE,
WANDB_API_KEY) inside itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from judge.cli.common import err_console
from judge.escape import term_text
from judge.trackers import TrackerSettings, check_installed, log_folder, parse_report_to

if TYPE_CHECKING:
    from judge.trackers.records import Kind

META = "judge.trackers"


def keep(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Store an option in the context; --report-to is checked now, before any work: an unknown
    name or a library not installed is one line, exit 2."""
    if param.name == "report_to":
        value = parse_report_to(value)
        if not ctx.find_root().params.get("verbose"):
            # MLflow's records reach judge's filter (judge/cli/common.py) instead of its own
            # handler, which would print its database set-up to stderr
            os.environ.setdefault("MLFLOW_CONFIGURE_LOGGING", "false")
        check_installed(value)
    ctx.meta.setdefault(META, {})[param.name] = value
    return value


def tracker_options(f):
    options = [
        click.option("--report-to", default="none", show_default=True, expose_value=False,
                     callback=keep, metavar="TRACKERS",
                     help="Log the results to experiment trackers, by trl's names: wandb, "
                     "mlflow, tensorboard (a comma list), all, or none. Needs "
                     "pip install 'judge[trackers]'."),
        click.option("--tracker-dir", type=click.Path(file_okay=False), default=None,
                     expose_value=False, callback=keep,
                     help="Trackers' local files: TensorBoard's event files, W&B's run files and "
                     "the MLflow store unless MLFLOW_TRACKING_URI is set (default: OUT/trackers)."),
        click.option("--tracker-project", default=None, expose_value=False, callback=keep,
                     help="W&B project and MLflow experiment (default: $WANDB_PROJECT, else "
                     "$MLFLOW_EXPERIMENT_NAME, else judge)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def report_to_trackers(kind: Kind, out: str) -> None:
    """Log the folder a command has just written to the trackers --report-to chose (if any)."""
    given = click.get_current_context().meta.get(META, {})
    names = given.get("report_to") or []
    if not names:
        return
    folder = Path(given.get("tracker_dir") or Path(out) / "trackers").resolve()
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    project = (given.get("tracker_project") or os.environ.get("WANDB_PROJECT")
               or os.environ.get("MLFLOW_EXPERIMENT_NAME") or "judge")
    settings = TrackerSettings(
        report_to=names, folder=str(folder), project=project,
        mlflow_uri=uri or f"sqlite:///{folder / 'mlflow.db'}",
        mlflow_artifacts=None if uri else str(folder / "mlflow-artifacts"))
    log_folder(kind, Path(out), settings)
    err_console.print(term_text(f"trackers: logged to {', '.join(names)} ({folder})"),
                      markup=False, highlight=False, emoji=False, soft_wrap=True)
