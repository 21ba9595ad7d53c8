"""Crash safety: `judge compare` killed with SIGKILL at many points, then rerun, loses nothing.

The run is sampled with batch size 1 and one prompt per chunk, so each record is written on its
own and a resumed run must reproduce the uninterrupted run exactly. The tiny model answers and
judges (plumbing: what is checked is what survives a kill, not what the model says). The runs
that are killed are processes of their own; the uninterrupted run and the final resume, which
nothing kills, run in this process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import JUDGE, Ran, judge_cli, judge_env
from helpers import count_lines as lines

pytestmark = pytest.mark.slow


def single(model: str) -> Callable[[Path], list[str]]:
    """`judge compare MODEL MODEL --judge MODEL ...` into OUT, the summary on stdout."""
    return lambda out: [
        JUDGE, "compare", model, model, "--judge", model, "--limit", "3", "--engine", "hf",
        "--batch-size", "1", "--chunk", "1", "--temperature", "0.7", "--max-new-tokens", "12",
        "--judge-max-new-tokens", "6", "--bootstrap", "200", "--out", str(out), "--json"]


def panel(model: str) -> Callable[[Path], list[str]]:
    """The same run judged by a panel: the model with two templates (both read label
    probabilities where the text is no label, as the tiny model's always is)."""
    return lambda out: [*single(model)(out), "--judge", f"{model}@pairwise-reference"]


def files(out: Path, pattern: str) -> list[Path]:
    return sorted(out.glob(pattern))


def kill_when(out: Path, cache_dir: Path, ready: Callable[[Path, float], bool],
              command: Callable[[Path], list[str]], limit: float = 300) -> bool:
    """Start a run, SIGKILL it once `ready(out, seconds)` holds; False if it finished first."""
    proc = subprocess.Popen(command(out), env=judge_env(cache_dir), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    start = time.monotonic()
    while proc.poll() is None and time.monotonic() < start + limit:
        if ready(out, time.monotonic() - start):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.01)
    proc.wait(timeout=limit)
    return False


def in_process(command: list[str], cache_dir: Path) -> Ran:
    """A run that nothing kills: the same command, in this process."""
    done = judge_cli(*command[1:], env={"JUDGE_CACHE_DIR": str(cache_dir)})
    assert done.code == 0, done.stderr[-2000:]
    return done


def records(out: Path) -> list[dict]:
    return [json.loads(line) for p in files(out, "judgments/*.jsonl")
            for line in p.read_text().splitlines()]


def test_killed_and_resumed_run_equals_an_uninterrupted_one(tmp_path, cache_dir, tiny):
    args = single(tiny.ref)
    expected = json.loads(in_process(args(tmp_path / "whole"), cache_dir).stdout)["pairwise"]

    out = tmp_path / "killed"
    def count(pattern: str) -> Callable[[Path], int]:
        return lambda o: sum(lines(p) for p in files(o, pattern))

    answers, verdicts = count("generations/*.jsonl"), count("judgments/*.jsonl")
    stages = {
        "while starting up": lambda o, t: t > 3,
        "after the first answer": lambda o, t: answers(o) >= 1,
        "in the second model's answers": lambda o, t: answers(o) >= 4,
        "after the first verdict": lambda o, t: verdicts(o) >= 1,
        "late in judging": lambda o, t: verdicts(o) >= 4,
        "after the last verdict": lambda o, t: verdicts(o) >= 6,
    }
    killed = [name for name, ready in stages.items() if kill_when(out, cache_dir, ready, args)]
    assert len(killed) >= 3, f"the run finished before most kill points: killed {killed}"

    # A kill in the middle of a write leaves half a line: simulate it on the judgments file.
    (jfile,) = files(out, "judgments/*.jsonl")
    data = jfile.read_bytes()
    jfile.write_bytes(data + data.splitlines(keepends=True)[0][:40])

    final = in_process(args(out), cache_dir)
    assert "torn last line" in final.stderr
    keys = [(r["prompt_id"], r["order"]) for r in records(out)]
    assert len(keys) == len(set(keys)) == 6  # no duplicates, no gaps
    assert json.loads(final.stdout)["pairwise"] == expected
    assert json.loads((out / "summary.json").read_text())["pairwise"] == expected
    for name in ("generations", "judgments"):
        assert sorted(p.name for p in (out / name).iterdir()) == sorted(
            p.name for p in (tmp_path / "whole" / name).iterdir())


def test_a_killed_panel_run_resumes_where_each_judge_stopped(tmp_path, cache_dir, tiny):
    panel_args = panel(tiny.ref)
    expected = json.loads(in_process(panel_args(tmp_path / "whole"), cache_dir).stdout)

    out = tmp_path / "killed"
    def count(pattern: str) -> Callable[[Path], int]:
        return lambda o: sum(lines(p) for p in files(o, pattern))

    first = count("judgments/*__pairwise.jsonl")
    second = count("judgments/*__pairwise-reference.jsonl")
    checks = count("controls/*__*.jsonl")
    stages = {
        "in the first judge's verdicts": lambda o, t: first(o) >= 2,
        "in the first judge's controls": lambda o, t: checks(o) >= 1,
        "in the second judge's verdicts": lambda o, t: second(o) >= 2,
        "in the second judge's controls": lambda o, t: second(o) >= 6 and checks(o) >= 7,
    }
    killed = [name for name, ready in stages.items()
              if kill_when(out, cache_dir, ready, panel_args)]
    assert len(killed) >= 2, f"the run finished before most kill points: killed {killed}"
    before = {p: p.read_bytes() for p in files(out, "*/*__*.jsonl")}

    resumed = json.loads(in_process(panel_args(out), cache_dir).stdout)
    for block in ("pairwise", "panel", "members", "controls", "verdict"):
        assert resumed[block] == expected[block]
    for path, data in before.items():  # what was judged before the kills stays as it was
        assert path.read_bytes().startswith(data)
    for ledger in files(out, "*/*__*.jsonl"):
        keys = [json.loads(x)["key"] for x in ledger.read_text().splitlines()]
        assert len(keys) == len(set(keys)) == lines(tmp_path / "whole" / ledger.relative_to(out))


def streaming(model: str) -> Callable[[Path], list[str]]:
    """A run on the default window: each stage is one stream over all its work, every record
    written the moment its request finishes (batch size 1: one request at a time)."""
    return lambda out: [
        JUDGE, "compare", model, model, "--judge", model, "--limit", "4", "--engine", "hf",
        "--batch-size", "1", "--temperature", "0.7", "--max-new-tokens", "12",
        "--judge-max-new-tokens", "6", "--controls", "0", "--bootstrap", "200", "--out",
        str(out), "--json"]


def test_a_kill_inside_a_stream_loses_nothing_and_the_rerun_asks_only_for_the_rest(
        tmp_path, cache_dir, tiny, monkeypatch):
    import judge.pipeline.compare as compare
    from judge.engines import load_engine

    args = streaming(tiny.ref)
    expected = json.loads(in_process(args(tmp_path / "whole"), cache_dir).stdout)["pairwise"]
    out = tmp_path / "killed"
    answers = lambda o: sum(lines(p) for p in files(o, "generations/*.jsonl"))  # noqa: E731
    verdicts = lambda o: sum(lines(p) for p in files(o, "judgments/*.jsonl"))  # noqa: E731
    # inside the first stream (2 of the base model's 4 answers), then inside the judge's
    assert kill_when(out, cache_dir, lambda o, t: answers(o) >= 2, args)
    assert 2 <= answers(out) < 8 and verdicts(out) == 0
    assert kill_when(out, cache_dir, lambda o, t: verdicts(o) >= 3, args)
    had = {p.relative_to(out): p.read_bytes() for p in files(out, "*/*.jsonl")}
    assert answers(out) == 8 and 3 <= verdicts(out) < 8

    asked: list[tuple[int, int]] = []  # (max new tokens, chats) per stream call on the rerun

    def counted(model, options):
        engine = load_engine(model, options)
        stream = engine.stream

        def recording(chats, params, labels=None, grammar=None):
            asked.append((params.max_new_tokens, len(chats)))
            return stream(chats, params, labels, grammar)

        engine.stream = recording  # type: ignore[method-assign]
        return engine

    original = compare.run_compare  # what the CLI reaches through judge.api
    monkeypatch.setattr("judge.api.runs.run_compare",
                        lambda config, progress, loader: original(config, progress, counted))
    final = in_process(args(out), cache_dir)
    assert json.loads(final.stdout)["pairwise"] == expected
    for path, data in had.items():  # what was written before the kills stays as it was
        assert (out / path).read_bytes().startswith(data)
    judged = [json.loads(x) for p in files(out, "judgments/*.jsonl")
              for x in p.read_text().splitlines()]
    assert len({j["key"] for j in judged}) == len(judged) == 8  # no gaps, no duplicates
    new = [j for j in judged if j["key"] not in {json.loads(x)["key"] for p, d in had.items()
                                                 for x in d.decode().splitlines()}]
    # the rerun asked the engine for exactly the verdicts that were missing, and for no answer
    assert asked == [(6, len([j for j in new if not j.get("skipped")]))]
