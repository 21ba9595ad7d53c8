"""`judge sweep` end to end with the real trainer and the real engine: a 2-trial learning-rate grid
on the CPU recipe with the tiny model, 2 ORPO steps each, 4 prompts judged by the tiny model on
the transformers engine.

1. Both trials train at once (--parallel 2); one child is killed with SIGKILL after its first
   checkpoint. The other trial is trained, judged and ranked; the sweep says which one failed and
   exits 1.
2. The rerun (through `accelerate launch` with a one-process CPU config) resumes the killed trial
   from its checkpoint, leaves the finished one alone and judges only the resumed one; both are
   ranked.
3. A third run trains nothing and loads no model.

The first sweep is a process of its own (its child is killed while it waits); the rerun and the
third run, which nothing kills, run in this process, their trainers children as ever.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import JUDGE, judge_cli, judge_env, recipe_on

from judge.models.refs import display_name

pytestmark = pytest.mark.slow
ACCELERATE_CPU = ("compute_environment: LOCAL_MACHINE\ndistributed_type: 'NO'\nnum_machines: 1\n"
                  "num_processes: 1\nuse_cpu: true\nmixed_precision: 'no'\n")


def args(out: Path, recipe: Path, judge: str, *extra: str) -> list[str]:
    return [JUDGE, "sweep", "--recipe", str(recipe), "--grid", "learning_rate=1e-5,2e-5",
            "--max-steps", "2", "--save-steps", "1", "--save-total-limit", "1",
            "--max-length", "128", "--warmup-steps", "0", "--limit", "4", "--engine", "hf",
            "--judge", judge, "--max-new-tokens", "8", "--judge-max-new-tokens", "4",
            "--bootstrap", "200", "--out", str(out), *extra]


def child_of(trial_prefix: str) -> int | None:
    """The pid of the `judge train` child training the trial whose name starts so."""
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(f"recipes/{trial_prefix}".encode() in a for a in argv) and b"train" in argv:
            return int(proc.name)
    return None


def snapshot(root: Path, pattern: str) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.glob(pattern))}


def trials(sweep: dict) -> dict[str, dict]:
    return {t["name"].rsplit("-", 1)[0]: t for t in sweep["trials"]}


@pytest.fixture(scope="module")
def runs(module_tmp, cache_dir, tiny):
    tmp = module_tmp
    out = tmp / "sweep"
    recipe = recipe_on(tiny.ref, "smollm2-cpu", tmp)
    killed_first = "learning_rate-1e-05"
    proc = subprocess.Popen(args(out, recipe, tiny.ref, "--parallel", "2"),
                            env=judge_env(cache_dir),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    killed = False
    deadline = time.monotonic() + 900
    while proc.poll() is None and time.monotonic() < deadline and not killed:
        whole = list(out.glob(f"trials/{killed_first}-*/checkpoint-1/trainer_state.json"))
        pid = child_of(killed_first) if whole else None
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            killed = True
        time.sleep(0.05)
    first_out, first_err = proc.communicate(timeout=900)
    assert killed, f"the trial finished before its kill: {first_err[-2000:]}"
    first = (proc.returncode, first_err, trials(json.loads((out / "sweep.json").read_text())))
    after_first = snapshot(out, "trials/*/training.json")
    judged_first = snapshot(out, "leaderboard/**/*.jsonl")

    config = tmp / "cpu.yaml"
    config.write_text(ACCELERATE_CPU)
    env = {"JUDGE_CACHE_DIR": str(cache_dir)}
    second = judge_cli(*args(out, recipe, tiny.ref, "--accelerate-config", str(config))[1:],
                       env=env)
    after_second = {"sweep": json.loads((out / "sweep.json").read_text()),
                    "training": snapshot(out, "trials/*/training.json"),
                    "logs": snapshot(out, "logs/*.log"),
                    "ledgers": snapshot(out, "leaderboard/**/*.jsonl")}
    third = judge_cli(*args(out, recipe, tiny.ref, "--accelerate-config", str(config))[1:],
                      env=env)
    return out, first, after_first, judged_first, second, after_second, third


def test_a_killed_trial_is_reported_and_the_other_trained_judged_and_ranked(runs):
    out, (code, stderr, first), *_ = runs
    assert code == 1, stderr[-2000:]
    assert stderr.strip().splitlines()[-1].startswith("judge: error: 1 of 2 trials failed")
    killed, done = first["learning_rate-1e-05"], first["learning_rate-2e-05"]
    assert (killed["status"], killed["error"], killed["rank"]) == ("failed", "killed by SIGKILL",
                                                                   None)
    assert (done["status"], done["this_run"], done["rank"]) == ("trained", "trained", 1)
    assert done["training"]["steps"] == 2 and done["training"]["eval_loss"] > 0
    judged = done["judged"]
    assert judged["n"] + judged["n_invalid"] / 2 >= 4 - 1e-9  # 4 prompts, both orders
    assert 0 <= judged["ci"]["low"] <= judged["win_rate"] <= judged["ci"]["high"] <= 1
    assert judged["bradley_terry"]["low"] <= judged["bradley_terry"]["win_rate"]
    (checkpoint,) = out.glob("trials/learning_rate-1e-05-*/checkpoint-*/trainer_state.json")
    assert checkpoint.parent.name in ("checkpoint-1", "checkpoint-2")


def test_the_rerun_resumes_the_killed_trial_and_judges_only_it(runs, tiny):
    out, _, after_first, judged_first, second, after_second, _ = runs
    assert second.code == 0, second.stderr[-3000:]
    sweep = after_second["sweep"]
    resumed = trials(sweep)["learning_rate-1e-05"]
    training = resumed["training"]
    assert resumed["this_run"] == "resumed" and training["steps"] == 2
    assert Path(training["resumed_from"]).name in ("checkpoint-1", "checkpoint-2")
    done = [name for name in after_first if "learning_rate-2e-05" in name]
    assert [after_second["training"][n] for n in done] == [after_first[n] for n in done]
    # the finished trial's answers and verdicts and the base's answers: not a line added
    kept = {k: v for k, v in judged_first.items() if "learning_rate-1e-05" not in k}
    assert kept and all(after_second["ledgers"][k] == v for k, v in kept.items())
    first, second = sorted(sweep["trials"], key=lambda t: t["rank"])
    assert (first["rank"], second["rank"]) == (1, 2)
    # ranked as documented: strength, then win rate, then eval loss, then name; the best is first
    def order(t: dict) -> tuple:
        judged = t["judged"]
        return (-judged["bradley_terry"]["strength"], -judged["win_rate"],
                t["training"]["eval_loss"], t["name"])

    assert order(first) < order(second)
    assert sweep["best"] == first["name"] == sweep["separation"]["best"]
    assert sweep["separation"]["runner_up"] == second["name"]
    assert sweep["separation"]["n"] <= 4 and sweep["trained"] == [resumed["name"]]
    # the resumed trial, then the judge where an answer differs from the base's (identical answers
    # are ties without a judge call); the base is not asked again
    assert sweep["models_loaded"][0].endswith(resumed["name"])
    assert set(sweep["models_loaded"][1:]) <= {display_name(tiny.ref)}


def test_a_third_run_does_nothing(runs, tiny):
    out, *_, after_second, third = runs
    assert third.code == 0, third.stderr[-3000:]
    sweep = json.loads((out / "sweep.json").read_text())
    assert sweep["trained"] == [] and sweep["models_loaded"] == []
    assert {t["this_run"] for t in sweep["trials"]} == {"skipped"}
    assert snapshot(out, "trials/*/training.json") == after_second["training"]
    assert snapshot(out, "logs/*.log") == after_second["logs"]  # no child started
    assert snapshot(out, "leaderboard/**/*.jsonl") == after_second["ledgers"]
    for run in out.glob("leaderboard/*/run.json"):
        assert json.loads(run.read_text())["models_loaded"] == []
    assert f"sweep vs {display_name(tiny.ref)}" in third.stdout
