"""Bradley–Terry strengths for N models from pairwise lines that name them (model_a, model_b).

Each valid line is one battle with outcome y = model_b's score (1 = model_b better, 0 = model_a
better, 0.5 = tie, or a soft probability). The model is

    P(model_b beats model_a) = σ(β_b − β_a),

fitted by maximum likelihood on the soft outcomes (judge/stats/logistic.py; ties count as half a win
each way, as in Arena-Hard's fit). Every model gets a coefficient and the tiny ridge picks the
centred solution, so the fit treats all models alike and does not depend on the baseline; strengths
are then reported relative to it, s_m = β_m − β_baseline. A model's win rate against the baseline
is σ(s_m), its Elo-style rating 1000 + 400·s_m / ln 10. Intervals come from a seeded bootstrap
over prompts: every line of a drawn prompt comes along, so both orders of one comparison stay
together, and the fit is redone.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.special import expit

from judge.errors import InputError
from judge.stats.lines import check_ids, check_verdicts, detect_format
from judge.stats.logistic import fit_logistic

WINNERS = {"model_b": 1.0, "model_a": 0.0, "tie": 0.5, "tie (bothbad)": 0.5}


def battle_score(row: Mapping[str, Any], number: int) -> float | None:
    """model_b's score for one line, or None when the verdict is missing or invalid."""
    for key, low, high in (("score", 0.0, 1.0), ("preference", 1.0, 2.0)):
        if row.get(key) is not None:
            value = float(row[key])
            if math.isnan(value):
                return None
            value = 1.5 if key == "preference" and value == 0 else value
            if not low <= value <= high:
                raise InputError(f"record {number}: {key} {value} is outside [{low:g}, {high:g}]")
            return value - low
    winner = row.get("winner")
    if winner is None or winner == "invalid":
        return None
    if winner not in WINNERS:
        raise InputError(f"record {number}: winner {winner!r} is not one of "
                         f"{', '.join(WINNERS)} or invalid")
    return WINNERS[winner]


def connected(battles: Sequence[tuple[str, str]], start: str) -> set[str]:
    """Models reachable from `start` through battles: only those share a scale with it."""
    links: dict[str, set[str]] = defaultdict(set)
    for a, b in battles:
        links[a].add(b)
        links[b].add(a)
    seen, todo = {start}, [start]
    while todo:
        for other in links[todo.pop()] - seen:
            seen.add(other)
            todo.append(other)
    return seen


def design(battles: Sequence[tuple[str, str]], names: Sequence[str]) -> np.ndarray:
    """One row per battle: +1 in model_b's column, −1 in model_a's (0 for a model vs itself)."""
    column = {name: i for i, name in enumerate(names)}
    x = np.zeros((len(battles), len(names)))
    for row, (a, b) in enumerate(battles):
        x[row, column[b]] += 1.0
        x[row, column[a]] -= 1.0
    return x


def read_battles(
    rows: Sequence[Mapping[str, Any]],
) -> tuple[list[tuple[str, str]], list[float], list[str], int]:
    """Valid lines as (model_a, model_b) pairs, model_b's scores, prompt ids; invalid count."""
    if not rows or detect_format(rows) != "models":
        raise InputError("Bradley–Terry needs lines with model_a and model_b")
    check_ids(rows)
    check_verdicts(rows, ("model_b", "model_a"))
    battles, scores, prompts, invalid = [], [], [], 0
    for number, row in enumerate(rows, start=1):
        if not row.get("model_a") or not row.get("model_b"):
            raise InputError(f"record {number}: model_a and model_b must both name a model")
        score = battle_score(row, number)
        if score is None:
            invalid += 1
            continue
        battles.append((str(row["model_a"]), str(row["model_b"])))
        scores.append(score)
        prompts.append(str(row["prompt_id"]))
    if not battles:
        raise InputError("no valid judgment to aggregate (every line is invalid or missing)")
    return battles, scores, prompts, invalid


def bradley_terry(
    rows: Sequence[Mapping[str, Any]],
    baseline: str | None = None,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Strengths, win rates against `baseline` and their prompt-bootstrap intervals."""
    battles, scores, prompts, invalid = read_battles(rows)
    played = Counter(m for pair in battles for m in pair)
    names = sorted(played)
    if len(names) < 2:
        raise InputError("Bradley–Terry needs at least two different models")
    if baseline is None:
        baseline = min(names, key=lambda m: (-played[m], m))  # the most-compared model
    elif baseline not in played:
        raise InputError(f"--baseline {baseline}: no valid line mentions it "
                         f"(models: {', '.join(names)})")
    apart = sorted(set(names) - connected(battles, baseline))
    if apart:
        raise InputError(f"models {', '.join(apart)} never meet {baseline}, directly or through "
                         "others; their strengths would not be comparable")
    x, y = design(battles, names), np.asarray(scores)
    beta = fit_logistic(x, y)
    anchor = names.index(baseline)
    draws = bootstrap_strengths(x, y, prompts, beta, resamples, seed)
    draws = draws - draws[:, [anchor]]
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail], axis=0)
    strength = {name: float(b - beta[anchor]) for name, b in zip(names, beta, strict=True)}
    bounds = {m: (float(lo), float(hi)) for m, lo, hi in zip(names, low, high, strict=True)}
    models = {}
    for name in sorted(names, key=lambda m: -strength[m]):
        b = float(strength[name])
        models[name] = {
            "strength": b,
            "elo": 1000 + 400 * b / math.log(10),
            "win_rate": float(expit(b)),
            "ci": {"low": float(expit(bounds[name][0])), "high": float(expit(bounds[name][1]))},
            **record_of(name, battles, scores),
        }
    return {
        "baseline": baseline,
        "n": len(battles),
        "n_invalid": invalid,
        "n_prompts": len(set(prompts)),
        "ci": {"method": "prompt_bootstrap", "level": confidence, "resamples": resamples,
               "seed": seed},
        "models": models,
    }


def record_of(name: str, battles: Sequence[tuple[str, str]], scores: Sequence[float]) -> dict:
    """Raw battles, wins, losses and ties of one model (outcomes from its side)."""
    mine = [s if b == name else 1 - s for (a, b), s in zip(battles, scores, strict=True)
            if name in (a, b) and a != b]
    return {"battles": len(mine), "wins": sum(s > 0.5 for s in mine),
            "losses": sum(s < 0.5 for s in mine), "ties": sum(s == 0.5 for s in mine)}


def bootstrap_strengths(
    x: np.ndarray,
    y: np.ndarray,
    prompts: Sequence[str],
    beta: np.ndarray,
    resamples: int,
    seed: int,
) -> np.ndarray:
    """Refitted strengths for `resamples` draws of prompts with replacement (rows: draws)."""
    ids = sorted(set(prompts))
    index = {pid: i for i, pid in enumerate(ids)}
    line_prompt = np.array([index[p] for p in prompts])
    rng = np.random.default_rng(seed)
    draws = np.empty((resamples, x.shape[1]))
    for r in range(resamples):
        counts = rng.multinomial(len(ids), np.full(len(ids), 1 / len(ids)))
        draws[r] = fit_logistic(x, y, counts[line_prompt].astype(float), start=beta)
    return draws
