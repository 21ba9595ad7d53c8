"""Weights & Biases: one W&B run per TrackedRun, a sweep's trials in the sweep's group.

wandb reads its own environment (WANDB_MODE=offline, WANDB_API_KEY, WANDB_ENTITY, ...); judge
gives it the run's name, group, job type (compare, leaderboard, sweep, trial), tags, the settings
as config, the numbers as one history step, the verdicts in words as summary fields, the tables as
wandb.Table (model text stays a cell's text) and the plots as images. Its run files go under the
trackers folder. judge turns off what it did not choose to log: code and git state, the machine's
metadata, system metrics and installed packages, the console.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from judge.trackers.records import TrackedRun

if TYPE_CHECKING:
    from judge.trackers import TrackerSettings


class WandbTracker:
    def __init__(self, settings: TrackerSettings) -> None:
        self.settings = settings

    def log(self, run: TrackedRun) -> None:
        self.log_one(run)
        for child in run.children:
            self.log_one(child)

    def log_one(self, run: TrackedRun) -> None:
        import wandb

        folder = Path(self.settings.folder)
        folder.mkdir(parents=True, exist_ok=True)
        quiet = wandb.Settings(silent=True, console="off", save_code=False, disable_git=True,
                               x_disable_meta=True, x_disable_stats=True,
                               x_save_requirements=False)
        handle = wandb.init(dir=str(folder), project=self.settings.project, name=run.name,
                            group=run.group, job_type=run.kind, tags=run.tags,
                            config=dict(run.params), settings=quiet, reinit="create_new")
        try:
            step: dict[str, object] = dict(run.metrics)
            for name, table in run.tables.items():
                step[f"tables/{name}"] = wandb.Table(columns=list[str | int](table.columns),
                                                     data=table.rows,
                                                     allow_mixed_types=True)
            for name, path in run.images.items():
                step[f"plots/{name}"] = wandb.Image(path)
            handle.log(step, step=0)
            for key, text in run.notes.items():
                handle.summary[key] = text
        except BaseException:
            handle.finish(exit_code=1)
            raise
        handle.finish()
