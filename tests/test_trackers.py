"""`--report-to wandb,mlflow,tensorboard`: what a compare, a leaderboard and a sweep log, read back
from the trackers' own files with their own readers: W&B's offline run file (its records, decoded
with wandb's protobuf messages), MLflow's sqlite store through MlflowClient, TensorBoard's event
files through its EventAccumulator.

The runs are the scripted scenes (tests/scenes.py), rerun through the real CLI: every answer and
verdict is already in the folder's ledgers, so the rerun loads no model and only the trackers cost
time. The numbers read back must be the ones summary.json and leaderboard.json hold.
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest
from helpers import judge_cli
from scenes import (
    HOSTILE,
    REPORT_PROMPTS,
    Board,
    alpaca_eval,
    answers_of,
    arena_hard_v2,
    build_run,
    ref_file,
)

from judge.stats.sweep import Sweep, Trained, TrialResult, rank_trials
from judge.trackers import TrackerSettings, log_folder

SECRET = "sk-judge-test-secret"
OFFLINE = {"WANDB_MODE": "offline", "WANDB_PROJECT": None, "MLFLOW_TRACKING_URI": None,
           "MLFLOW_EXPERIMENT_NAME": None, "OPENAI_API_KEY": SECRET}


# --- the trackers' own readers ------------------------------------------------------------------
def wandb_records(run_dir: Path) -> list:
    """Every record of an offline run's .wandb file: W&B's log format (a 7-byte file header, then
    32 KiB blocks of chunks, each `crc32 u32, length u16, type u8`: full, first, middle, last),
    each record one wandb_internal_pb2.Record."""
    from wandb.proto import wandb_internal_pb2 as pb

    (path,) = run_dir.glob("run-*.wandb")
    data = path.read_bytes()
    assert data[:4] == b":W&B"
    records, pending, pos, block = [], b"", 7, 32768
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # a block's tail too short for a header is padding
            pos += block - pos % block
            continue
        _, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        chunk, pos = data[pos + 7:pos + 7 + length], pos + 7 + length
        if kind in (2, 3):
            pending += chunk
            continue
        if kind == 0:
            continue
        record = pb.Record()
        record.ParseFromString(pending + chunk)
        records.append(record)
        pending = b""
    return records


def put(into: dict, items) -> None:
    """Items of a history, summary or config record into a dict; a media value arrives as one
    item per field, under the nested key (name, field)."""
    for item in items:
        *path, last = list(item.nested_key) or [item.key]
        place = into
        for part in path:
            place = place.setdefault(part, {})
        place[last] = json.loads(item.value_json)


def wandb_run(run_dir: Path) -> dict:
    """An offline W&B run as logged: its run record, config, history and summary items."""
    out: dict = {"config": {}, "history": {}, "summary": {}, "dir": run_dir}
    for record in wandb_records(run_dir):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            out["run"] = record.run
            put(out["config"], record.run.config.update)
        elif kind == "config":
            put(out["config"], record.config.update)
        elif kind == "history":
            put(out["history"], record.history.item)
        elif kind == "summary":
            put(out["summary"], record.summary.update)
    return out


def wandb_runs(folder: Path) -> dict[str, dict]:
    runs = [wandb_run(d) for d in sorted((folder / "wandb").glob("offline-run-*"))]
    return {r["run"].display_name: r for r in runs}


def wandb_table(run: dict, name: str) -> dict:
    entry = run["history"][f"tables/{name}"]
    return json.loads((run["dir"] / "files" / entry["path"]).read_text())


def mlflow_runs(folder: Path) -> tuple[object, dict]:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("judge")
    runs = client.search_runs([experiment.experiment_id])
    return client, {r.info.run_name: r for r in runs}


def mlflow_table(client, run, name: str, tmp: Path) -> dict:
    path = client.download_artifacts(run.info.run_id, f"tables/{name}.json", str(tmp))
    return json.loads(Path(path).read_text())


def tensorboard(folder: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0, "images": 0,
                                                                "scalars": 0})
    accumulator.Reload()
    return accumulator


def tb_scalar(acc, tag: str) -> float:
    (event,) = acc.Scalars(tag)
    return event.value


def tb_text(acc, tag: str) -> str:
    (event,) = acc.Tensors(f"{tag}/text_summary")
    return event.tensor_proto.string_val[0].decode()


# --- a compare --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compared(module_tmp) -> tuple[Path, dict]:
    """The report scene's run folder, rerun by `judge compare --report-to all` (nothing loads)."""
    root = module_tmp / "compare"
    out = build_run(root)
    ran = judge_cli("compare", str(root / "base"), str(root / "tuned"), "--judge",
                    str(root / "judge"), "--prompts", str(root / "prompts-in.jsonl"), "--out",
                    str(out), "--cache-dir", str(root / "cache"), "--engine", "hf",
                    "--bootstrap", "200", "--report-to", "all", env=OFFLINE)
    assert ran.code == 0, ran.stderr[-3000:]
    assert f"trackers: logged to wandb, mlflow, tensorboard ({out / 'trackers'})" in ran.stderr
    return out, json.loads((out / "summary.json").read_text())


def verdict_rows(table: dict) -> dict[str, dict]:
    return {row[0]: dict(zip(table["columns"], row, strict=True)) for row in table["data"]}


def test_compare_headline_and_judge_read_back_from_tensorboard(compared):
    out, summary = compared
    (folder,) = (out / "trackers" / "tensorboard").glob("run-*")
    acc = tensorboard(folder)
    pw = summary["pairwise"]
    expected = {"win_rate": pw["win_rate"], "win_rate_low": pw["ci_bootstrap"]["low"],
                "win_rate_high": pw["ci_bootstrap"]["high"],
                "discrete_win_rate_low": pw["ci"]["low"], "n_invalid": pw["n_invalid"],
                "judge/position_consistency": pw["position_consistency"],
                "judge/verdict_sources/none": summary["verdict_sources"]["none"],
                "category/math/win_rate": summary["by_category"]["math"]["win_rate"],
                "judge/controls_accuracy": summary["controls"]["accuracy"]}
    for tag, value in expected.items():
        assert tb_scalar(acc, tag) == pytest.approx(value, abs=1e-6), tag
    # the scene, by hand: q0 tuned, q1 split (a tie), q2 skipped tie, q3 invalid, q4 base,
    # q5 tuned once and a tie once
    assert tb_scalar(acc, "wins") == 2 and tb_scalar(acc, "losses") == 1
    assert tb_text(acc, "notes/judge_verdict") == summary["verdict"]["status"]
    # TensorBoard renders text as Markdown: the hostile answer arrives escaped, as text
    table = tb_text(acc, "tables/verdicts")
    assert "&lt;script&gt;window.\\_\\_pwned = 1&lt;/script&gt;" in table
    assert "<script>" not in table and "<img" not in table
    (image,) = acc.Images("plots/winrate")
    assert (image.width, image.height) == (640, 320)


def test_compare_read_back_from_mlflow(compared, tmp_path):
    out, summary = compared
    client, runs = mlflow_runs(out / "trackers")
    run = runs["run"]
    pw = summary["pairwise"]
    metrics = run.data.metrics
    assert metrics["win_rate"] == pw["win_rate"]
    assert (metrics["win_rate_low"], metrics["win_rate_high"]) == (pw["ci_bootstrap"]["low"],
                                                                   pw["ci_bootstrap"]["high"])
    assert metrics["category/chat/win_rate"] == summary["by_category"]["chat"]["win_rate"]
    assert run.data.params["template"] == "pairwise" and run.data.params["bootstrap"] == "200"
    assert run.data.tags["judge.kind"] == "compare"
    assert run.data.tags["judge.judge_verdict"] == summary["verdict"]["status"]
    rows = verdict_rows(mlflow_table(client, run, "verdicts", tmp_path))
    # model text is data: the answer exactly as the model gave it
    assert rows["q0"]["tuned_answer"] == HOSTILE
    assert {pid: row["outcome"] for pid, row in rows.items()} == {
        "q0": "tuned", "q1": "tie", "q2": "tie", "q3": "invalid", "q4": "base",
        REPORT_PROMPTS[5][0]: "tuned"}
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert artifacts == {"plots/winrate.png"}


def test_compare_read_back_from_wandb_offline(compared):
    out, summary = compared
    runs = wandb_runs(out / "trackers")
    assert list(runs) == ["run"]
    run = runs["run"]
    assert (run["run"].job_type, run["run"].project) == ("compare", "judge")
    assert "compare" in run["run"].tags
    assert run["history"]["win_rate"] == summary["pairwise"]["win_rate"]
    assert run["history"]["discrete_win_rate_high"] == summary["pairwise"]["ci"]["high"]
    assert run["config"]["template"] == "pairwise"
    assert run["summary"]["judge_verdict"] == summary["verdict"]["status"]
    rows = verdict_rows(wandb_table(run, "verdicts"))
    assert rows["q0"]["tuned_answer"] == HOSTILE
    assert rows["q4"]["base_first_verdict"] == "base"
    categories = wandb_table(run, "categories")
    assert [r[0] for r in categories["data"]] == list(summary["by_category"])
    assert run["history"]["plots/winrate"]["_type"] == "image-file"
    # only what judge chose: no package list, no machine metadata
    assert sorted(p.name for p in (run["dir"] / "files").iterdir()) == ["media"]


def test_no_secret_reaches_any_tracker(compared):
    """The API key the CLI read (engine_config) is in no file any tracker wrote."""
    out, _ = compared
    files = [p for p in (out / "trackers").rglob("*") if p.is_file()]
    assert len(files) > 5
    assert not [p for p in files if SECRET.encode() in p.read_bytes()]


def test_a_tracker_that_does_not_answer_is_one_line_and_keeps_the_results(compared, tmp_path):
    """An MLflow server that does not answer (a closed port, no retries): TensorBoard is still
    written, then one line, exit 1. W&B online without a login ends the same way ("No API key
    configured"), not tested in this process, where wandb keeps the offline mode of its first
    run."""
    out, summary = compared
    root = out.parent
    unreachable = {"MLFLOW_TRACKING_URI": "http://127.0.0.1:9",
                   "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}
    ran = judge_cli("compare", str(root / "base"), str(root / "tuned"), "--judge",
                    str(root / "judge"), "--prompts", str(root / "prompts-in.jsonl"), "--out",
                    str(out), "--cache-dir", str(root / "cache"), "--engine", "hf",
                    "--bootstrap", "200", "--report-to", "mlflow,tensorboard", "--tracker-dir",
                    str(tmp_path / "tracked"), env=OFFLINE | unreachable)
    # the progress bars of the (cached) run come first; then the one error line, exit 1
    assert ran.code == 1 and "Traceback" not in ran.stderr
    last = ran.stderr.strip().splitlines()[-1]
    assert last.startswith("judge: error: --report-to mlflow: API request to http://127.0.0.1:9")
    assert last.endswith("(the results are saved; rerun to log them again)")
    (folder,) = (tmp_path / "tracked" / "tensorboard").glob("run-*")
    assert tb_scalar(tensorboard(folder), "win_rate") == pytest.approx(
        summary["pairwise"]["win_rate"], abs=1e-6)
    saved = json.loads((out / "summary.json").read_text())  # written before the trackers ran
    assert saved["pairwise"] == summary["pairwise"] and saved["verdict"] == summary["verdict"]


# --- a leaderboard and a sweep ----------------------------------------------------------------
@pytest.fixture(scope="module")
def board(module_tmp) -> tuple[Path, dict]:
    tmp = module_tmp / "board"
    tmp.mkdir()
    b = Board(tmp)
    m1 = alpaca_eval(tmp / "m1" / "model_outputs.json", answers_of("m1"), "m1")
    m2 = arena_hard_v2(tmp / "m2.jsonl", answers_of("m2"), "m2")
    reference = ref_file(tmp)
    b.run(reference, m2, m1)
    ran = judge_cli("leaderboard", "--reference", reference, m2, m1, "--judge", b.judge,
                    "--out", str(tmp / "lb"), "--cache-dir", str(tmp / "cache"), "--engine",
                    "hf", "--bootstrap", "200", "--verdict", "text", "--report-to",
                    "tensorboard,mlflow", "--tracker-dir", str(tmp / "tracked"), env=OFFLINE)
    assert ran.code == 0, ran.stderr[-3000:]
    return tmp, json.loads((tmp / "lb" / "leaderboard.json").read_text())


def test_leaderboard_logs_its_table(board, tmp_path):
    tmp, data = board
    client, runs = mlflow_runs(tmp / "tracked")
    run = runs["lb"]
    table = mlflow_table(client, run, "leaderboard", tmp_path)
    names = [row[1] for row in table["data"]]
    assert names == ["m1", "m2"]  # ranked, as leaderboard.json
    # by hand (tests/test_leaderboard.py): m1 wins 2.5 of 3 prompts, m2 1.5 of 3
    assert run.data.metrics["m1/win_rate"] == pytest.approx(5 / 6)
    assert run.data.metrics["m2/win_rate"] == pytest.approx(0.5)
    assert run.data.metrics["m1/bradley_terry/elo"] == data["standings"][0]["bradley_terry"]["elo"]
    categories = mlflow_table(client, run, "categories", tmp_path)
    rates = {(r[0], r[1]): r[4] for r in categories["data"]}
    assert rates == {("m1", "chat"): 1.0, ("m1", "math"): 0.5, ("m2", "chat"): 0.5,
                     ("m2", "math"): 0.5}
    (folder,) = (tmp / "tracked" / "tensorboard").glob("lb-*")
    acc = tensorboard(folder)
    assert tb_scalar(acc, "m2/win_rate") == pytest.approx(0.5)
    assert acc.Images("plots/leaderboard")


def sweep_folder(tmp: Path, data: dict) -> Path:
    """A sweep.json whose two trials are the leaderboard's models (a sweep's leaderboard is a
    leaderboard of its trials against the base)."""
    standings = {s["name"]: s for s in data["standings"]}
    trials = [TrialResult(name=f"lr-{n}", method="orpo", settings={"learning_rate": rate},
                          folder=f"trials/lr-{n}", status="trained", this_run="trained",
                          training=Trained(steps=2, planned_steps=2, train_loss=loss,
                                           eval_loss=loss + 0.1, reward_accuracy=None,
                                           eval_reward_accuracy=None, seconds=1.0,
                                           resumed_from=None),
                          judged=standings[model], judge_check="passed")
              for n, rate, model, loss in (("1", 1e-5, "m2", 1.5), ("2", 2e-5, "m1", 1.25))]
    sweep = Sweep(recipe="recipe.yaml", base="ref", base_ref="ref.json", judge="judge",
                  template="pairwise", n_prompts=3, space={"learning_rate": [1e-5, 2e-5]},
                  trials=rank_trials(trials), best="lr-2", separation=None,
                  leaderboard="leaderboard")
    root = tmp / "sweep-smoke"
    root.mkdir()
    (root / "sweep.json").write_text(json.dumps(sweep.as_json()))
    return root


def test_a_sweep_logs_each_trial_as_a_run_under_the_sweep(board, tmp_path):
    tmp, data = board
    root = sweep_folder(tmp_path, data)
    folder = tmp / "tracked"  # the leaderboard's: its MLflow store is set up already
    settings = TrackerSettings(report_to=["wandb", "mlflow", "tensorboard"], folder=str(folder),
                               mlflow_uri=f"sqlite:///{folder / 'mlflow.db'}",
                               mlflow_artifacts=str(folder / "artifacts"))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("WANDB_MODE", "offline")
        log_folder("sweep", root, settings)
    # W&B: three runs in the sweep's group, each trial with its judged win rate
    runs = wandb_runs(folder)
    assert {name: r["run"].run_group for name, r in runs.items()} == {
        "sweep-smoke": "sweep-smoke", "lr-1": "sweep-smoke", "lr-2": "sweep-smoke"}
    assert runs["lr-2"]["history"]["win_rate"] == pytest.approx(5 / 6)
    assert runs["lr-1"]["config"]["learning_rate"] == 1e-5
    assert runs["lr-1"]["history"]["training/train_loss"] == 1.5
    assert [row[1] for row in wandb_table(runs["sweep-smoke"], "trials")["data"]] == [
        "lr-2", "lr-1"]
    # MLflow: the trials nested under the sweep's run
    _, found = mlflow_runs(folder)
    parent = found["sweep-smoke"].info.run_id
    for name, rate in (("lr-1", 0.5), ("lr-2", 5 / 6)):
        assert found[name].data.tags["mlflow.parentRunId"] == parent
        assert found[name].data.metrics["win_rate"] == pytest.approx(rate)
    assert found["lr-2"].data.metrics["rank"] == 1
    # TensorBoard: one folder per trial inside the sweep's
    (top,) = (folder / "tensorboard").glob("sweep-smoke-*")
    assert tb_scalar(tensorboard(top / "lr-1"), "win_rate") == pytest.approx(0.5)
    assert "lr-2" in tb_text(tensorboard(top), "tables/trials")


# --- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["compare", "leaderboard", "sweep"])
def test_an_unknown_tracker_is_one_line_before_any_work(command, tmp_path):
    args = {"compare": ["compare", "a", "b"], "leaderboard": ["leaderboard", "--reference",
                                                               "r", "m"],
            "sweep": ["sweep", "--grid", "learning_rate=1e-5"]}[command]
    ran = judge_cli(*args, "--out", str(tmp_path / "out"), "--report-to", "tensorboard,comet")
    assert "--report-to comet: not a tracker" in ran.error_line(2)
    assert not (tmp_path / "out").exists()


def test_a_tracker_not_installed_names_the_extra(tmp_path):
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "wandb", None)  # import wandb fails, as when not installed
        ran = judge_cli("compare", "a", "b", "--out", str(tmp_path / "out"), "--report-to",
                        "wandb")
    line = ran.error_line(2)
    assert "--report-to wandb needs the wandb package" in line and "judge[trackers]" in line
    assert not (tmp_path / "out").exists()
