"""MT-Bench single-answer grading: FastChat's `show_result` table, with the intervals it lacks.

Rows are FastChat's `model_judgment/*_single.jsonl` lines: question_id, model, judge, score (a
1-10 rating; -1 where the judge's reply held none), turn (1 or 2), and optionally category (our
own lines carry it; FastChat's take it from question.jsonl). Definitions, as FastChat's
show_result computes them:
- rows with score -1 are dropped (and counted per model in n_invalid);
- a model's turn-K score is the mean over its valid rows of turn K;
- its overall score is the mean over all its valid rows (not the mean of the two turn means: a
  turn with more dropped rows weighs less, as in FastChat);
- a category's score (FastChat draws these in its radar plot) is the mean over the valid rows of
  that category's questions, both turns together.
Each model's paired difference to the baseline is the mean of (model − baseline) over the
question-turns where both have a valid score (duplicate rows of one question-turn averaged).

Intervals: a seeded percentile bootstrap that resamples whole questions (every turn of a drawn
question comes along), at the mean of the drawn rows; none for a mean of one question. The two
turns of a question share the question and the first answer, so they are not independent;
resampling rows alone would make the interval too narrow. The scores are bounded integers with
few questions per category, where a t-interval's normality is doubtful; the percentile bootstrap
needs neither.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from judge.errors import InputError
from judge.records import Judgment
from judge.runs.summary import BootstrapInterval, MeanScore, MTBenchStats, ScoreTable

METHOD = "question_bootstrap"
INVALID = -1  # FastChat's score where the judge's reply held no rating


class Row(NamedTuple):
    question: str
    turn: int
    category: str | None
    value: float


def fastchat_rows(judgments: Sequence[Judgment]) -> list[dict[str, Any]]:
    """Per-turn compare lines as FastChat's single judgment lines (see `turn_rows`)."""
    return turn_rows([j.model_dump() for j in judgments])


def turn_rows(lines: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per-turn compare lines (prompt_id, turn, rating_base, rating_tuned) as FastChat's single
    judgment lines, one per side: model "base" or "tuned", score -1 where the side's rating
    could not be read."""
    rows = []
    for line in lines:
        for side in ("base", "tuned"):
            rating = line.get(f"rating_{side}")
            rows.append({"question_id": line["prompt_id"], "model": side, "judge": None,
                         "score": INVALID if rating is None else rating, "turn": line["turn"],
                         "category": line.get("category")})
    return rows


def is_turn_file(rows: Sequence[Mapping[str, Any]]) -> bool:
    """Whether pointwise compare lines are a per-turn run's (each carries its turn)."""
    return bool(rows) and all(row.get("turn") is not None for row in rows)


def checked(rows: Sequence[Mapping[str, Any]]) -> tuple[dict[str, list[Row]], dict[str, int]]:
    """Each model's valid rows and its count of dropped ones; a malformed line is an input error."""
    valid: dict[str, list[Row]] = defaultdict(list)
    invalid: dict[str, int] = defaultdict(int)
    for number, row in enumerate(rows, start=1):
        model, turn, score = row.get("model"), row.get("turn"), row.get("score")
        if row.get("question_id") is None or not isinstance(model, str) or not model:
            raise InputError(f"record {number}: question_id and model are required")
        if isinstance(turn, bool) or not isinstance(turn, int) or turn < 1:
            raise InputError(f"record {number}: turn {turn!r} is not a turn number (1, 2, ...)")
        if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
            raise InputError(f"record {number}: score {score!r} is not a number")
        category = row.get("category")
        if score is None or score == INVALID or math.isnan(score) or math.isinf(score):
            invalid[model] += 1
            valid.setdefault(model, [])
            continue
        valid[model].append(Row(str(row["question_id"]), turn,
                                None if category is None else str(category), float(score)))
    return dict(valid), {m: invalid.get(m, 0) for m in valid}


def question_interval(rows: Sequence[Row], confidence: float, resamples: int,
                      seed: int) -> tuple[float, float]:
    """Percentile bootstrap of the mean row value, resampling questions with all their rows."""
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        sums[r.question] += r.value
        counts[r.question] += 1
    s = np.array(list(sums.values()))
    c = np.array([counts[q] for q in sums], dtype=float)
    mean = float(s.sum() / c.sum())
    if len({r.value for r in rows}) == 1:
        return (mean, mean)  # every row alike: every resample gives the same mean
    rng = np.random.default_rng(seed)
    batch = max(1, int(2e7 // len(s)))  # ~160 MB of indices at most
    means = []
    for start in range(0, resamples, batch):
        idx = rng.integers(0, len(s), size=(min(batch, resamples - start), len(s)))
        means.append(s[idx].sum(axis=1) / c[idx].sum(axis=1))
    tail = (1 - confidence) / 2
    low, high = np.quantile(np.concatenate(means), [tail, 1 - tail])
    return (float(low), float(high))


def mean_score(rows: Sequence[Row], confidence: float, resamples: int, seed: int) -> MeanScore:
    if not rows:
        return MeanScore(mean=None, n=0, n_questions=0, ci=None)
    questions = len({r.question for r in rows})
    ci = None  # one question: nothing to resample, and a zero-width interval would look certain
    if questions > 1:
        low, high = question_interval(rows, confidence, resamples, seed)
        ci = BootstrapInterval(method=METHOD, level=confidence, low=low, high=high,
                               resamples=resamples, seed=seed)
    return MeanScore(mean=float(np.mean([r.value for r in rows])), n=len(rows),
                     n_questions=questions, ci=ci)


def score_table(rows: Sequence[Row], confidence: float, resamples: int, seed: int) -> ScoreTable:
    def by(key: Callable[[Row], Any]) -> dict[str, MeanScore]:
        groups: dict[str, list[Row]] = defaultdict(list)
        for r in rows:
            if key(r) is not None:
                groups[str(key(r))].append(r)
        return {name: mean_score(found, confidence, resamples, seed)
                for name, found in sorted(groups.items())}

    return ScoreTable(overall=mean_score(rows, confidence, resamples, seed),
                      turns=by(lambda r: r.turn), categories=by(lambda r: r.category))


def paired(model: Sequence[Row], baseline: Sequence[Row]) -> list[Row]:
    """model − baseline per question-turn both scored (duplicate rows of one averaged)."""
    def means(rows: Sequence[Row]) -> dict[tuple[str, int], tuple[float, str | None]]:
        found: dict[tuple[str, int], list[Row]] = defaultdict(list)
        for r in rows:
            found[(r.question, r.turn)].append(r)
        return {k: (float(np.mean([r.value for r in v])), v[0].category)
                for k, v in found.items()}

    mine, theirs = means(model), means(baseline)
    return [Row(q, t, mine[(q, t)][1], mine[(q, t)][0] - theirs[(q, t)][0])
            for (q, t) in sorted(mine) if (q, t) in theirs]


def mt_bench_stats(
    rows: Sequence[Mapping[str, Any]], baseline: str | None = None, confidence: float = 0.95,
    resamples: int = 2000, seed: int = 0,
) -> MTBenchStats:
    """The `mt_bench` block of FastChat single judgment lines (see the module docstring)."""
    if not rows:
        raise InputError("MT-Bench statistics need judgment lines (question_id, model, score, "
                         "turn)")
    valid, invalid = checked(rows)
    if baseline is not None and baseline not in valid:
        raise InputError(f"--baseline {baseline} is not a model of the file (models: "
                         f"{', '.join(sorted(valid))})")
    models = {m: score_table(found, confidence, resamples, seed)
              for m, found in sorted(valid.items())}
    differences = {} if baseline is None else {
        m: score_table(paired(found, valid[baseline]), confidence, resamples, seed)
        for m, found in sorted(valid.items()) if m != baseline}
    questions = {str(row.get("question_id")) for row in rows}
    return MTBenchStats(n_questions=len(questions), n_invalid=invalid, models=models,
                        baseline=baseline, differences=differences)
