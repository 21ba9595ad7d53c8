"""Every prompt of a run as the HTML report and the per-prompt CSV show it: the request, both
answers as the judge read them, each order's judgment line, and what the prompt came to.

A prompt's outcome is the one summary.json counts (judge/stats/pairwise.py): the mean of its valid
line scores, a win for the tuned model above 0.5, a loss below, a tie at 0.5; `invalid` when no
line of it could be read. A split decision is a prompt judged validly in both orders whose two
verdicts differ (what position consistency counts against).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Literal

from judge.records import Judgment, PromptItem, Record
from judge.runs.reader import ORDER_RANK
from judge.runs.summary import PairwiseStats
from judge.stats.pairwise import line_score, outcome

Outcome = Literal["tuned", "base", "tie", "invalid"]
SAFE_ID = re.compile(r"[A-Za-z0-9_.-]+")


class PromptView(Record):
    prompt_id: str
    anchor: str  # the element id, "prompt-..." (safe in HTML ids and URL fragments)
    category: str | None
    turns: list[str]  # what the user wrote, turn by turn
    reference: str | None
    base: str  # each answer as the judge read it
    tuned: str
    judgments: list[Judgment]  # base_first, then tuned_first (or the one pointwise line)
    score: float | None  # the prompt's mean line score for the tuned model
    outcome: Outcome
    split: bool
    invalid: bool  # at least one line could not be read
    skipped: bool  # identical answers: recorded as ties, not judged


def anchor(prompt_id: str) -> str:
    """An HTML id for a prompt: the id itself when it is made of safe characters, else its safe
    characters and a hash of the whole id, so that two ids never share an anchor."""
    if SAFE_ID.fullmatch(prompt_id):
        return f"prompt-{prompt_id}"
    safe = "-".join(SAFE_ID.findall(prompt_id))[:40]
    digest = hashlib.sha256(prompt_id.encode("utf-8")).hexdigest()[:10]
    return f"prompt-{safe}-{digest}" if safe else f"prompt-{digest}"


def prompt_view(
    item: PromptItem, answers: tuple[str, str], lines: Sequence[Judgment]
) -> PromptView:
    lines = sorted(lines, key=lambda j: ORDER_RANK[j.order])
    scores = [s for s in (line_score(j.model_dump()) for j in lines) if s is not None]
    mean = sum(scores) / len(scores) if scores else None
    winners = {j.winner for j in lines if j.order is not None and j.winner != "invalid"}
    valid_orders = sum(j.order is not None and j.winner != "invalid" for j in lines)
    return PromptView(
        prompt_id=item.prompt_id, anchor=anchor(item.prompt_id), category=item.category,
        turns=item.user_turns(), reference=item.reference, base=answers[0], tuned=answers[1],
        judgments=list(lines), score=mean,
        outcome="invalid" if mean is None else outcome(mean),  # type: ignore[arg-type]
        split=valid_orders == 2 and len(winners) == 2,
        invalid=any(j.winner == "invalid" for j in lines),
        skipped=any(j.skipped for j in lines),
    )


def prompt_views(
    items: Sequence[PromptItem], answers: Mapping[str, tuple[str, str]],
    judgments: Sequence[Judgment],
) -> list[PromptView]:
    """One view per prompt that has both answers, in the prompt set's order."""
    by_prompt: dict[str, list[Judgment]] = {}
    for j in judgments:
        by_prompt.setdefault(j.prompt_id, []).append(j)
    return [prompt_view(item, answers[item.prompt_id], by_prompt.get(item.prompt_id, []))
            for item in items if item.prompt_id in answers]


def outcome_counts(views: Sequence[PromptView]) -> dict[str, int]:
    counts = dict.fromkeys(("tuned", "tie", "base", "invalid"), 0)
    for view in views:
        counts[view.outcome] += 1
    return counts


def disagreement(views: Sequence[PromptView], pw: PairwiseStats) -> str | None:
    """Why the lines shown may not be the ones summary.json counted, or None when they agree:
    a folder whose ledgers also hold lines of another run's settings (`judge report` shows the
    latest line of each prompt and order)."""
    counts = outcome_counts(views)
    lines = sum(j.winner == "invalid" for v in views for j in v.judgments)
    shown = (counts["tuned"], counts["tie"], counts["base"], lines)
    counted = (pw.wins, pw.ties, pw.losses, pw.n_invalid)
    if shown == counted:
        return None
    return (f"The verdicts shown give wins/ties/losses {shown[0]}/{shown[1]}/{shown[2]} and "
            f"{shown[3]} invalid lines, where summary.json counted {counted[0]}/{counted[1]}/"
            f"{counted[2]} and {counted[3]}: this folder's ledgers hold lines of more than one "
            "run's settings, and the page shows the latest line of each prompt and order.")
