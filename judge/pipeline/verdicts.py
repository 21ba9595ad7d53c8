"""From judge replies to judgment lines: pairwise verdicts, graded weights, pointwise ratings.

Pairwise: a label means first/second/tie; mapped back through the order it becomes a winner, and
the line's score is the discrete outcome for the tuned model (1, 0.5, 0). Graded labels (A>>B ...)
map the same way, so every statistic reads them exactly as plain verdicts; the label's declared
weight rides along on the line, and judge/stats/graded.py lets a strong verdict count as `weight`
plain ones (arena-hard style). Pointwise: each answer is rated alone; the line carries
both ratings and scores 1, 0.5 or 0 as the tuned answer is rated higher, equal or lower.
"""

from __future__ import annotations

from judge.records import (
    Judgment,
    Order,
    PromptItem,
    Record,
    Side,
    SideRating,
    VerdictSource,
    Winner,
)
from judge.templates.template import JudgeTemplate

VALUE: dict[str, float] = {"tuned": 1.0, "base": 0.0, "tie": 0.5}


def side_of(meaning: str, order: Order) -> Winner:
    """Map a template label's meaning (first/second/tie) back to the model it stood for."""
    if meaning == "tie":
        return "tie"
    first: Side = "base" if order == "base_first" else "tuned"
    second: Side = "tuned" if first == "base" else "base"
    return first if meaning == "first" else second


class Decision(Record):
    """What one judge reply (and/or its label probabilities) decided for one order."""

    label: str | None  # the template label read, None when nothing could be read
    winner: Winner
    p_tuned: float | None  # the tuned side's share of the label probabilities (soft)
    score: float | None  # the discrete outcome for tuned: 1, 0.5, 0; None when invalid
    source: VerdictSource


SKIPPED = Decision(label=None, winner="tie", p_tuned=0.5, score=0.5, source="skipped")


def decide(
    template: JudgeTemplate, order: Order, text: str | None, probs: dict[str, float] | None
) -> Decision:
    """The decision of a reply and/or label probabilities.

    Text wins where it parses; else the most probable label decides. The line's score is the
    discrete outcome (1, 0.5, 0), so two orders that disagree average to a tie; the soft p_tuned is
    kept beside it. With neither the line is invalid, score None (never a number in disguise).
    """
    p_tuned = None
    if probs:
        p_tuned = sum(p * VALUE[side_of(template.meaning(lab), order)] for lab, p in probs.items())
    label = template.parse(text) if text is not None else None
    source: VerdictSource = "text"
    if label is None and probs:
        label, source = max(probs, key=lambda lab: probs[lab]), "logprob"
    if label is None:
        return Decision(label=None, winner="invalid", p_tuned=None, score=None, source="none")
    winner = side_of(template.meaning(label), order)
    return Decision(label=label, winner=winner, p_tuned=p_tuned, score=VALUE[winner],
                    source=source)


def make_judgment(
    key: str,
    item: PromptItem,
    order: Order,
    answers: dict[str, tuple[str, str]],
    text: str | None,
    probs: dict[str, float] | None,
    template: JudgeTemplate,
    names: tuple[str, str] | None = None,
    constrained: bool = False,
) -> Judgment:
    base, tuned = answers[item.prompt_id]
    skipped = base == tuned and text is None and probs is None
    decision = SKIPPED if skipped else decide(template, order, text, probs)
    weighted = bool(template.spec.weights) and decision.score is not None
    label = decision.label
    return Judgment(
        key=key,
        prompt_id=item.prompt_id,
        order=order,
        shown_first="base" if order == "base_first" else "tuned",
        raw=text,
        verdict=label,
        label_probs=probs or None,
        p_tuned=decision.p_tuned,
        score=decision.score,
        winner=decision.winner,
        source=decision.source,
        skipped=skipped,
        len_base=len(base),
        len_tuned=len(tuned),
        weight=(template.weight(label) if label else 1.0) if weighted else None,
        category=item.category,
        base_model=names[0] if names else None,
        tuned_model=names[1] if names else None,
        constrained=True if constrained and not skipped else None,
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
    names: tuple[str, str] | None = None,
    constrained: bool = False,
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
        category=item.category,
        base_model=names[0] if names else None,
        tuned_model=names[1] if names else None,
        constrained=True if constrained else None,
    )
