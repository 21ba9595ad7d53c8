"""What a judged evaluation during training costs, next to what a training step costs.

    export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1
    .venv/bin/python bench/judged_eval.py                         # ORPO, 4 prompts, 256 tokens
    .venv/bin/python bench/judged_eval.py --method dpo --prompts 8 --answer-tokens 128

One real `judge train METHOD --recipe smollm2-cpu --max-steps 4 --judge-every 2` (a subprocess,
smollm2 judging, CPU) into a fresh folder. Read back: training.json's seconds per training step
(the judged evaluations are not in it), each judged step's `eval_judge_runtime` from metrics.jsonl
(the policy's answers, then both orders judged; the first also loads the judge), and the log line
that times the base's answers before step 1. Last line: one judged evaluation / one training step.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from judge.cli.common import default_cache

JUDGE = Path(sys.executable).parent / "judge"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="orpo", choices=["orpo", "dpo", "sft"])
    parser.add_argument("--prompts", type=int, default=4, help="first N built-in prompts")
    parser.add_argument("--answer-tokens", type=int, default=256)
    parser.add_argument("--cache-dir", default=default_cache())
    args = parser.parse_args()
    recipe = "smollm2-cpu" if args.method == "orpo" else f"smollm2-{args.method}-cpu"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "tuned"
        cmd = [str(JUDGE), "train", args.method, "--recipe", recipe, "--output-dir", str(out),
               "--max-steps", "4", "--save-strategy", "no", "--eval-fraction", "0",
               "--judge-every", "2", "--judge-limit", str(args.prompts),
               "--judge-answer-tokens", str(args.answer_tokens), "--cache-dir", args.cache_dir]
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
        record = json.loads((out / "training.json").read_text())
        rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    base = re.search(r"base's answers to \d+ prompts, ([\d.]+) s", " ".join(done.stderr.split()))
    judged = {row["step"]: row["eval_judge_runtime"] for row in rows if "eval_judge_runtime" in row}
    step = record["seconds_per_step"]
    print(f"{' '.join(cmd[1:])}")
    print(f"wall {wall:.1f} s; training {record['seconds']:.1f} s for 4 steps")
    print(f"base answers before step 1: {base.group(1) if base else '?'} s")
    for at, seconds in judged.items():
        print(f"judged evaluation at step {at}: {seconds:.1f} s"
              + (" (includes loading the judge)" if at == min(judged) else ""))
    print(f"training step (median, first left out): {step:.2f} s")
    steady = judged[max(judged)]
    print(f"judged evaluation / training step: {steady / step:.1f}x "
          f"({steady:.1f} s vs {step:.2f} s; {args.prompts} prompts, {args.answer_tokens} tokens)")


if __name__ == "__main__":
    main()
