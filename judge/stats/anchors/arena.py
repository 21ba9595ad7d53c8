"""arena-hard-auto judgment files and Chatbot Arena battle logs.

arena-hard: one record per question and model, `games` holding two judgments of it: game 1 shows
the baseline as assistant A and the model as B, game 2 the other way round. Each game's `score` is
the verdict label without brackets ("A>>B", "A>B", "A=B", "B>A", "B>>A"; v2 also reads the
reversed spellings "B<A" ..., which v0.1 counts as no verdict, like any other text). Both games
are mapped back to the model: game 1 becomes a base_first line, game 2 a tuned_first line,
scoring 1 when the model's answer won. A strong verdict (>> or <<) carries
weight 3, so it counts three times in `graded.pooled_win_rate`, which is arena-hard's score: the
mean over all verdicts, a strong one repeated three times. A game without a score is an invalid
line; the v2 format (`uid` instead of `question_id`) drops the whole record when either game has
none, as its show_result.py does, while v0.1 drops only that game.

Chatbot Arena battle logs (`model_a`, `model_b`, `winner`, `question_id`) are named-model lines
already; `question_id` becomes the prompt id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from judge.errors import InputError
from judge.stats.anchors.base import StatsFile
from judge.stats.categories import check_categories

STRONG_WEIGHT = 3.0  # arena-hard's default weight for A>>B
# Assistant A's score for each label, before mapping back to the model.
A_SCORE = {"A>B": 1.0, "A>>B": 1.0, "A=B": 0.5, "B=A": 0.5, "A<B": 0.0, "A<<B": 0.0,
           "B>A": 0.0, "B>>A": 0.0, "B<A": 1.0, "B<<A": 1.0}
WINNER = {1.0: "tuned", 0.5: "tie", 0.0: "base"}


# v0.1's show_result.py knows these five and gives any other score weight 0 (no battle)
V01_LABELS = ("A>B", "A>>B", "A=B", "B>A", "B>>A")


def game_label(game: Any, record: int, index: int, version: str) -> str | None:
    """A game's verdict label, or None when it counts as no verdict."""
    if game is None:
        return None
    if not isinstance(game, Mapping):
        raise InputError(f"record {record}: game {index} is not an object")
    label = game.get("score")
    if label is None:
        return None
    if version == "arena-hard":
        return str(label) if label in V01_LABELS else None
    if label not in A_SCORE:
        raise InputError(f"record {record}: game {index} score {label!r} is not an arena-hard "
                         f"verdict ({', '.join(A_SCORE)})")
    return str(label)


def line(pid: str, order: str, label: str | None, model_is_a: bool, category: Any) -> dict:
    if label is None:
        return {"prompt_id": pid, "order": order, "score": None, "winner": "invalid",
                "category": category}
    score = A_SCORE[label] if model_is_a else 1.0 - A_SCORE[label]
    weight = STRONG_WEIGHT if (">>" in label or "<<" in label) else 1.0
    return {"prompt_id": pid, "order": order, "score": score, "winner": WINNER[score],
            "weight": weight, "category": category}


def read_judgments(rows: Sequence[Mapping[str, Any]], origin: str, version: str) -> StatsFile:
    key = "uid" if version == "arena-hard-v2" else "question_id"
    models = sorted({str(r.get("model")) for r in rows})
    if len(models) > 1:
        raise InputError(f"{origin}: arena-hard judgments of {len(models)} models "
                         f"({', '.join(models[:3])}...); give one model's file")
    check_categories((row.get("category") for row in rows), origin)
    lines = []
    for number, row in enumerate(rows, start=1):
        if row.get(key) is None:
            raise InputError(f"{origin}: record {number}: {key} is missing")
        games = row["games"]
        if not isinstance(games, list) or len(games) != 2:
            found = len(games) if isinstance(games, list) else "no list of"
            raise InputError(f"{origin}: record {number}: needs the two games (baseline shown "
                             f"first, then the model), found {found} games")
        labels = [game_label(game, number, i, version)
                  for i, game in enumerate(games, start=1)]
        if version == "arena-hard-v2" and None in labels:
            labels = [None, None]
        pid, category = str(row[key]), row.get("category")
        lines.append(line(pid, "base_first", labels[0], False, category))
        lines.append(line(pid, "tuned_first", labels[1], True, category))
    return StatsFile(format=version, kind="pairwise", rows=lines)


def read_battles(rows: Sequence[Mapping[str, Any]]) -> StatsFile:
    """Named-model lines; Chatbot Arena's `question_id` serves as the prompt id."""
    lines = [dict(row) if "prompt_id" in row or "question_id" not in row
             else {**row, "prompt_id": row["question_id"]} for row in rows]
    return StatsFile(format="battles", kind="models", rows=lines)
