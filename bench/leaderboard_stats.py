"""What a leaderboard's statistics cost next to one comparison's.

    .venv/bin/python bench/leaderboard_stats.py                 # 5 models x 805 prompts
    .venv/bin/python bench/leaderboard_stats.py --models 10 --prompts 200

Random verdicts (ties 20%) for every model against one reference in both orders; times one pair's
`summarize` (what `judge compare` computes) and the leaderboard's Bradley–Terry fit with its
prompt bootstrap over every model's lines. Prints the seconds of each and their ratio last.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from judge.stats.bradley_terry import bradley_terry
from judge.stats.pairwise import summarize


def battles(models: int, prompts: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for m in range(models):
        odds = [0.4 - 0.05 * m, 0.2, 0.4 + 0.05 * m]
        for p in range(prompts):
            for order in ("base_first", "tuned_first"):
                score = float(rng.choice([0.0, 0.5, 1.0], p=odds))
                winner = "model_b" if score > 0.5 else "model_a" if score < 0.5 else "tie"
                rows.append({"prompt_id": f"p{p}", "order": order, "model_a": "ref",
                             "model_b": f"m{m}", "score": score, "winner": winner})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=5)
    parser.add_argument("--prompts", type=int, default=805)
    parser.add_argument("--bootstrap", type=int, default=2000)
    args = parser.parse_args()
    rows = battles(args.models, args.prompts)
    pair = [{"prompt_id": r["prompt_id"], "order": r["order"], "score": r["score"]}
            for r in rows if r["model_b"] == "m0"]
    start = time.perf_counter()
    summarize(pair, resamples=args.bootstrap)
    one = time.perf_counter() - start
    start = time.perf_counter()
    bradley_terry(rows, "ref", resamples=args.bootstrap)
    fit = time.perf_counter() - start
    print(f"one pair's summarize ({args.prompts} prompts): {one:.2f} s")
    print(f"Bradley–Terry, {args.models} models x {args.prompts} prompts x 2 orders, "
          f"{args.bootstrap} resamples: {fit:.2f} s")
    print(f"ratio (leaderboard fit / one pair): {fit / one:.1f}")


if __name__ == "__main__":
    main()
