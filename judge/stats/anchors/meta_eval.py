"""Meta-evaluation files of LLMBar and JudgeBench, read as labelled verdicts for `judge agreement`.

LLMBar (its evaluator's result.json, a JSON array): `label` 1 or 2 names the better output;
`results[-1]` holds "swap = False" and "swap = True", each with a `winner` "1", "2" or null, the
swapped one already mapped back. Our all-pairs numbers are its statistics.json: correct_False =
accuracy_original, correct_True = accuracy_swapped, correct_average = accuracy, correct_both =
both_correct, equal = position_consistency.

JudgeBench (outputs/*.jsonl): `label` "A>B" or "B>A"; `judgments` the two games, the second with
the responses swapped, each with a `decision` ("A>B", "B>A", "A=B", or null when the judge
failed); the second is flipped back. `source` is the category. JudgeBench's printed accuracy is our
vote_accuracy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from judge.errors import InputError

LLMBAR_WINNER = {"1": "A", "2": "B"}
DECISION = {"A>B": "A", "A>>B": "A", "B>A": "B", "B>>A": "B", "A=B": "tie", "B=A": "tie"}
FLIP = {"A": "B", "B": "A", "tie": "tie", "invalid": "invalid"}


def llmbar_winner(value: Any, record: int) -> str:
    if value is None:
        return "invalid"
    if str(value) not in LLMBAR_WINNER:
        raise InputError(f"record {record}: winner {value!r} is not 1, 2 or null")
    return LLMBAR_WINNER[str(value)]


def read_llmbar(rows: Sequence[Mapping[str, Any]]) -> list[dict]:
    lines = []
    for number, row in enumerate(rows, start=1):
        results = row.get("results")
        last = results[-1] if isinstance(results, list) and results else None
        if not isinstance(last, Mapping) or "swap = False" not in last or "swap = True" not in last:
            raise InputError(f"record {number}: results[-1] lacks the 'swap = False' and "
                             "'swap = True' verdicts")
        label = row.get("label")
        if str(label) not in LLMBAR_WINNER:
            raise InputError(f"record {number}: label {label!r} is not 1 or 2")
        lines.append({
            "id": row.get("id", number), "label": LLMBAR_WINNER[str(label)],
            "verdict": llmbar_winner((last["swap = False"] or {}).get("winner"), number),
            "verdict_swapped": llmbar_winner((last["swap = True"] or {}).get("winner"), number),
        })
    return lines


def decision(game: Any, record: int) -> str:
    value = game.get("decision") if isinstance(game, Mapping) else None
    if value is None:
        return "invalid"
    if value not in DECISION:
        raise InputError(f"record {record}: decision {value!r} is not one of "
                         f"{', '.join(DECISION)} or null")
    return DECISION[value]


def read_judgebench(rows: Sequence[Mapping[str, Any]]) -> list[dict]:
    lines = []
    for number, row in enumerate(rows, start=1):
        games = row.get("judgments")
        if not isinstance(games, list) or len(games) != 2:
            raise InputError(f"record {number}: needs the judgments of both orders (JudgeBench "
                             "without --single_game)")
        label = DECISION.get(row.get("label"))  # type: ignore[arg-type]
        if label not in ("A", "B"):
            raise InputError(f"record {number}: label {row.get('label')!r} is not A>B or B>A")
        lines.append({"id": row.get("pair_id", number), "label": label,
                      "verdict": decision(games[0], number),
                      "verdict_swapped": FLIP[decision(games[1], number)],
                      "category": row.get("source")})
    return lines
