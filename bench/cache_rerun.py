"""A fully cached rerun of `judge compare` vs the cold run that filled the cache.

    export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 VLLM_ENABLE_V1_MULTIPROCESSING=0
    .venv/bin/python bench/cache_rerun.py                    # 16 prompts, 128-token answers
    .venv/bin/python bench/cache_rerun.py --prompts 4 --max-new-tokens 16

Both runs are the real CLI (`.venv/bin/judge compare`, a subprocess each), so each pays what a
user pays: interpreter start, imports, model resolution, and on the cold run engine start and
every model call. The run is an A/A comparison of the bundled model at temperature 0.7 (two seeds,
so the judge is really called) into a fresh folder; the rerun uses the same command and folder.
Checked after the rerun: run.json "models_loaded" is empty and summary.json's pairwise numbers
equal the cold run's. `judge --version` is timed too, as the floor any command pays to start.
Target: rerun/cold <= 5%.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from judge.cli.common import default_cache

JUDGE = Path(sys.executable).parent / "judge"


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def show_timing(label: str, timing: dict) -> None:
    """summary.json's cost report, one stage a line."""
    print(f"{label} summary.json timing:")
    for stage, t in timing.items():
        rate = t["tokens_per_second"]
        print(f"  {stage:<15} {t['seconds']:8.2f} s {t['tokens']:6d} tok"
              + (f" {rate:7.1f} tok/s" if rate is not None else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16, help="first N built-in prompts")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--cache-dir", default=default_cache())
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = [str(JUDGE), "compare", "smollm2", "smollm2", "--limit", str(args.prompts),
               "--max-new-tokens", str(args.max_new_tokens), "--temperature", "0.7",
               "--out", str(out), "--cache-dir", args.cache_dir]
        floor = timed([str(JUDGE), "--version"])
        cold = timed(cmd)
        cold_summary, cold_run = read(out / "summary.json"), read(out / "run.json")
        warm = timed(cmd)
        warm_summary, warm_run = read(out / "summary.json"), read(out / "run.json")

    print(f"workload: judge compare smollm2 smollm2 --limit {args.prompts} --max-new-tokens "
          f"{args.max_new_tokens} --temperature 0.7 (engine {cold_run['engine']})")
    print(f"cold run  : {cold:7.1f} s, models loaded {cold_run['models_loaded']}")
    print(f"cached run: {warm:7.1f} s, models loaded {warm_run['models_loaded']}")
    print(f"judge --version (start-up floor): {floor:.1f} s")
    same = warm_summary["pairwise"] == cold_summary["pairwise"]
    print(f"pairwise numbers identical: {same}")
    show_timing("cold run", cold_summary["timing"])
    show_timing("cached run", warm_summary["timing"])
    verdict = "ok" if not warm_run["models_loaded"] and same else "FAILED"
    print(f"ratio cached/cold: {warm / cold:.1%} (target <= 5%, no model loaded: {verdict})")


if __name__ == "__main__":
    main()
