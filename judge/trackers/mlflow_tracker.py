"""MLflow: one MLflow run per TrackedRun in the experiment named by the project; a sweep's trials
are nested runs under the sweep's (mlflow.parentRunId).

Through MlflowClient, at the store the CLI resolved (MLFLOW_TRACKING_URI, else a sqlite file in
the trackers folder), so nothing sets MLflow's process-wide state: the numbers as metrics at step
0, the settings as params, the verdicts in words as tags (judge.*), the tables as MLflow table
artifacts (JSON: model text stays data) and the plots as artifacts under plots/.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from judge.trackers.records import TrackedRun

if TYPE_CHECKING:
    from judge.trackers import TrackerSettings

PARAM_LIMIT = 6000  # characters MLflow keeps of a param value
TAG_LIMIT = 5000


class MlflowTracker:
    def __init__(self, settings: TrackerSettings) -> None:
        from mlflow import MlflowClient

        self.settings = settings
        self.client = MlflowClient(tracking_uri=settings.mlflow_uri)

    def experiment(self) -> str:
        name = self.settings.project
        found = self.client.get_experiment_by_name(name)
        if found is not None:
            return str(found.experiment_id)
        return str(self.client.create_experiment(
            name, artifact_location=self.settings.mlflow_artifacts))

    def log(self, run: TrackedRun) -> None:
        experiment = self.experiment()
        parent = self.log_one(experiment, run, None)
        for child in run.children:
            self.log_one(experiment, child, parent)

    def log_one(self, experiment: str, run: TrackedRun, parent: str | None) -> str:
        from mlflow.entities import Metric, Param

        tags = {"judge.kind": run.kind, "judge.tags": ", ".join(run.tags),
                **{f"judge.{k}": v[:TAG_LIMIT] for k, v in run.notes.items()}}
        if parent is not None:
            tags["mlflow.parentRunId"] = parent
        created = self.client.create_run(experiment, run_name=run.name, tags=tags)
        run_id = created.info.run_id
        try:
            now = int(time.time() * 1000)
            self.client.log_batch(
                run_id, metrics=[Metric(k, v, now, 0) for k, v in run.metrics.items()],
                params=[Param(k, ("" if v is None else str(v))[:PARAM_LIMIT])
                        for k, v in run.params.items()])
            for name, table in run.tables.items():
                columns = {c: [row[i] for row in table.rows] for i, c in enumerate(table.columns)}
                self.client.log_table(run_id, data=columns, artifact_file=f"tables/{name}.json")
            for path in run.images.values():
                self.client.log_artifact(run_id, path, artifact_path="plots")
        except BaseException:
            self.client.set_terminated(run_id, status="FAILED")
            raise
        self.client.set_terminated(run_id)
        return str(run_id)
