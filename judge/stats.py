"""Pure statistics over judged comparisons. Definitions follow shared/DESIGN.md (AlpacaEval-compatible).

A *line* is one judged comparison (one order). Its score is the tuned model's probability of being
better: 1 = tuned wins, 0 = base wins, 0.5 = tie, anything between = a soft (log-prob) verdict.
Invalid lines are left out and counted; the lines of one prompt (its two orders) are averaged into
one *item*, and every rate is over items.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats as sps

from judge.errors import InputError

WINNER_SCORE = {"tuned": 1.0, "base": 0.0, "tie": 0.5}


def line_score(row: Mapping[str, Any]) -> float | None:
    """The tuned model's score for one line, or None when the line is invalid.

    Accepts `score` in [0, 1], AlpacaEval's `preference` in [1, 2] (0 = legacy tie) or `winner`.
    """
    if row.get("score") is not None:
        value = float(row["score"])
        if math.isnan(value):
            return None
        if not 0.0 <= value <= 1.0:
            raise InputError(f"prompt {row.get('prompt_id')}: score {value} is outside [0, 1]")
        return value
    if row.get("preference") is not None:
        value = float(row["preference"])
        if math.isnan(value):
            return None
        value = 1.5 if value == 0 else value
        if not 1.0 <= value <= 2.0:
            raise InputError(f"prompt {row.get('prompt_id')}: preference {value} is outside [1, 2]")
        return value - 1.0
    winner = row.get("winner")
    if winner == "invalid" or winner is None:
        return None
    if winner not in WINNER_SCORE:
        raise InputError(f"prompt {row.get('prompt_id')}: unknown winner {winner!r}")
    return WINNER_SCORE[winner]


def outcome(score: float) -> str:
    return "tuned" if score > 0.5 else "base" if score < 0.5 else "tie"


def item_scores(rows: Iterable[Mapping[str, Any]]) -> tuple[dict[str, list[float]], int]:
    """Valid line scores grouped by prompt_id, and the number of invalid lines."""
    grouped: dict[str, list[float]] = defaultdict(list)
    invalid = 0
    for row in rows:
        score = line_score(row)
        if score is None:
            invalid += 1
        else:
            grouped[str(row["prompt_id"])].append(score)
    return dict(grouped), invalid


def wilson(successes: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (successes may be fractional: ties count half)."""
    if n == 0:
        return (0.0, 1.0)
    z = float(sps.norm.ppf(0.5 + confidence / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def bootstrap_interval(
    scores: Sequence[float], confidence: float = 0.95, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Seeded percentile bootstrap of the mean item score (items resampled as pairs)."""
    data = np.asarray(scores, dtype=float)
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
    )
    return (float(result.confidence_interval.low), float(result.confidence_interval.high))


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact sign test of wins against losses (ties left out)."""
    if wins + losses == 0:
        return 1.0
    return float(sps.binomtest(wins, wins + losses, 0.5, alternative="two-sided").pvalue)


def position_stats(rows: Iterable[Mapping[str, Any]]) -> tuple[float | None, float | None]:
    """(position_consistency, first_position_rate) over lines that carry an `order`.

    Consistency: share of prompts judged validly in both orders whose two outcomes agree.
    First-position rate: share of decisive valid lines won by the answer shown first.
    """
    by_prompt: dict[str, dict[str, str]] = defaultdict(dict)
    first = decisive = 0
    for row in rows:
        order, score = row.get("order"), line_score(row)
        if order not in ("base_first", "tuned_first") or score is None:
            continue
        result = outcome(score)
        by_prompt[str(row["prompt_id"])][order] = result
        if result != "tie":
            decisive += 1
            first += (order == "base_first") == (result == "base")
    pairs = [o for o in by_prompt.values() if len(o) == 2]
    consistency = sum(o["base_first"] == o["tuned_first"] for o in pairs) / len(pairs) if pairs else None
    return consistency, (first / decisive if decisive else None)


def summarize(
    rows: Sequence[Mapping[str, Any]],
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """The `pairwise` block of summary.json (see DESIGN.md for each definition)."""
    grouped, invalid = item_scores(rows)
    if not grouped:
        raise InputError("no valid judgment to aggregate (every line is invalid or missing)")
    scores = np.array([float(np.mean(v)) for v in grouped.values()])
    n = len(scores)
    wins, losses = int((scores > 0.5).sum()), int((scores < 0.5).sum())
    ties = n - wins - losses
    discrete = np.where(scores > 0.5, 1.0, np.where(scores < 0.5, 0.0, 0.5))
    low, high = wilson(wins + ties / 2, n, confidence)
    b_low, b_high = bootstrap_interval(scores, confidence, resamples, seed)
    consistency, first_rate = position_stats(rows)
    return {
        "n": n,
        "n_invalid": invalid,
        "wins": wins,
        "losses": losses,
        "ties": ties,
        "win_rate": float(scores.mean()),
        "standard_error": float(scores.std(ddof=1) / math.sqrt(n)) if n > 1 else None,
        "discrete_win_rate": float(discrete.mean()),
        "ci": {"method": "wilson", "level": confidence, "low": low, "high": high},
        "ci_bootstrap": {
            "method": "paired_bootstrap",
            "level": confidence,
            "low": b_low,
            "high": b_high,
            "resamples": resamples,
            "seed": seed,
        },
        "p_value": sign_test(wins, losses),
        "position_consistency": consistency,
        "first_position_rate": first_rate,
        "lc_win_rate": None,
    }
