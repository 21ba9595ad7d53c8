"""What many test files need: running `judge` (in-process, or as a fresh process where that is the
point), real training steps, metric and ledger files, and recipes pointed at another model.

The scripted worlds several files share (the scripted engine, fake model folders, scripted
compare runs and leaderboards) are in tests/scenes.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

import yaml
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "recipes"
JUDGE = str(Path(sys.executable).parent / "judge")  # the installed console script
NO_PROGRESS = lambda name, total: lambda done, tokens: None  # noqa: E731
# a small ORPO/DPO/SFT run: short rows, a line per step, no warm-up
SMALL = ("--max-length", "128", "--logging-steps", "1", "--warmup-steps", "0")


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str

    def error_line(self, code: int = 2) -> str:
        """The one `judge: error: ...` line a failed command prints, checked as users see it:
        this exit code, one line on stderr, no traceback."""
        assert self.code == code, (self.code, self.stderr[-3000:])
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, self.stderr[-3000:]
        assert lines[0].startswith("judge: error: ") and "Traceback" not in self.stderr
        return lines[0]


def judge_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Ran:
    """`judge ARGS` in this process, through the console script's own entry point (so errors
    become its one line and exit code), with stdout and stderr captured apart; `env` entries are
    set for the call (None removes one). For everything but a kill, an install or a fresh
    interpreter: a subprocess costs seconds of imports per call."""
    from judge.cli.main import main

    runner = CliRunner()
    code = 0
    with runner.isolation(env=env) as (out, err, _), chdir(cwd), as_script(*args):
        try:
            main()
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        return Ran(code, out.getvalue().decode(), err.getvalue().decode())


LIMIT_S = 20.0  # seconds a bounded in-process `judge` may run (run_judge)


def run_judge(args: list[str], unblock: Path | None = None) -> tuple[object, str, str, float]:
    """judge_cli bounded in time, for the hostile-input tests: (exit code, stdout, stderr,
    seconds), with "raised" for the code (and the traceback on stderr) when anything escapes the
    entry point. A run past LIMIT_S is interrupted (a FIFO reader is released by opening the FIFO
    for writing). A wide console: a log line is counted as the one line it is, not as rich wraps
    it."""

    def watchdog() -> None:
        if unblock is not None:
            with contextlib.suppress(OSError):
                os.close(os.open(unblock, os.O_WRONLY | os.O_NONBLOCK))
        import _thread

        _thread.interrupt_main()

    timer = threading.Timer(LIMIT_S, watchdog)
    began = time.monotonic()
    timer.start()
    try:
        ran = judge_cli(*args, env={"COLUMNS": "10000"})
        code, out, err = ran.code, ran.stdout, ran.stderr
    except BaseException:  # noqa: BLE001 - anything escaping main() breaks the contract
        code, out, err = "raised", "", traceback.format_exc()
    finally:
        timer.cancel()
    return code, out, err, time.monotonic() - began


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every regular file under `root` with its bytes and mtime: "no file changed, nothing new"
    is an equality of two snapshots."""
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_fifo()}


@contextlib.contextmanager
def as_script(*args: str):
    """sys.argv and __main__ as the console script has them: click names the program after
    __main__ (`judge`, not the `python -m pytest` this process may run as). Only that one entry of
    sys.modules changes: modules the call imports stay imported."""
    main, argv = sys.modules["__main__"], sys.argv
    sys.modules["__main__"], sys.argv = types.ModuleType("__main__"), [JUDGE, *args]
    try:
        yield
    finally:
        sys.modules["__main__"], sys.argv = main, argv


@contextlib.contextmanager
def chdir(folder: Path | None):
    if folder is None:
        yield
        return
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def judge_env(cache_dir: Path, **extra: str) -> dict[str, str]:
    """A `judge` subprocess's environment: this one, the session's model cache, offline."""
    return os.environ | {"JUDGE_CACHE_DIR": str(cache_dir), "HF_HUB_OFFLINE": "1"} | extra


def judge_proc(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
               timeout: float = 900) -> subprocess.CompletedProcess:
    """`judge ARGS` as a fresh process of the installed script."""
    return subprocess.run([JUDGE, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def train(cache_dir: Path, method: str, *args: str) -> dict:
    """`judge train METHOD ARGS` in-process; its training.json. ARGS hold --output-dir."""
    result = CliRunner().invoke(
        _cli(), ["train", method, "--cache-dir", str(cache_dir), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = Path(args[args.index("--output-dir") + 1])
    return json.loads((out / "training.json").read_text())


def _cli():
    from judge.cli.main import cli

    return cli


def metric_lines(out: Path) -> list[dict]:
    """A training folder's metrics.jsonl, one dict per logged line."""
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def count_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def write_jsonl(path: Path, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def weights(folder: str | Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(Path(folder) / "model.safetensors"))


def moved(base: str | Path, tuned: str | Path) -> tuple[int, int]:
    """(tensors that changed, tensors) between two folders' weights, which hold the same names."""
    before, after = weights(base), weights(tuned)
    assert before.keys() == after.keys()
    return sum(not before[k].equal(after[k]) for k in before), len(before)


def recipe_on(model: str, shipped: str, folder: Path, **settings) -> Path:
    """A copy of the shipped recipe `shipped` whose model is `model` (the tiny one, in plumbing
    tests), with `settings` over its own, written into `folder`."""
    values = yaml.safe_load((RECIPES / f"{shipped}.yaml").read_text())
    path = folder / f"{shipped}-on-{Path(model).name}.yaml"
    path.write_text(yaml.safe_dump({**values, "model": model, **settings}, sort_keys=False))
    return path


def device_settings(training: dict) -> dict[str, bool]:
    """use_cpu and bf16 as a recipe with these training settings must get them on the device this
    test runs on: without a GPU, CPU training in fp32; on one, bf16 where the GPU supports it
    unless the recipe picks a precision itself. The recipe's own values always win."""
    import torch

    if not torch.cuda.is_available():
        want = {"use_cpu": True, "bf16": False}
    elif "bf16" in training or "fp16" in training:
        want = {"use_cpu": False, "bf16": False}
    else:
        want = {"use_cpu": False, "bf16": torch.cuda.is_bf16_supported()}
    return want | {key: training[key] for key in want if key in training}
