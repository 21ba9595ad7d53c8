"""Graded verdicts (A>>B ...): arena-hard's rate, where a strong verdict counts as several."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from judge.stats.intervals import bootstrap_interval
from judge.stats.summary import BootstrapInterval, GradedStats


def weighted_win_rate(
    rows: Sequence[Mapping[str, Any]], confidence: float = 0.95, resamples: int = 2000,
    seed: int = 0,
) -> GradedStats | None:
    """Arena-hard style rate: a line of weight w counts as w plain lines of its outcome.

    Per prompt, Σ w·score / Σ w over its valid lines (each score 1, 0.5 or 0, so the result stays
    in [0, 1]); the rate is the mean over prompts, with a seeded paired bootstrap interval.
    None when no line carries a weight (the template declares none).
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
    items = np.array([sums[p][0] / sums[p][1] for p in sorted(sums)])
    low, high = bootstrap_interval(items.tolist(), confidence, resamples, seed)
    return GradedStats(
        weighted_win_rate=float(items.mean()), n=len(items), strong_lines=strong,
        ci=BootstrapInterval(method="paired_bootstrap", level=confidence, low=low, high=high,
                             resamples=resamples, seed=seed),
    )
