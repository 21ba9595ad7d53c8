"""Models the demo's compare loads, before and after the judge runs on the engine already loaded.

    export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 VLLM_ENABLE_V1_MULTIPROCESSING=0
    .venv/bin/python bench/stage_loads.py                    # trains a 1-step model first
    .venv/bin/python bench/stage_loads.py --tuned DIR        # a folder `judge train orpo` wrote

The demo's configuration: base = judge = smollm2 (the default judge), tuned = a folder trained by
`judge train orpo --recipe smollm2-cpu`. One step of training is enough here: what a load costs
does not depend on how well the model trained. judge.pipeline.compare.run_compare runs in-process
with the real loader (judge.engines.load_engine, default engine vLLM, 1 GiB KV cache) on the first
N built-in prompts with 32-token answers sampled at temperature 0.7 (the two models' greedy
answers after one training step are mostly identical, and identical pairs need no judge, so the
judge would never load; loads do not depend on N or on sampling), without the demo's lm-eval
and card steps (those load models on their own, outside compare's pool), into a fresh run folder
each time, so nothing comes from a cache.
  before  the old stage order: base, tuned, then the judge (generation_order replaced by one that
          always returns base, tuned);
  after   the order compare uses now: a side whose model is the judge generates last.
One untimed run comes first (the first engine start in a process also pays one-time
initialisation), then runs go before, after, after, before (A-B-B-A). Reported per run:
run.json's models_loaded, summary.json's load_models seconds (EnginePool's time inside the
loader) and the run's wall time.
The last line is the ratio of load seconds after/before.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from judge.cli.common import default_cache, quiet_backends

JUDGE = Path(sys.executable).parent / "judge"


def train(folder: Path, cache_dir: str) -> None:
    cmd = [str(JUDGE), "train", "orpo", "--recipe", "smollm2-cpu", "--max-steps", "1",
           "--output-dir", str(folder), "--cache-dir", cache_dir]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")


def one_run(tuned: Path, out: Path, args, order: str) -> tuple[list[str], float, float]:
    """(models loaded, load seconds, wall seconds) of one compare in the given stage order."""
    import judge.pipeline.compare as compare
    from judge.engines import EngineOptions

    now = compare.generation_order
    if order == "before":
        compare.generation_order = lambda models: ["base", "tuned"]
    try:
        config = compare.CompareConfig(
            base="smollm2", tuned=str(tuned), limit=args.prompts, max_new_tokens=32,
            temperature=0.7, out=str(out), cache_dir=args.cache_dir,
            engine=EngineOptions(kv_cache_gb=1.0), bootstrap=200,
        )
        start = time.perf_counter()
        summary = compare.run_compare(config, lambda name, total: lambda done, tokens: None)
        wall = time.perf_counter() - start
    finally:
        compare.generation_order = now
    loaded = json.loads((out / "run.json").read_text())["models_loaded"]
    if summary.verdict_sources.get("skipped", 0) == 2 * args.prompts:
        sys.exit("every answer pair was identical, so no judge was needed: nothing to measure")
    return [Path(ref).name for ref in loaded], summary.timing["load_models"].seconds, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tuned", type=Path, help="a trained folder (default: train 1 step)")
    parser.add_argument("--prompts", type=int, default=4, help="first N built-in prompts")
    parser.add_argument("--cache-dir", default=default_cache())
    args = parser.parse_args()
    quiet_backends()

    totals = {"before": [0.0, 0.0, 0], "after": [0.0, 0.0, 0]}
    with tempfile.TemporaryDirectory() as tmp:
        tuned = args.tuned
        if tuned is None:
            tuned = Path(tmp) / "tuned"
            train(tuned, args.cache_dir)
        one_run(tuned, Path(tmp) / "warm-up", args, "after")  # the process's first engine
        # start also pays one-time imports and initialisation: untimed, so neither side gets it
        for n, order in enumerate(("before", "after", "after", "before")):
            loaded, load_s, wall = one_run(tuned, Path(tmp) / f"run{n}", args, order)
            totals[order][0] += load_s
            totals[order][1] += wall
            totals[order][2] += len(loaded)
            print(f"run {n + 1} {order:<6}: models loaded {loaded} ({len(loaded)}), "
                  f"load_models {load_s:5.1f} s, compare wall {wall:5.1f} s", flush=True)
    before, after = totals["before"], totals["after"]
    print(f"workload: judge compare smollm2 TUNED --judge smollm2 --limit {args.prompts} "
          "--max-new-tokens 32 --temperature 0.7 (the demo's models), engine vllm")
    print(f"before: {before[2] / 2:.0f} loads per run, {before[0]:.1f} s loading, "
          f"{before[1]:.1f} s wall over 2 runs")
    print(f"after : {after[2] / 2:.0f} loads per run, {after[0]:.1f} s loading, "
          f"{after[1]:.1f} s wall over 2 runs")
    print(f"ratio load seconds after/before: {after[0] / before[0]:.3f}x "
          f"(loads {before[2] // 2} -> {after[2] // 2})")


if __name__ == "__main__":
    main()
