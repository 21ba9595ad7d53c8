"""Which format a file is in, read from its content (never from its name).

Every line is matched against the fields each format must have; a line that fits two formats is
ambiguous and a file whose lines fit different formats is mixed: both are input errors naming the
formats, because reading one format as another silently gives wrong numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from judge.errors import InputError

Command = Literal["pairwise", "models", "ratings", "agreement", "mt_bench"]
VERDICT_KEYS = ("score", "preference", "winner")

# name -> (what reads it, how a message describes it)
FORMATS: dict[str, tuple[Command, str]] = {
    "judge": ("pairwise", "base-vs-tuned judgment lines"),
    "battles": ("models", "battles of named models (model_a/model_b)"),
    "ratings": ("ratings", "pointwise ratings (rating_base/rating_tuned)"),
    "alpaca_eval": ("pairwise", "alpaca_eval annotations (output_1/output_2/preference)"),
    "arena-hard": ("pairwise", "arena-hard judgments (question_id/games)"),
    "arena-hard-v2": ("pairwise", "arena-hard v2 judgments (uid/games)"),
    "mt-bench": ("mt_bench", "FastChat MT-Bench single judgments (question_id/model/score/turn)"),
    "agreement": ("agreement", "labelled verdicts (id/label/verdict/verdict_swapped)"),
    "llmbar": ("agreement", "LLMBar results (label/results)"),
    "judgebench": ("agreement", "JudgeBench judgments (pair_id/label/judgments)"),
}


def resembles(row: Mapping[str, Any]) -> list[str]:
    """The formats whose telling fields this line carries (judge lines are the fallback)."""
    found = []
    if "games" in row:
        found.append("arena-hard-v2" if "uid" in row and "question_id" not in row
                     else "arena-hard")
    if "preference" in row and ("output_1" in row or "output_2" in row):
        found.append("alpaca_eval")
    if "model_a" in row or "model_b" in row:
        found.append("battles")
    if "rating_base" in row or "rating_tuned" in row:
        found.append("ratings")
        # compare's pointwise lines carry the outcome too, and `sides`; anything else is both
        if "sides" not in row and any(k in row for k in VERDICT_KEYS):
            found.append("judge")
    if "results" in row and "label" in row:
        found.append("llmbar")
    if "judgments" in row and "label" in row:
        found.append("judgebench")
    if "verdict_swapped" in row:
        found.append("agreement")
    if "games" not in row and {"question_id", "model", "score", "turn"} <= set(row):
        found.append("mt-bench")  # FastChat's model_judgment/*_single.jsonl
    return found or ["judge"]


def one_format(row: Mapping[str, Any], number: int) -> str:
    found = resembles(row)
    if len(found) > 1:
        named = " and ".join(FORMATS[f][1] for f in found)
        raise InputError(f"record {number} is ambiguous: it resembles {'both ' * (len(found) == 2)}"
                         f"{named}; remove the fields of the format it is not")
    return found[0]


def detect(rows: Sequence[Mapping[str, Any]]) -> str:
    """The one format every line of a file has; ambiguous or mixed files are input errors."""
    first = one_format(rows[0], 1)
    for number, row in enumerate(rows[1:], start=2):
        found = one_format(row, number)
        if found != first:
            raise InputError(f"mixed formats: record 1 is {FORMATS[first][1]} but record "
                             f"{number} is {FORMATS[found][1]}")
    return first
