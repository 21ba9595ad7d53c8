"""Judge-bias diagnostics: does the judge favour the answer shown first, the longer one, the one
with a list, whatever the models are?

Each rate is over decisive verdicts: valid lines whose score is not 0.5 (the winner is tuned when
the score is above 0.5, base when below, as alpaca_eval reads a preference below or above 1.5).
Both orders of a prompt are two verdicts, so a judge that always picks the first answer scores 50%
on length, not 100%: its length preference is measured apart from its position preference.

    first_position_rate = first-shown answer won / decisive lines with an order
    prefer_longer       = longer answer won / decisive lines whose answers differ by more than
                          30 characters (alpaca_eval's "prefer longer", same threshold)
    prefer_lists        = answer with a list won / decisive lines where exactly one answer
                          contains a list by alpaca_eval's patterns (its "prefer lists")
    more_list_items     = answer with more markdown list items won / decisive lines whose counts
                          differ (items counted as arena-hard does, code blocks removed)

A statistic the lines cannot give (no order, no lengths, no texts) is null, with the reason in
`reasons`. A judge is flagged as badly position-biased when position consistency is under 50% or
the first-shown answer wins over 75% of decisive verdicts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from judge.runs.summary import BiasStats
from judge.stats.pairwise import line_score, outcome
from judge.stats.style import markdown_counts

LONGER_BY = 30  # characters: alpaca_eval's significant_delta_length
CONSISTENCY_FLOOR = 0.5
FIRST_POSITION_CEILING = 0.75
# alpaca_eval's contains_list: a bullet (• or *), "1." / "1)", "a." / "a)" or "-" before a word,
# anywhere in the text. Loose on purpose there (a hyphenated word matches), kept as is here so
# the rate equals theirs.
LIST_PATTERNS = [re.compile(p) for p in (
    r"(\s*•\s*|\s*\*\s*)(\w+)", r"(\s*\d+\.|\s*\d+\))\s*(\w+)",
    r"(\s*[a-zA-Z]\.|\s*[a-zA-Z]\))\s*(\w+)", r"(\s*-\s*)(\w+)",
)]

Pair = tuple[float, float]  # a feature of (base answer, tuned answer)


def contains_list(text: str) -> bool:
    return any(p.search(text) for p in LIST_PATTERNS)


def decisive(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str | None]]:
    """(prompt_id, winner, order) of every valid line that is not a tie."""
    found = []
    for row in rows:
        score = line_score(row)
        if score is not None and outcome(score) != "tie":
            found.append((str(row["prompt_id"]), outcome(score), row.get("order")))
    return found


def preference(
    verdicts: Sequence[tuple[str, str, str | None]], feature: Mapping[str, Pair],
    counts: Callable[[Pair], bool],
) -> tuple[float | None, int]:
    """Share of the verdicts on pairs where `counts` holds that the side with more won."""
    won = total = 0
    for pid, winner, _ in verdicts:
        base, tuned = feature[pid]
        if counts((base, tuned)):
            total += 1
            won += (winner == "tuned") == (tuned > base)
    return (won / total if total else None), total


def bias_diagnostics(
    rows: Sequence[Mapping[str, Any]],
    texts: Mapping[str, tuple[str, str]] | None,
    lengths: Mapping[str, tuple[float, float]] | None,
    position_consistency: float | None,
) -> BiasStats:
    """The bias block of one set of base-vs-tuned lines (texts or lengths where known)."""
    verdicts = decisive(rows)
    reasons: dict[str, str] = {}
    ordered = [(pid, w, o) for pid, w, o in verdicts if o in ("base_first", "tuned_first")]
    first = sum((o == "base_first") == (w == "base") for _, w, o in ordered)
    first_rate = first / len(ordered) if ordered else None
    if first_rate is None:
        reasons["first_position_rate"] = ("no decisive verdict with a known order" if verdicts
                                          else "no decisive verdict")
    if position_consistency is None:
        reasons["position_consistency"] = "no prompt has valid verdicts in both orders"
    if texts is not None:
        lengths = {pid: (float(len(b)), float(len(t))) for pid, (b, t) in texts.items()}
    longer: tuple[float | None, int] = (None, 0)
    if lengths is None:
        reasons["prefer_longer"] = "the lines carry no answer lengths"
    else:
        longer = preference(verdicts, lengths, lambda p: abs(p[1] - p[0]) > LONGER_BY)
        if longer[0] is None:
            reasons["prefer_longer"] = (f"no decisive verdict on answers whose lengths differ by "
                                        f"more than {LONGER_BY} characters")
    lists: tuple[float | None, int] = (None, 0)
    items: tuple[float | None, int] = (None, 0)
    if texts is None:
        reasons["prefer_lists"] = reasons["more_list_items"] = (
            "needs the answers' texts; " + ("the lines carry only their lengths"
                                            if lengths is not None else "the lines carry none"))
    else:
        has = {pid: (float(contains_list(b)), float(contains_list(t)))
               for pid, (b, t) in texts.items()}
        lists = preference(verdicts, has, lambda p: p[0] != p[1])
        counted = {pid: (float(markdown_counts(b)["list"]), float(markdown_counts(t)["list"]))
                   for pid, (b, t) in texts.items()}
        items = preference(verdicts, counted, lambda p: p[0] != p[1])
        if lists[0] is None:
            reasons["prefer_lists"] = "no decisive verdict where exactly one answer has a list"
        if items[0] is None:
            reasons["more_list_items"] = ("no decisive verdict on answers with different "
                                          "numbers of list items")
    return BiasStats(
        first_position_rate=first_rate, n_first_position=len(ordered),
        position_consistency=position_consistency,
        prefer_longer=longer[0], n_prefer_longer=longer[1],
        prefer_lists=lists[0], n_prefer_lists=lists[1],
        more_list_items=items[0], n_more_list_items=items[1],
        reasons=reasons, warnings=position_warnings(position_consistency, first_rate),
    )


def position_warnings(consistency: float | None, first_rate: float | None) -> list[str]:
    warnings = []
    if consistency is not None and consistency < CONSISTENCY_FLOOR:
        warnings.append(f"the judge is badly position-biased: its verdict survived swapping the "
                        f"answers on only {consistency:.0%} of prompts (under 50%)")
    if first_rate is not None and first_rate > FIRST_POSITION_CEILING:
        warnings.append(f"the judge is badly position-biased: the answer shown first won "
                        f"{first_rate:.0%} of decisive verdicts (over 75%)")
    return warnings
