"""Length-controlled win rate: what the win rate would be if both answers had the same length.

This is AlpacaEval's `length_controlled_minimal` model, the variant that needs nothing specific to
AlpacaEval's 805 instructions, so it ports to any prompt set. Per item i (one prompt, its orders
averaged) with score y_i (the tuned model's share of the verdicts) and length difference
δ_i = len_tuned − len_base in characters:

    logit P(tuned better | i) = θ + φ·tanh(δ_i / sd(δ))          sd with ddof = 1, as pandas does

fitted by maximum likelihood on the soft labels y_i (judge/stats/logistic.py). θ is the model
term and φ the judge's appetite for length; the tanh keeps one very long answer from dominating
the fit. The length-controlled win rate is the prediction at zero length difference: LC = σ(θ).
(AlpacaEval writes δ as baseline minus model; that only flips the sign of φ, never LC.)

Differences from AlpacaEval: no instruction-difficulty term and no regularisation towards
length-gamed baselines (both exist only for AlpacaEval's own instructions), and a plain maximum-
likelihood fit instead of its cross-validated L1 fit, so numbers on AlpacaEval annotations may
differ slightly from its leaderboard's `length_controlled_winrate`.

Sanity rule (AlpacaEval's warning for a failed fit, issue #310), with rates as fractions: the
adjustment may move the win rate w down by at most max(w/4, 0.10) and up by at most
max((1 − w)/4, 0.10). Farther than that, length explains implausibly much, usually because length
and quality are confounded beyond what a two-parameter model can separate, and LC should not be
trusted; the summary then carries a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.special import expit

from judge.stats.logistic import fit_logistic

CONSTANT_TOLERANCE = 1e-9  # as pairwise.TIE_TOLERANCE: rounding error decides nothing


def implausible(win_rate: float, lc: float) -> bool:
    """AlpacaEval's rule: LC left [w − max(w/4, .1), w + max((1 − w)/4, .1)]."""
    low = min(win_rate - win_rate / 4, win_rate - 0.10)
    high = max(win_rate + (1 - win_rate) / 4, win_rate + 0.10)
    return lc < low or lc > high


def length_controlled(
    scores: Sequence[float] | np.ndarray, len_base: Sequence[float], len_tuned: Sequence[float]
) -> dict[str, Any]:
    """{lc_win_rate, identity, length, length_sd, warnings} for item scores and answer lengths.

    lc_win_rate is None when it cannot be estimated: fewer than two items, or a length difference
    that never varies while it is not zero (then length and model are the same regressor).
    """
    y = np.asarray(scores, dtype=float)
    delta = np.asarray(len_tuned, dtype=float) - np.asarray(len_base, dtype=float)
    result: dict[str, Any] = {"lc_win_rate": None, "identity": None, "length": None,
                              "length_sd": None, "warnings": []}
    if len(y) < 2:
        result["warnings"].append("length control needs at least two items")
        return result
    sd = float(delta.std(ddof=1))
    result["length_sd"] = sd
    if sd == 0.0:
        if np.any(delta != 0):
            result["warnings"].append(
                "length control is undefined: the tuned answer is always longer (or shorter) by "
                "the same amount, so length and model cannot be told apart"
            )
            return result
        result["lc_win_rate"] = float(y.mean())  # equal lengths everywhere: nothing to adjust
        return result
    if np.ptp(y) <= CONSTANT_TOLERANCE:
        # the likelihood's supremum lies at infinity; its limit is the constant itself (scores
        # equal up to float rounding count as equal, or a 1e-195 would decide the fit)
        result.update(lc_win_rate=float(y[0]), identity=None, length=0.0)
    else:
        x = np.column_stack([np.ones_like(delta), np.tanh(delta / sd)])
        theta, phi = fit_logistic(x, y)
        result.update(lc_win_rate=float(expit(theta)), identity=float(theta), length=float(phi))
    win_rate = float(y.mean())
    if implausible(win_rate, result["lc_win_rate"]):
        result["warnings"].append(
            f"length-controlled win rate {result['lc_win_rate']:.3f} is implausibly far from the "
            f"raw {win_rate:.3f} (AlpacaEval's sanity rule); the length model likely failed"
        )
    return result
