"""Training a sweep's trials: one `judge train` child process per trial, as `judge train` runs.

    python -c CHILD train orpo --recipe recipes/NAME.yaml --cache-dir C [--resume]
    python -m accelerate.commands.launch --config_file CFG [--main_process_port P] \\
        -m judge train orpo --recipe recipes/NAME.yaml ...          (with --accelerate-config)

Each child is the current interpreter (judge/pipeline/demo.py's CHILD: the current folder taken off
sys.path, so a user's own judge/ there never runs in our place); under accelerate the child runs
in the folder of the trials' recipes for the same reason. `parallel` children run at once; when
GPUs are visible each child gets its own share of them through CUDA_VISIBLE_DEVICES (on CPU they
share the cores).
A child that fails is reported, and the others go on. Its stdout and stderr go to its log file.

What a trial needs is read from its model folder: complete (training.json says it trained every
planned step) is skipped, a folder with a finished checkpoint resumes from the newest one (a
checkpoint a kill cut short is removed first: the trainer would pick it by its number), anything
else starts afresh.
"""

from __future__ import annotations

import ctypes
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Literal, NamedTuple

from judge.errors import InputError
from judge.pipeline.demo import CHILD
from judge.train.outputs import RECORD_FILE, read_record

Action = Literal["skip", "resume", "fresh"]
STATE = "trainer_state.json"  # written last into a checkpoint: its presence means it is whole


class Job(NamedTuple):
    name: str
    method: str
    recipe_file: Path
    model_dir: Path
    log_file: Path
    resume: bool


class Done(NamedTuple):
    name: str
    returncode: int
    seconds: float
    error: str | None  # the reason, when it failed


def next_action(model_dir: Path) -> Action:
    """skip, resume or fresh; removes what a killed child left that cannot be resumed."""
    if (model_dir / RECORD_FILE).is_file() and (model_dir / "config.json").is_file():
        try:
            if read_record(model_dir).complete:
                return "skip"
        except InputError:
            pass  # a damaged record: train it again
    if not model_dir.is_dir():
        return "fresh"
    checkpoints = sorted(model_dir.glob("checkpoint-*"), key=step_of)
    whole = [c for c in checkpoints if (c / STATE).is_file()]
    for partial in checkpoints:
        if partial not in whole and (not whole or step_of(partial) > step_of(whole[-1])):
            shutil.rmtree(partial)
    if whole:
        return "resume"
    shutil.rmtree(model_dir)  # the sweep's own half-written output, with nothing to resume
    return "fresh"


def step_of(checkpoint: Path) -> int:
    tail = checkpoint.name.rpartition("-")[2]
    return int(tail) if tail.isdigit() else -1


def command(job: Job, cache_dir: str, accelerate_config: str | None, port: int | None
            ) -> tuple[list[str], Path | None]:
    """The child's command line and working folder (None: the sweep's own)."""
    train = ["train", job.method, "--recipe", str(job.recipe_file.resolve()),
             "--cache-dir", str(Path(cache_dir).resolve()), *(["--resume"] if job.resume else [])]
    if accelerate_config is None:
        return [sys.executable, "-c", CHILD, *train], None
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
              str(Path(accelerate_config).resolve())]
    if port is not None:  # children at once must not share a rendezvous port
        launch += ["--main_process_port", str(port)]
    return [*launch, "-m", "judge", *train], job.recipe_file.parent


def gpu_groups(gpus: Sequence[str], parallel: int) -> list[list[str]]:
    """The visible GPUs split into `parallel` equal shares (a remainder stays unused); no GPUs:
    no pinning. One child at a time keeps every GPU the sweep sees."""
    if not gpus or parallel == 1:
        return [[] for _ in range(parallel)]
    if parallel > len(gpus):
        raise InputError(f"--parallel {parallel} needs a GPU per trial; {len(gpus)} visible "
                         f"({','.join(gpus)})")
    share = len(gpus) // parallel
    return [list(gpus[i * share:(i + 1) * share]) for i in range(parallel)]


def die_with_parent() -> None:
    """A killed sweep takes its children along (Linux), instead of leaving them training."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def failure(returncode: int, log_file: Path, start: int) -> str:
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    text = log_file.read_bytes()[start:].decode("utf-8", "replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    last = lines[-1] if lines else "no output"
    return f"exit {returncode}: {last.removeprefix('judge: error: ')}"


class Running(NamedTuple):
    job: Job
    proc: subprocess.Popen
    began: float
    log_start: int
    slot: int


def run_jobs(jobs: Sequence[Job], parallel: int, gpus: Sequence[str], cache_dir: str,
             accelerate_config: str | None, environ: Mapping[str, str],
             on_done: Callable[[Done], None], on_start: Callable[[Job], None]) -> list[Done]:
    """Every job, `parallel` at a time, in order; returns each outcome as it finished."""
    groups = gpu_groups(gpus, parallel)
    pending, running, finished = list(jobs), [], []  # type: ignore[var-annotated]
    preexec = die_with_parent if sys.platform == "linux" else None
    while pending or running:
        free = [s for s in range(parallel) if s not in {r.slot for r in running}]
        while pending and free:
            job, slot = pending.pop(0), free.pop(0)
            port = 29500 + 17 * slot if accelerate_config and parallel > 1 else None
            argv, cwd = command(job, cache_dir, accelerate_config, port)
            env = dict(environ)
            if groups[slot]:
                env["CUDA_VISIBLE_DEVICES"] = ",".join(groups[slot])
            job.log_file.parent.mkdir(parents=True, exist_ok=True)
            start = job.log_file.stat().st_size if job.log_file.exists() else 0
            on_start(job)
            with job.log_file.open("ab") as log:
                proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        preexec_fn=preexec)
            running.append(Running(job, proc, time.perf_counter(), start, slot))
        time.sleep(0.2)
        for r in [r for r in running if r.proc.poll() is not None]:
            running.remove(r)
            code = r.proc.returncode
            done = Done(r.job.name, code, time.perf_counter() - r.began,
                        None if code == 0 else failure(code, r.job.log_file, r.log_start))
            finished.append(done)
            on_done(done)
    return finished
