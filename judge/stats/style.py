"""Style-controlled win rate: the win rate with the answers' style differences taken out, after
arena-hard v2's style control, made portable (characters instead of gpt-4o tokens, two models).

Per item i (one prompt, its orders averaged into the score y_i) and answer texts, with L the
length in characters and, for headers, list items and bold spans, the density d = count / (L + 1)
counted on the text with ``` code blocks removed (arena-hard's add_markdown_info counting):

    length feature    (L_t − L_b) / (L_t + L_b)
    markdown features (d_t − d_b) / (d_t + d_b + 1)

Each feature is z-scored, z = (x − mean) / sd (ddof = 1), and the item outcomes are fitted by
maximum likelihood on soft labels, with no intercept besides the model term θ:

    logit P(tuned better | i) = θ + Σ_k γ_k · z_ik

The style-controlled win rate is the prediction at zero style difference (x = 0, i.e.
z_k = −mean_k / sd_k): σ(θ − Σ_k γ_k · mean_k / sd_k). With two models, predicting at z = 0 would
only reproduce the raw rate, which is why the point is zero difference, not the average one. The
interval is a seeded bootstrap over items, refitting each draw; `coefficients` are the γ_k (per
standard deviation of the feature, as arena-hard prints them).

A feature equal in every pair (0 everywhere: say no answer has a header) is left out: there is
nothing to control. With no feature left, the fit is the plain logistic rate σ(θ̂), the mean
outcome. A feature that never varies but is not 0 is the model term itself, and fewer than
MIN_ITEMS items cannot carry a five-parameter fit: the rate is then null, with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.special import expit

from judge.runs.summary import BootstrapInterval, StyleControl
from judge.stats.lc import CONSTANT_TOLERANCE
from judge.stats.logistic import fit_logistic

MIN_ITEMS = 10
MARKDOWN = ("header", "list", "bold")
FEATURES = ("length", *MARKDOWN)
CODE_BLOCK = re.compile(r"```[^`]*```")
PATTERNS = {
    "header": [re.compile(r"^#{1,6}\s", re.MULTILINE)],
    "list": [re.compile(r"^\s*\d+\.\s", re.MULTILINE), re.compile(r"^\s*[-*+]\s", re.MULTILINE)],
    "bold": [re.compile(r"\*\*[^*\n]+\*\*"), re.compile(r"__[^_\n]+__")],
}


def markdown_counts(text: str) -> dict[str, int]:
    """Headers, list items and bold spans outside code blocks."""
    prose = CODE_BLOCK.sub("", text)
    return {name: sum(len(p.findall(prose)) for p in patterns)
            for name, patterns in PATTERNS.items()}


def length_feature(base: float, tuned: float) -> float:
    return (tuned - base) / (tuned + base) if tuned + base > 0 else 0.0


def style_features(base: str, tuned: str) -> dict[str, float]:
    """The four features of one pair (tuned minus base, each bounded in (−1, 1))."""
    counts = {"base": markdown_counts(base), "tuned": markdown_counts(tuned)}
    size = {"base": len(base), "tuned": len(tuned)}
    density = {side: {k: counts[side][k] / (size[side] + 1) for k in MARKDOWN}
               for side in counts}
    out = {"length": length_feature(size["base"], size["tuned"])}
    for k in MARKDOWN:
        db, dt = density["base"][k], density["tuned"][k]
        out[k] = (dt - db) / (dt + db + 1)
    return out


def feature_table(
    ids: Sequence[str],
    texts: Mapping[str, tuple[str, str]] | None,
    lengths: Mapping[str, tuple[float, float]] | None,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Feature columns over the items, and the features the lines cannot give (with why)."""
    if texts is not None:
        rows = [style_features(*texts[pid]) for pid in ids]
        return {k: np.array([r[k] for r in rows]) for k in FEATURES}, {}
    missing = {k: "needs the answers' texts; the lines carry only their lengths" for k in MARKDOWN}
    if lengths is None:
        return {}, {k: "the lines carry neither the answers nor their lengths" for k in FEATURES}
    return {"length": np.array([length_feature(*lengths[pid]) for pid in ids])}, missing


def null(n: int, reason: str, left_out: dict[str, str]) -> StyleControl:
    return StyleControl(win_rate=None, ci=None, model_coefficient=None, coefficients={},
                        feature_means={}, left_out=left_out, n=n, reason=reason)


def style_control(
    ids: Sequence[str],
    scores: np.ndarray,
    texts: Mapping[str, tuple[str, str]] | None,
    lengths: Mapping[str, tuple[float, float]] | None,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> StyleControl:
    """The style-controlled win rate of items `ids` with outcomes `scores` (module docstring)."""
    columns, left_out = feature_table(ids, texts, lengths)
    n = len(ids)
    if not columns:
        return null(n, "no style feature can be computed from these lines", left_out)
    if n < MIN_ITEMS:
        return null(n, f"needs at least {MIN_ITEMS} prompts with a valid verdict, has {n}",
                    left_out)
    kept, means, sds = [], {}, {}
    for name, x in columns.items():
        sd = float(x.std(ddof=1))
        means[name] = float(x.mean())
        if sd > 0:
            kept.append(name)
            sds[name] = sd
        elif np.any(x != 0):
            return null(n, f"the {name} feature is the same non-zero value for every prompt, so "
                        "it cannot be told apart from the model term", left_out)
        else:
            left_out[name] = "equal in every pair: nothing to control"
    z = np.column_stack([np.ones(n)] + [(columns[k] - means[k]) / sds[k] for k in kept])
    at_zero = np.array([1.0] + [-means[k] / sds[k] for k in kept])
    y = np.asarray(scores, dtype=float)
    if np.ptp(y) <= CONSTANT_TOLERANCE:
        # the likelihood's supremum lies at infinity; its limit is the constant outcome itself
        beta = np.zeros(z.shape[1])
        rate, low, high, theta = float(y[0]), float(y[0]), float(y[0]), None
    else:
        beta = fit_logistic(z, y)
        theta = float(at_zero @ beta)
        rate = float(expit(theta))
        low, high = bootstrap_rate(z, y, at_zero, beta, confidence, resamples, seed)
    return StyleControl(
        win_rate=rate,
        ci=BootstrapInterval(method="item_bootstrap", level=confidence, low=low, high=high,
                             resamples=resamples, seed=seed),
        model_coefficient=theta,
        coefficients={k: float(b) for k, b in zip(kept, beta[1:], strict=True)},
        feature_means=means, left_out=left_out, n=n, reason=None,
    )


def bootstrap_rate(
    z: np.ndarray, y: np.ndarray, at_zero: np.ndarray, beta: np.ndarray, confidence: float,
    resamples: int, seed: int,
) -> tuple[float, float]:
    """Percentile interval of the rate at zero style difference over item resamples."""
    rng = np.random.default_rng(seed)
    n = len(y)
    draws = np.empty(resamples)
    for r in range(resamples):
        counts = rng.multinomial(n, np.full(n, 1 / n)).astype(float)
        draws[r] = expit(at_zero @ fit_logistic(z, y, counts, start=beta))
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return float(low), float(high)
