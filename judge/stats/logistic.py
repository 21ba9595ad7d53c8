"""Weighted logistic regression on soft labels, without intercept: the fit behind the
length-controlled win rate (judge/stats/lc.py) and Bradley–Terry strengths
(judge/stats/bradley_terry.py).

A soft label y in [0, 1] enters the log-likelihood as y·log σ(xβ) + (1 − y)·log(1 − σ(xβ)); that is
the same objective as AlpacaEval's trick of duplicating each row into a 1 of weight y and a 0 of
weight 1 − y. The loss is averaged over rows and carries a tiny ridge term, only so the optimum
stays finite when the data are separable (a model that never loses); on ordinary data it moves
estimates by orders of magnitude less than their standard errors.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

RIDGE = 1e-6


def fit_logistic(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    ridge: float = RIDGE,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """Coefficients β minimising mean_w[log(1 + e^{xβ}) − y·xβ] + ridge/2·|β|².

    The objective is strictly convex, so a Newton-type trust-region method with the exact Hessian
    converges in a handful of steps; `start` (the full-sample fit) makes bootstrap refits cheap.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    w = w / w.sum()
    eye = np.eye(x.shape[1])

    def loss_and_grad(beta: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ beta
        loss = float(w @ (np.logaddexp(0.0, z) - y * z)) + 0.5 * ridge * float(beta @ beta)
        return loss, x.T @ (w * (expit(z) - y)) + ridge * beta

    def hessian(beta: np.ndarray) -> np.ndarray:
        p = expit(x @ beta)
        return (x.T * (w * p * (1.0 - p))) @ x + ridge * eye

    beta0 = np.zeros(x.shape[1]) if start is None else np.asarray(start, dtype=float)
    result = minimize(
        loss_and_grad, beta0, jac=True, hess=hessian, method="trust-exact",
        options={"gtol": 1e-10, "maxiter": 200},
    )
    return np.asarray(result.x)
