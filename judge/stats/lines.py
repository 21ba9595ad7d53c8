"""What a judgments file may hold, checked before any number is computed.

Three formats, one per file (docs/reference/statistics.md, `judge stats`):
- pairwise: prompt_id plus score (the tuned model's probability of being better), AlpacaEval's
  preference, or winner; optional order, len_base, len_tuned. `judge compare` writes this.
- models: prompt_id, model_a, model_b plus score/preference/winner (for model_b, the second one).
- ratings: prompt_id, rating_base, rating_tuned (pointwise scores on a rubric scale).
A file mixing them, or mixing how lines state their verdict, is an input error: averaging numbers
that mean different things would silently give a wrong answer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from judge.errors import InputError
from judge.files import parse_json, read_bytes, read_jsonl, read_text

Format = Literal["pairwise", "models", "ratings"]
VERDICT_KEYS = ("score", "preference", "winner")
ORDERS = ("base_first", "tuned_first")


def read_lines(path: Path) -> list[dict]:
    """The records of a JSONL file or of a JSON array of objects (AlpacaEval's annotations.json,
    Chatbot Arena's battle logs, LLMBar's result.json); an empty file is an input error."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if read_bytes(path, "judgments file").lstrip()[:1] == b"[":
        rows = read_array(path)
    else:
        rows, _ = read_jsonl(path, "judgments file")
    if not rows:
        raise InputError(f"{path}: the file holds no lines")
    return rows


def read_array(path: Path) -> list[dict]:
    try:
        data = parse_json(read_text(path, "judgments file"))
    except ValueError as err:
        raise InputError(f"{path}: not a JSON array ({err})") from None
    if not isinstance(data, list):
        raise InputError(f"{path}: not a JSON array of objects")
    for number, row in enumerate(data, start=1):
        if not isinstance(row, dict):
            raise InputError(f"{path}: element {number} of the array is not a JSON object")
    return data


def line_format(row: Mapping[str, Any], number: int) -> Format:
    models = "model_a" in row or "model_b" in row
    ratings = "rating_base" in row or "rating_tuned" in row
    if models and ratings:
        raise InputError(f"record {number}: carries both model_a/model_b and ratings")
    # compare's pointwise lines carry both (the outcome derived from the ratings, and `sides`)
    if ratings and "sides" not in row and any(k in row for k in VERDICT_KEYS):
        raise InputError(f"record {number}: carries both ratings and a pairwise verdict")
    if models:
        return "models"
    return "ratings" if ratings else "pairwise"


def detect_format(rows: Sequence[Mapping[str, Any]]) -> Format:
    """The one format every line shares; the first line of a second format is reported."""
    first = line_format(rows[0], 1)
    for number, row in enumerate(rows[1:], start=2):
        found = line_format(row, number)
        if found != first:
            raise InputError(f"mixed formats: record 1 is {first} but record {number} is {found}")
    return first


def check_ids(rows: Sequence[Mapping[str, Any]]) -> None:
    for number, row in enumerate(rows, start=1):
        if row.get("prompt_id") is None or str(row["prompt_id"]) == "":
            raise InputError(f"record {number}: prompt_id is missing")


def check_verdicts(rows: Sequence[Mapping[str, Any]], winners: Sequence[str]) -> None:
    """Every line states its verdict with the same fields, and score and winner never disagree.

    `winners` are the names for (second better, first better), e.g. ("tuned", "base"). A soft
    score may sit anywhere when the winner is a tie, but a won line cannot score below 0.5 for
    its winner, and an invalid line cannot carry a score.
    """
    shape = tuple(k for k in VERDICT_KEYS if k in rows[0])
    for number, row in enumerate(rows, start=1):
        here = tuple(k for k in VERDICT_KEYS if k in row)
        if not here:
            raise InputError(f"record {number}: no verdict (needs score, preference or winner)")
        if here != shape:
            raise InputError(f"mixed formats: record 1 states its verdict with {'+'.join(shape)} "
                             f"but record {number} with {'+'.join(here)}")
        if "score" in row and "preference" in row:
            raise InputError(f"record {number}: give score or preference, not both")
        value = row.get("score", row.get("preference"))
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or math.isinf(value)):
            raise InputError(f"record {number}: score/preference {value!r} is not a number")
        weight = row.get("weight")
        if weight is not None and (isinstance(weight, bool) or not isinstance(weight, (int, float))
                                   or not math.isfinite(weight) or weight <= 0):
            raise InputError(f"record {number}: weight {weight!r} is not a number above 0 (a "
                             "graded verdict counts as that many plain ones)")
        if "winner" in row and ("score" in row or "preference" in row):
            soft = value if "score" in row or value is None else (1.5 if value == 0 else value) - 1
            check_agree(number, soft, row["winner"], winners)


def check_agree(number: int, soft: float | None, winner: Any, winners: Sequence[str]) -> None:
    second, first = winners
    missing = soft is None or math.isnan(soft)
    if winner == "invalid" and not missing:
        raise InputError(f"record {number}: winner is invalid but the score is {soft}")
    if winner != "invalid" and missing:
        raise InputError(f"record {number}: winner is {winner} but the score is missing")
    if missing or soft is None:
        return
    if (winner == second and soft < 0.5) or (winner == first and soft > 0.5):
        raise InputError(f"record {number}: winner {winner} disagrees with score {soft}")


def check_orders(rows: Sequence[Mapping[str, Any]]) -> None:
    seen: set[tuple[str, str]] = set()
    for number, row in enumerate(rows, start=1):
        order = row.get("order")
        if order is None:
            continue
        if order not in ORDERS:
            raise InputError(f"record {number}: order {order!r} is not base_first or tuned_first")
        key = (str(row["prompt_id"]), order)
        if key in seen:
            raise InputError(f"record {number}: prompt {key[0]} is judged twice in order {order} "
                             "(two runs appended into one file?)")
        seen.add(key)


def lengths(rows: Sequence[Mapping[str, Any]]) -> dict[str, tuple[float, float]] | None:
    """len_base/len_tuned per prompt, or None when no line has them; partial is an error."""
    has = [row.get("len_base") is not None and row.get("len_tuned") is not None for row in rows]
    if not any(has):
        return None
    if not all(has):
        number = has.index(False) + 1
        raise InputError(f"record {number}: len_base/len_tuned missing while other lines have them")
    found: dict[str, tuple[float, float]] = {}
    for number, row in enumerate(rows, start=1):
        pair = (row["len_base"], row["len_tuned"])
        if not all(isinstance(v, (int, float)) and v >= 0 for v in pair):
            raise InputError(f"record {number}: lengths must be non-negative numbers, got {pair}")
        pid = str(row["prompt_id"])
        if found.setdefault(pid, (float(pair[0]), float(pair[1]))) != (pair[0], pair[1]):
            raise InputError(f"record {number}: prompt {pid} has different answer lengths "
                             "in its two lines")
    return found


def check_pairwise(rows: Sequence[Mapping[str, Any]]) -> dict[str, tuple[float, float]] | None:
    """All shape checks for pairwise lines; returns the answer lengths per prompt (or None)."""
    if not rows:
        raise InputError("no judgment lines to aggregate")
    check_ids(rows)
    if detect_format(rows) != "pairwise":
        raise InputError("these lines compare named models (model_a/model_b) or carry ratings; "
                         "they are not base-vs-tuned judgments")
    check_verdicts(rows, ("tuned", "base"))
    check_orders(rows)
    return lengths(rows)
