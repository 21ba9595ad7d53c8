"""Graded verdicts (A>>B ...): arena-hard's rate, where a strong verdict counts as several."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from judge.runs.summary import BootstrapInterval, GradedStats
from judge.stats.intervals import bootstrap_interval


def weighted_win_rate(
    rows: Sequence[Mapping[str, Any]], confidence: float = 0.95, resamples: int = 2000,
    seed: int = 0,
) -> GradedStats | None:
    """Arena-hard style rate: a line of weight w counts as w plain lines of its outcome.

    Per prompt, Σ w·score / Σ w over its valid lines (each score 1, 0.5 or 0, so the result stays
    in [0, 1]); the rate is the mean over prompts, with a seeded paired bootstrap interval.
    `pooled_win_rate` is arena-hard's own score, Σ w·score / Σ w over all valid lines at once, so
    a prompt with strong verdicts weighs more. None when no line carries a weight.
    """
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    strong = 0
    for row in rows:
        if row.get("weight") is None or row.get("score") is None:
            continue
        w = float(row["weight"])
        sums[str(row["prompt_id"])][0] += w * float(row["score"])
        sums[str(row["prompt_id"])][1] += w
        strong += w > 1
    if not sums:
        return None
    ids = sorted(sums)
    items = np.array([sums[p][0] / sums[p][1] for p in ids])
    low, high = bootstrap_interval(items.tolist(), confidence, resamples, seed)
    won, weights = (np.array([sums[p][k] for p in ids]) for k in (0, 1))
    p_low, p_high = pooled_interval(won, weights, confidence, resamples, seed)
    return GradedStats(
        weighted_win_rate=float(items.mean()), n=len(items), strong_lines=strong,
        ci=BootstrapInterval(method="paired_bootstrap", level=confidence, low=low, high=high,
                             resamples=resamples, seed=seed),
        pooled_win_rate=float(won.sum() / weights.sum()),
        pooled_ci=BootstrapInterval(method="prompt_bootstrap", level=confidence, low=p_low,
                                    high=p_high, resamples=resamples, seed=seed),
    )


def pooled_interval(
    won: np.ndarray, weights: np.ndarray, confidence: float, resamples: int, seed: int
) -> tuple[float, float]:
    """Percentile interval of Σ won / Σ weight over prompts drawn with replacement (a prompt's
    verdicts stay together, unlike arena-hard's row bootstrap, because they are not independent)."""
    rng = np.random.default_rng(seed)
    n = len(won)
    counts = rng.multinomial(n, np.full(n, 1 / n), size=resamples).astype(float)
    ratios = (counts @ won) / (counts @ weights)
    tail = (1 - confidence) / 2
    low, high = np.quantile(ratios, [tail, 1 - tail])
    return float(low), float(high)
