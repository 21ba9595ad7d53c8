"""Pointwise ratings: each answer scored alone on a rubric scale (e.g. 1–10), base and tuned paired.

Lines: prompt_id, rating_base, rating_tuned. A line with a missing or NaN rating is invalid and
counted; several lines of one prompt (repeated judging) are averaged per side into one item. Per
item d = rating_tuned − rating_base; we report both means, the mean difference with its standard
error sd(d, ddof=1)/√n and a seeded paired bootstrap interval, and the Wilcoxon signed-rank p-value
(two-sided; zero differences dropped, as Wilcoxon defined it), which asks whether tuned is rated
higher more consistently than chance would explain without assuming normal differences.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats as sps

from judge.errors import InputError
from judge.runs.summary import BootstrapInterval, RatingsStats
from judge.stats.intervals import bootstrap_interval
from judge.stats.lines import check_ids, detect_format


def rating(row: Mapping[str, Any], key: str, number: int) -> float | None:
    value = row.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"record {number}: {key} {value!r} is not a number")
    return None if math.isnan(value) else float(value)


def paired_items(rows: Sequence[Mapping[str, Any]]) -> tuple[dict[str, tuple[float, float]], int]:
    """Mean (base, tuned) rating per prompt over its valid lines, and the invalid line count."""
    sides: dict[str, list[tuple[float, float]]] = defaultdict(list)
    invalid = 0
    for number, row in enumerate(rows, start=1):
        base, tuned = rating(row, "rating_base", number), rating(row, "rating_tuned", number)
        if base is None or tuned is None or math.isinf(base) or math.isinf(tuned):
            invalid += 1
            continue
        sides[str(row["prompt_id"])].append((base, tuned))
    items = {pid: (float(np.mean([b for b, _ in v])), float(np.mean([t for _, t in v])))
             for pid, v in sides.items()}
    return items, invalid


def wilcoxon_p(diffs: np.ndarray) -> float:
    """Two-sided signed-rank p-value; 1.0 when every difference is zero (no evidence either way)."""
    if not np.any(diffs != 0):
        return 1.0
    return float(sps.wilcoxon(diffs, zero_method="wilcox", alternative="two-sided").pvalue)


def summarize_ratings(
    rows: Sequence[Mapping[str, Any]],
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> RatingsStats:
    """The ratings block: means, mean paired difference with interval, Wilcoxon p-value."""
    if not rows or detect_format(rows) != "ratings":
        raise InputError("rating statistics need lines with rating_base and rating_tuned")
    check_ids(rows)
    items, invalid = paired_items(rows)
    if not items:
        raise InputError("no line has both ratings (every line is invalid or missing)")
    ids = sorted(items)  # a fixed item order keeps the seeded bootstrap independent of line order
    base = np.array([items[p][0] for p in ids])
    tuned = np.array([items[p][1] for p in ids])
    diffs = tuned - base
    n = len(ids)
    low, high = bootstrap_interval(diffs, confidence, resamples, seed)
    return RatingsStats(
        n=n,
        n_invalid=invalid,
        mean_base=float(base.mean()),
        mean_tuned=float(tuned.mean()),
        mean_difference=float(diffs.mean()),
        standard_error=float(diffs.std(ddof=1) / math.sqrt(n)) if n > 1 else None,
        ci=BootstrapInterval(method="paired_bootstrap", level=confidence, low=low, high=high,
                             resamples=resamples, seed=seed),
        higher=int((diffs > 0).sum()),
        lower=int((diffs < 0).sum()),
        equal=int((diffs == 0).sum()),
        p_value=wilcoxon_p(diffs),
    )
