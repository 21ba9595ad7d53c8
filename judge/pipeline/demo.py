"""`judge demo`: the whole mission on the bundled model — ORPO-tune it, judge it against its base in
both orders, benchmark both with lm-eval, and write the tuned model's card.

    judge demo                          # what `make demo` runs (about 10 minutes on 2 CPU cores)
    judge demo --steps 2 --limit 3 --bench-limit 10 --engine hf --out /tmp/demo   # a quick pass

Every stage is cached: a second run reuses the trained model, the answers and the verdicts.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from judge.engines import EngineOptions
from judge.errors import InputError
from judge.files import write_atomic
from judge.pipeline.compare import CompareConfig, Progress, run_compare
from judge.pipeline.timing import stage_time
from judge.runs.summary import Summary
from judge.train.recipe import Recipe, find_recipe, read_recipe_file

RECIPE = "smollm2-cpu"  # recipes/smollm2-cpu.yaml, shipped in the wheel
# The child is `judge train` run by this very interpreter, with the current folder taken off
# sys.path first: a user's own train.py or judge/ in that folder must never run in our place.
CHILD = ("import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
         "from judge.cli.main import main; main()")


def trained(folder: Path, steps: int) -> bool:
    record = folder / "training.json"
    if not record.is_file():
        return False
    data = json.loads(record.read_text())
    planned = data.get("orpo_config", {}).get("max_steps")
    done = planned == steps and data.get("global_step", 0) >= steps
    return done and (folder / "config.json").is_file()


def train_stage(tuned: Path, steps: int, recipe: str, cache_dir: str) -> float:
    """Train in a child process (`judge train orpo`), so its memory is gone before vLLM starts."""
    if trained(tuned, steps):  # what training cost when it ran
        return float(json.loads((tuned / "training.json").read_text()).get("seconds") or 0.0)
    recipe_file = find_recipe(recipe)
    resume = tuned.is_dir() and any(tuned.glob("checkpoint-*"))
    if tuned.is_dir() and not resume:
        shutil.rmtree(tuned)  # the demo's own half-written output, with nothing to resume
    command = [sys.executable, "-c", CHILD, "train", "orpo", "--recipe", str(recipe_file),
               "--output-dir",
               str(tuned), "--max-steps", str(steps), "--save-steps", str(max(1, steps // 2)),
               "--cache-dir", cache_dir, *(["--resume"] if resume else [])]
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise InputError(f"training failed: {last}")
    return time.perf_counter() - start


def run_demo(
    out: Path, steps: int, limit: int, bench_limit: int | None, engine: EngineOptions,
    cache_dir: str, recipe: str, progress: Progress, say: Callable[[str], None],
) -> Summary:
    """Train, compare (+ bench + card); return summary.json with the demo's stage timings."""
    started = time.perf_counter()
    tuned = out / "tuned"
    # the model the recipe trains is the base it is compared with, and judges the pair (smollm2
    # for the shipped recipe)
    default = Recipe.model_fields["model"].default
    base = str(read_recipe_file(find_recipe(recipe)).get("model", default))
    say(f"1/2 ORPO on {base}, {steps} steps -> {tuned}")
    train_seconds = train_stage(tuned, steps, recipe, cache_dir)
    say(f"2/2 judge compare {base} vs the tuned model, both orders; lm-eval judge_mcq; card")
    config = CompareConfig(
        base=base, tuned=str(tuned), judge=base, limit=limit, max_new_tokens=192,
        bench=["judge_mcq"],
        bench_limit=bench_limit, card=str(out / "README.md"), out=str(out / "run"),
        cache_dir=cache_dir, engine=engine,
    )
    summary = run_compare(config, progress)
    timing = {"train": stage_time(train_seconds, 0), **summary.timing,
              "demo_total": stage_time(time.perf_counter() - started, 0)}
    write_atomic(out / "demo.json", json.dumps(
        {"timing": {k: v.model_dump() for k, v in timing.items()}}, indent=2) + "\n")
    return summary.model_copy(update={"timing": timing})
