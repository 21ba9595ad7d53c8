"""Intervals and tests for rates over items: Wilson, the seeded paired bootstrap, the sign test."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats as sps


def wilson(successes: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (successes may be fractional: ties count half)."""
    if n == 0:
        return (0.0, 1.0)
    z = float(sps.norm.ppf(0.5 + confidence / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # at p = 0 or 1 the bound is exactly 0 or 1; rounding would otherwise leave ~1e-17 there
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return (low, high)


def bootstrap_interval(
    scores: Sequence[float] | np.ndarray,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Seeded percentile bootstrap of the mean item score (items resampled as pairs)."""
    data = np.asarray(scores, dtype=float)
    # resamples are drawn in batches of about 2e7 numbers, so 100,000 items stay within ~200 MB
    batch = max(1, int(2e7 // max(len(data), 1)))
    if len(data) < 2 or np.all(data == data[0]):
        value = float(data.mean()) if len(data) else 0.5
        return (value, value) if len(data) else (0.0, 1.0)
    result = sps.bootstrap(
        (data,),
        np.mean,
        confidence_level=confidence,
        n_resamples=resamples,
        method="percentile",
        rng=np.random.default_rng(seed),
        vectorized=True,
        batch=batch,
    )
    return (float(result.confidence_interval.low), float(result.confidence_interval.high))


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact sign test of wins against losses (ties left out)."""
    if wins + losses == 0:
        return 1.0
    return float(sps.binomtest(wins, wins + losses, 0.5, alternative="two-sided").pvalue)
