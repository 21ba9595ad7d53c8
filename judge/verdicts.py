"""From judge replies to judgment lines: pairwise verdicts, graded weights, pointwise ratings.

Pairwise: a label means first/second/tie; mapped back through the order it becomes a winner, and
the line's score is the discrete outcome for the tuned model (1, 0.5, 0). Graded labels (A>>B ...)
map the same way, so every DESIGN.md statistic reads them exactly as plain verdicts; the label's
declared weight rides along on the line, and `weighted_win_rate` lets a strong verdict count as
`weight` plain ones (arena-hard style). Pointwise: each answer is rated alone; the line carries
both ratings and scores 1, 0.5 or 0 as the tuned answer is rated higher, equal or lower.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from judge.records import Judgment, Order, PromptItem, Side, SideRating, VerdictSource, Winner
from judge.templates import JudgeTemplate

VALUE: dict[str, float] = {"tuned": 1.0, "base": 0.0, "tie": 0.5}


def side_of(meaning: str, order: Order) -> Winner:
    """Map a template label's meaning (first/second/tie) back to the model it stood for."""
    if meaning == "tie":
        return "tie"
    first: Side = "base" if order == "base_first" else "tuned"
    second: Side = "tuned" if first == "base" else "base"
    return first if meaning == "first" else second


def decide(
    template: JudgeTemplate, order: Order, text: str | None, probs: dict[str, float] | None
) -> tuple[str | None, Winner, float | None, float | None, str]:
    """(verdict label, winner, p_tuned, score, source) from a reply and/or label probabilities.

    Text wins where it parses; else the most probable label decides. The line's score is the
    discrete outcome (1, 0.5, 0), so two orders that disagree average to a tie; the soft p_tuned is
    kept beside it. With neither the line is invalid, score None (never a number in disguise).
    """
    p_tuned = None
    if probs:
        p_tuned = sum(p * VALUE[side_of(template.meaning(lab), order)] for lab, p in probs.items())
    label = template.parse(text) if text is not None else None
    if label is not None:
        winner = side_of(template.meaning(label), order)
        return label, winner, p_tuned, VALUE[winner], "text"
    if probs:
        label = max(probs, key=lambda lab: probs[lab])
        winner = side_of(template.meaning(label), order)
        return label, winner, p_tuned, VALUE[winner], "logprob"
    return None, "invalid", None, None, "none"


def make_judgment(
    key: str,
    item: PromptItem,
    order: Order,
    answers: dict[str, tuple[str, str]],
    text: str | None,
    probs: dict[str, float] | None,
    template: JudgeTemplate,
) -> Judgment:
    base, tuned = answers[item.prompt_id]
    decision: tuple[str | None, Winner, float | None, float | None, str]
    if base == tuned and text is None and probs is None:
        decision = (None, "tie", 0.5, 0.5, "skipped")
    else:
        decision = decide(template, order, text, probs)
    verdict, winner, p_tuned, score, source = decision
    weighted = bool(template.spec.weights) and score is not None
    return Judgment(
        key=key,
        prompt_id=item.prompt_id,
        order=order,
        shown_first="base" if order == "base_first" else "tuned",
        raw=text,
        verdict=verdict,
        label_probs=probs or None,
        p_tuned=p_tuned,
        score=score,
        winner=winner,
        source=source,  # type: ignore[arg-type]
        skipped=source == "skipped",
        len_base=len(base),
        len_tuned=len(tuned),
        weight=(template.weight(verdict) if verdict else 1.0) if weighted else None,
    )


def rate(template: JudgeTemplate, text: str | None, probs: dict[str, float] | None) -> SideRating:
    """One answer's rating: the parsed label where the reply has one, else the likeliest label."""
    label = template.parse(text) if text is not None else None
    source: VerdictSource = "text"
    if label is None and probs:
        label, source = max(probs, key=lambda lab: probs[lab]), "logprob"
    if label is None:
        source = "none"
    return SideRating(
        raw=text,
        label=label,
        rating=template.rating(label) if label is not None else None,
        source=source,
        label_probs=probs or None,
        feedback=template.feedback(text) if text is not None else None,
    )


def p_higher(template: JudgeTemplate, base: dict[str, float], tuned: dict[str, float]) -> float:
    """P(tuned rated above base) + P(equal)/2, the two ratings drawn independently."""
    total = 0.0
    for lb, pb in base.items():
        for lt, pt in tuned.items():
            diff = template.rating(lt) - template.rating(lb)
            total += pb * pt * (1.0 if diff > 0 else 0.5 if diff == 0 else 0.0)
    return total


def make_rating(
    key: str,
    item: PromptItem,
    answers: dict[str, tuple[str, str]],
    sides: dict[Side, SideRating],
    template: JudgeTemplate,
) -> Judgment:
    """The pointwise line of one prompt: both ratings, and the outcome their comparison gives."""
    base, tuned = answers[item.prompt_id]
    rb, rt = sides["base"].rating, sides["tuned"].rating
    winner: Winner = "invalid"
    if rb is not None and rt is not None:
        winner = "tuned" if rt > rb else "base" if rt < rb else "tie"
    sources = {s.source for s in sides.values()}
    source: VerdictSource = "none" if "none" in sources else (
        "text" if sources == {"text"} else "logprob")
    pb, pt = sides["base"].label_probs, sides["tuned"].label_probs
    return Judgment(
        key=key,
        prompt_id=item.prompt_id,
        order=None,
        shown_first=None,
        raw=None,
        verdict=None,
        label_probs=None,
        p_tuned=p_higher(template, pb, pt) if pb and pt else None,
        score=VALUE.get(winner),
        winner=winner,
        source=source,
        len_base=len(base),
        len_tuned=len(tuned),
        rating_base=rb,
        rating_tuned=rt,
        sides=sides,
    )


def weighted_win_rate(
    rows: Sequence[Mapping[str, Any]], confidence: float = 0.95, resamples: int = 2000,
    seed: int = 0,
) -> dict[str, Any] | None:
    """Arena-hard style rate: a line of weight w counts as w plain lines of its outcome.

    Per prompt, Σ w·score / Σ w over its valid lines (each score 1, 0.5 or 0, so the result stays
    in [0, 1]); the rate is the mean over prompts, with a seeded paired bootstrap interval.
    None when no line carries a weight (the template declares none).
    """
    from judge.stats import bootstrap_interval

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
    return {"weighted_win_rate": float(items.mean()), "n": len(items), "strong_lines": strong,
            "ci": {"method": "paired_bootstrap", "level": confidence, "low": low, "high": high,
                   "resamples": resamples, "seed": seed}}


def summary_blocks(
    judgments: Sequence[Judgment], confidence: float = 0.95, resamples: int = 2000, seed: int = 0
) -> dict[str, Any]:
    """summary.json's verdict blocks: `pairwise` always (pointwise lines count by their outcome),
    `ratings` when the lines carry ratings, `graded` when they carry weights."""
    from judge.ratings import summarize_ratings
    from judge.stats import summarize

    rows = [j.model_dump(exclude={"rating_base", "rating_tuned", "sides"}) for j in judgments]
    blocks: dict[str, Any] = {"pairwise": summarize(rows, confidence, resamples, seed)}
    rated = [{"prompt_id": j.prompt_id, "rating_base": j.rating_base,
              "rating_tuned": j.rating_tuned} for j in judgments if j.sides is not None]
    if rated:
        blocks["ratings"] = summarize_ratings(rated, confidence, resamples, seed)
    graded = weighted_win_rate(rows, confidence, resamples, seed)
    if graded is not None:
        blocks["graded"] = graded
    return blocks
