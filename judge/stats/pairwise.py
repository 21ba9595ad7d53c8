"""Pure statistics over judged comparisons (AlpacaEval-compatible; docs/reference/statistics.md).

A *line* is one judged comparison (one order). Its score is the tuned model's probability of being
better: 1 = tuned wins, 0 = base wins, 0.5 = tie, anything between = a soft (log-prob) verdict.
Invalid lines are left out and counted; the lines of one prompt (its two orders) are averaged into
one *item*, and every rate is over items. Items are taken in prompt_id order, so the seeded
bootstrap gives the same interval however the file's lines happen to be ordered (a resumed run
appends in a different order than a fresh one).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from judge.errors import InputError
from judge.runs.summary import BootstrapInterval, Interval, LengthModel, PairwiseStats
from judge.stats.categories import group_rows
from judge.stats.intervals import bootstrap_interval, sign_test, wilson
from judge.stats.lc import length_controlled
from judge.stats.lines import check_pairwise

WINNER_SCORE = {"tuned": 1.0, "base": 0.0, "tie": 0.5}
# An item whose averaged score is 0.5 up to float rounding (say 0 and 0.9999999999999999) is a tie:
# rounding error must not decide a win or a loss.
TIE_TOLERANCE = 1e-9


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
    if abs(score - 0.5) <= TIE_TOLERANCE:
        return "tie"
    return "tuned" if score > 0.5 else "base"


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


def item_means(rows: Iterable[Mapping[str, Any]]) -> tuple[list[str], np.ndarray]:
    """The items: prompt ids in order and each prompt's mean line score."""
    grouped, _ = item_scores(rows)
    if not grouped:
        raise InputError("no valid judgment to aggregate (every line is invalid or missing)")
    ids = sorted(grouped)
    return ids, np.array([float(np.mean(grouped[pid])) for pid in ids])


def by_category(
    rows: Sequence[Mapping[str, Any]], confidence: float = 0.95, resamples: int = 2000,
    seed: int = 0,
) -> dict[str, PairwiseStats | None]:
    """The pairwise block of each category's lines (judge/stats/categories.py says when there
    are any); None for a category whose every line is invalid."""
    return {name: summarize(group, confidence, resamples, seed) if item_scores(group)[0] else None
            for name, group in group_rows(rows).items()}


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
    agree = sum(o["base_first"] == o["tuned_first"] for o in pairs)
    consistency = agree / len(pairs) if pairs else None
    return consistency, (first / decisive if decisive else None)


def summarize(
    rows: Sequence[Mapping[str, Any]],
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> PairwiseStats:
    """The `pairwise` block of summary.json (docs/reference/statistics.md defines each field)."""
    lengths = check_pairwise(rows)
    ids, scores = item_means(rows)
    invalid = item_scores(rows)[1]
    return item_block(ids, scores, [outcome(float(s)) for s in scores], rows, invalid, len(rows),
                      lengths, soft_win_rate(rows), confidence, resamples, seed)


def item_block(
    ids: Sequence[str], scores: np.ndarray, outcomes: Sequence[str],
    ordered: Sequence[Mapping[str, Any]], invalid: int, lines: int,
    lengths: Mapping[str, tuple[float, float]] | None, soft: float | None,
    confidence: float, resamples: int, seed: int,
) -> PairwiseStats:
    """The pairwise block of items with these mean scores and discrete outcomes; `ordered` are
    the lines that carry the orders (position statistics). A single judge's outcome is its
    rounded score; a panel's is its members' majority (judge/stats/panel.py)."""
    n = len(scores)
    wins, losses = outcomes.count("tuned"), outcomes.count("base")
    ties = n - wins - losses
    discrete = np.array([WINNER_SCORE[o] for o in outcomes])
    low, high = wilson(wins + ties / 2, n, confidence)
    b_low, b_high = bootstrap_interval(scores, confidence, resamples, seed)
    consistency, first_rate = position_stats(ordered)
    warnings = invalid_warning(invalid, lines)
    lc: dict[str, Any] = {"lc_win_rate": None}
    if lengths is not None:
        lc = length_controlled(scores, [lengths[p][0] for p in ids], [lengths[p][1] for p in ids])
        warnings += lc.pop("warnings")
    return PairwiseStats(
        n=n,
        n_invalid=invalid,
        wins=wins,
        losses=losses,
        ties=ties,
        win_rate=float(scores.mean()),
        standard_error=float(scores.std(ddof=1) / math.sqrt(n)) if n > 1 else None,
        discrete_win_rate=float(discrete.mean()),
        ci=Interval(method="wilson", level=confidence, low=low, high=high),
        ci_bootstrap=BootstrapInterval(method="paired_bootstrap", level=confidence, low=b_low,
                                       high=b_high, resamples=resamples, seed=seed),
        soft_win_rate=soft,
        p_value=sign_test(wins, losses),
        position_consistency=consistency,
        first_position_rate=first_rate,
        lc_win_rate=lc.pop("lc_win_rate"),
        lc_model=LengthModel(**lc) if lengths is not None else None,
        warnings=warnings,
    )


def soft_win_rate(rows: Sequence[Mapping[str, Any]]) -> float | None:
    """Mean over prompts of the judge's label probability for the tuned answer (`p_tuned`, both
    orders averaged), or None when no line carries one (text verdicts, files from elsewhere)."""
    grouped: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        value = row.get("p_tuned")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"prompt {row.get('prompt_id')}: p_tuned {value!r} is not a number")
        if math.isnan(value):
            continue
        if not 0.0 <= value <= 1.0:
            raise InputError(f"prompt {row.get('prompt_id')}: p_tuned {value} is outside [0, 1]")
        grouped[str(row["prompt_id"])].append(float(value))
    if not grouped:
        return None
    return float(sum(sum(v) / len(v) for v in (grouped[k] for k in sorted(grouped))) / len(grouped))


def invalid_warning(invalid: int, lines: int) -> list[str]:
    """A note when parse failures are common enough to bias the rate if they are not random."""
    if lines and invalid / lines >= 0.1:
        return [f"{invalid} of {lines} judgment lines ({invalid / lines:.0%}) are invalid and left "
                "out; the rate describes only the parsed verdicts"]
    return []
