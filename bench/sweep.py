"""What `judge sweep` costs next to the same work done by hand, and what its rerun costs.

    export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1
    .venv/bin/python bench/sweep.py                   # the test suite's configuration
    .venv/bin/python bench/sweep.py --steps 5 --prompts 8 --answer-tokens 64

The test configuration (tests/test_sweep_train.py): a 2-trial learning-rate grid on the CPU recipe,
2 ORPO steps each, 4 built-in prompts judged by smollm2 on the transformers engine. Three runs, one
after the other, each a subprocess into a fresh folder:

1. `judge sweep` (one trial at a time);
2. the same sweep again (everything cached: no training, no model loaded);
3. by hand: `judge train orpo` for each trial, then `judge leaderboard --reference smollm2` over
   the two folders.

Last line: sweep / by hand, and rerun / sweep.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from judge.cli.common import default_cache

JUDGE = str(Path(sys.executable).parent / "judge")
RATES = ("1e-5", "2e-5")


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--answer-tokens", type=int, default=8)
    parser.add_argument("--cache-dir", default=default_cache())
    args = parser.parse_args()
    train = ["--max-steps", str(args.steps), "--save-steps", "1", "--save-total-limit", "1",
             "--max-length", "128", "--warmup-steps", "0"]
    judging = ["--limit", str(args.prompts), "--engine", "hf", "--max-new-tokens",
               str(args.answer_tokens), "--judge-max-new-tokens", "4", "--bootstrap", "200",
               "--cache-dir", args.cache_dir]
    with tempfile.TemporaryDirectory() as tmp:
        sweep = [JUDGE, "sweep", "--recipe", "smollm2-cpu", "--grid",
                 f"learning_rate={','.join(RATES)}", *train, *judging, "--out", f"{tmp}/sweep"]
        cold = timed(sweep)
        rerun = timed(sweep)
        by_hand = 0.0
        for rate in RATES:
            by_hand += timed([JUDGE, "train", "orpo", "--recipe", "smollm2-cpu", *train,
                              "--learning-rate", rate, "--output-dir", f"{tmp}/lr-{rate}",
                              "--cache-dir", args.cache_dir])
        by_hand += timed([JUDGE, "leaderboard", "--reference", "smollm2",
                          *(f"{tmp}/lr-{rate}" for rate in RATES), *judging,
                          "--out", f"{tmp}/lb"])
    print(" ".join(sweep[1:]).replace(tmp, "TMP"))
    print(f"judge sweep, cold: {cold:.1f} s")
    print(f"judge sweep, rerun: {rerun:.1f} s")
    print(f"by hand (2 x judge train + judge leaderboard): {by_hand:.1f} s")
    print(f"sweep / by hand: {cold / by_hand:.2f}x; rerun / sweep: {rerun / cold:.1%}")


if __name__ == "__main__":
    main()
