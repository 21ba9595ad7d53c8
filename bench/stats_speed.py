"""How long the paired bootstrap takes, relative to one pass of the plain mean.

    .venv/bin/python bench/stats_speed.py            # 805 (AlpacaEval's size) and 100,000 items
    .venv/bin/python bench/stats_speed.py --resamples 2000 --sizes 48 805

For each size it times np.mean over the item scores (best of many runs: it is microseconds), then
one seeded bootstrap interval with the given resamples (judge.stats.intervals.bootstrap_interval,
the one compare and stats use), then the whole summarize() including the length-controlled fit.
Ratios are printed next to seconds; "per resample" divides the bootstrap ratio by the resample
count,
i.e. what one resample costs in plain means: near 1 means the bootstrap adds no overhead beyond
the arithmetic it must do.
"""

from __future__ import annotations

import argparse
import time
import timeit

import numpy as np


def best_mean_seconds(scores: np.ndarray) -> float:
    timer = timeit.Timer(lambda: np.mean(scores))
    loops, _ = timer.autorange()
    return min(timer.repeat(repeat=5, number=loops)) / loops


def judgment_rows(n: int, rng: np.random.Generator) -> list[dict]:
    """Compare-like lines: both orders, discrete verdicts, answer lengths."""
    rows = []
    for i in range(n):
        lengths = {"len_base": int(rng.integers(50, 900)), "len_tuned": int(rng.integers(50, 900))}
        for order in ("base_first", "tuned_first"):
            winner = str(rng.choice(["base", "tuned", "tie"], p=[0.4, 0.45, 0.15]))
            score = {"base": 0.0, "tuned": 1.0, "tie": 0.5}[winner]
            rows.append({"prompt_id": f"p{i}", "order": order, "winner": winner, "score": score,
                         **lengths})
    return rows


def main() -> None:
    from judge.stats.intervals import bootstrap_interval
    from judge.stats.pairwise import summarize

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[805, 100_000])
    parser.add_argument("--resamples", type=int, default=10_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'items':>8} {'mean s':>10} {'bootstrap s':>12} {'ratio':>10} {'per resample':>13} "
          f"{'summarize s':>12}")
    for n in args.sizes:
        rows = judgment_rows(n, rng)
        scores = np.array([(a["score"] + b["score"]) / 2 for a, b in zip(rows[::2], rows[1::2],
                                                                          strict=True)])
        mean_s = best_mean_seconds(scores)
        start = time.perf_counter()
        bootstrap_interval(scores, 0.95, args.resamples, seed=0)
        boot_s = time.perf_counter() - start
        start = time.perf_counter()
        summarize(rows, 0.95, args.resamples, seed=0)
        summary_s = time.perf_counter() - start
        ratio = boot_s / mean_s
        print(f"{n:>8} {mean_s:>10.2e} {boot_s:>12.3f} {ratio:>10.0f} "
              f"{ratio / args.resamples:>13.2f} {summary_s:>12.3f}")


if __name__ == "__main__":
    main()
