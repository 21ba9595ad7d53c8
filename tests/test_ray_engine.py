"""`--engine ray`: real Ray (a local cluster, started once for the module), real vLLM engines on it.

Each Ray engine call starts its vLLM engines and stops them after, so these tests are few: a
compare on Ray, killed while a stage is in flight and resumed, equals in-process vLLM's run
(answers, verdicts, label probabilities to 1e-6, the ledger); two replicas both get work; an
engine that cannot start fails the run with one line. The bundled model answers and judges where
label probabilities are compared (a random model never ranks the labels in vLLM's top 20, and an
empty dict equals an empty dict); the tiny one serves the plumbing.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import helpers
import pytest
from helpers import JUDGE, judge_cli, judge_env, run_judge
from scenes import alpaca_eval

from judge.engines import EngineOptions
from judge.pipeline.compare import CompareConfig, run_compare
from judge.records import Message, SamplingParams

pytestmark = pytest.mark.slow

ray = pytest.importorskip("ray")
START_LIMIT = 600  # seconds a run that must fail may take before it counts as a hang
# what the driver keeps from a probability: JSON floats round-trip, so 1e-6 is generous
PROB_FIELDS = ("p_tuned", "label_probs", "score")
BAR = re.compile(r"\d+/\d+\s+\d+:\d\d:\d\d$")  # a progress bar: done/total, elapsed


@pytest.fixture(scope="module")
def ray_cluster():
    """One local Ray cluster for the module's in-process runs: the engines join it (and leave it
    running) instead of starting one of their own per run."""
    from judge.engines.ray_cluster import WORKER_ENV

    ray.init(address="local", num_cpus=3, object_store_memory=2**29, include_dashboard=False,
             log_to_driver=False, runtime_env={"env_vars": WORKER_ENV})
    yield
    ray.shutdown()


def compare_args(base: str, out: Path, *extra: str) -> list[str]:
    return ["compare", base, "smollm2", "--judge", "smollm2", "--controls", "0",
            "--max-new-tokens", "8", "--judge-max-new-tokens", "4", "--bootstrap", "200",
            "--chunk", "64", "--batch-size", "1", "--out", str(out), "--json", *extra]


def ledger(out: Path, folder: str) -> dict[str, dict]:
    return {line["key"]: line for path in sorted((out / folder).glob("*.jsonl"))
            for line in map(json.loads, path.read_text().splitlines())}


def same_records(ray_lines: dict[str, dict], vllm_lines: dict[str, dict]) -> None:
    """Equal lines, key for key; probabilities to 1e-6 (and none of them empty)."""
    assert ray_lines.keys() == vllm_lines.keys() and ray_lines
    for key, line in ray_lines.items():
        other = vllm_lines[key]
        for name in line.keys() | other.keys():
            if name in PROB_FIELDS and line.get(name) is not None:
                close(line[name], other[name])
            else:
                assert line.get(name) == other.get(name), (name, line, other)


def close(a, b) -> None:
    if isinstance(a, dict):
        assert a and a.keys() == b.keys(), (a, b)
        for k in a:
            close(a[k], b[k])
    else:
        assert abs(a - b) <= 1e-6, (a, b)


def test_two_replicas_both_receive_work(tiny, ray_cluster):
    """First in the module, on a cluster no engine has run on yet: after another execution on
    the same cluster from this driver, two engines started but one was handed every batch."""
    from judge.engines.ray_engine import RayEngine

    engine = RayEngine(tiny, EngineOptions(kind="ray", replicas=2, batch_size=2,
                                           kv_cache_gb=0.25))
    # four batches, long enough that one engine is still busy when the next batch is handed
    # out (both engines are up before any is: the engine waits for all replicas to start)
    chats = [[Message(role="user", content=f"Count to {n}.")] for n in range(8)]
    params = SamplingParams(max_new_tokens=64, temperature=0.0)
    seen = sorted(i for i, _ in engine.stream(chats, params))
    assert seen == list(range(8))  # every chat once, by its index
    assert engine.replicas_served == 2
    engine.close()


def test_compare_on_ray_killed_and_resumed_equals_in_process_vllm(
    tmp_path, cache_dir, real_loader, ray_cluster,
):
    base = alpaca_eval(tmp_path / "base" / "model_outputs.json",
                       {"q1": "Blue.", "q2": "1, 2, 3.", "q3": "Hello!"}, "base-gen")
    # in-process vLLM, through the session's engine of the bundled model
    config = CompareConfig(base=base, tuned="smollm2", judge="smollm2", controls=0,
                           max_new_tokens=8, judge_max_new_tokens=4, bootstrap=200, chunk=64,
                           out=str(tmp_path / "vllm"), cache_dir=str(cache_dir),
                           engine=EngineOptions(kind="vllm"))
    expected = run_compare(config, lambda name, total: lambda done, tokens: None, real_loader)

    # the driver, a process of its own on a local cluster of its own, killed once the answers
    # are ledgered and the judge stage is in flight on Ray
    out = tmp_path / "ray"
    proc = subprocess.Popen([JUDGE, *compare_args(base, out, "--engine", "ray")],
                            env=judge_env(cache_dir), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    answers = out / "generations"
    try:
        began = time.monotonic()
        while proc.poll() is None and time.monotonic() < began + START_LIMIT:
            if sum(helpers.count_lines(p) for p in answers.glob("smollm2*.jsonl")) == 3:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not ledger(out, "judgments")
    answered = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in answers.glob("*.jsonl")}

    rerun = judge_cli(*compare_args(base, out, "--engine", "ray"),
                      env={"JUDGE_CACHE_DIR": str(cache_dir)})
    assert rerun.code == 0, rerun.stderr[-3000:]
    # nothing answered before the kill was asked again: the answers ledger is as it was
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns)
            for p in answers.glob("*.jsonl")} == answered
    same_records(ledger(out, "generations"), ledger(tmp_path / "vllm", "generations"))
    same_records(ledger(out, "judgments"), ledger(tmp_path / "vllm", "judgments"))
    summary = json.loads(rerun.stdout)["pairwise"]
    assert summary["n"] == expected.pairwise.n == 3
    assert summary["wins"] == expected.pairwise.wins
    assert abs(summary["win_rate"] - expected.pairwise.win_rate) <= 1e-6


def test_an_engine_that_cannot_start_fails_the_run_with_one_line(
    tiny, tmp_path, monkeypatch, ray_cluster,
):
    """A context longer than the tiny model's 8192 positions: vLLM refuses it on the worker."""
    monkeypatch.setattr(helpers, "LIMIT_S", START_LIMIT)
    code, _, err, _ = run_judge([
        "compare", tiny.path, tiny.path, "--judge", tiny.path, "--limit", "1", "--engine",
        "ray", "--max-model-len", "100000", "--max-new-tokens", "4", "--out",
        str(tmp_path / "run")])
    assert code == 1, err[-3000:]
    # one error line; besides it only the progress bar of the stage that failed, no Ray output
    (line,) = [line for line in err.splitlines() if line.startswith("judge:")]
    others = [line for line in err.splitlines() if line.strip() and not line.startswith("judge:")]
    assert all(BAR.search(line) for line in others) and "Traceback" not in err, err[-3000:]
    assert line.startswith("judge: error: the Ray engine for ")
    assert "max_model_len" in line and tiny.path in line
