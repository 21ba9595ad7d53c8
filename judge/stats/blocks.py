"""The blocks of summary.json, computed from verdict lines: what `judge compare`, `judge stats`
and the training loop's judged evaluations share. The records they fill are storage's
(judge/runs/summary.py); each statistic is its family's module here in judge/stats/.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import TypeAdapter

from judge.records import Judgment
from judge.stats.bias import bias_diagnostics
from judge.stats.graded import weighted_win_rate
from judge.stats.lines import lengths
from judge.stats.pairwise import by_category, item_means, summarize
from judge.stats.ratings import summarize_ratings
from judge.stats.style import style_control


def line_blocks(
    rows: Sequence[Mapping[str, Any]],
    texts: Mapping[str, tuple[str, str]] | None = None,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """The blocks of base-vs-tuned lines: `pairwise`, and `graded`, `by_category`, `bias`,
    `style_control` where the lines allow them (an absent block is left out). `texts`
    (prompt_id -> (base, tuned) answers) feed the bias and style numbers that read the answers;
    without them only lengths are used."""
    pairwise = summarize(rows, confidence, resamples, seed)
    known = lengths(rows)
    ids, scores = item_means(rows)
    blocks = {
        "pairwise": pairwise,
        "graded": weighted_win_rate(rows, confidence, resamples, seed),
        "by_category": by_category(rows, confidence, resamples, seed),
        "bias": bias_diagnostics(rows, texts, known, pairwise.position_consistency),
        "style_control": style_control(ids, scores, texts, known, confidence, resamples, seed),
    }
    return {name: block for name, block in blocks.items() if block not in (None, {})}


def blocks_json(blocks: Mapping[str, Any]) -> dict[str, Any]:
    """line_blocks as `judge stats --json` prints them: the pairwise keys at the top, exactly as
    summary.json's `pairwise` block, then each further block under its summary.json name."""
    data = blocks["pairwise"].model_dump()
    for name in ("graded", "by_category", "bias", "style_control"):
        if blocks.get(name) not in (None, {}):
            data[name] = TypeAdapter(Any).dump_python(blocks[name], mode="json")
    return data


def verdict_blocks(
    judgments: Sequence[Judgment],
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
    answers: Mapping[str, tuple[str, str]] | None = None,
    categories: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """summary.json's verdict blocks: those of line_blocks (pointwise lines count by their
    outcome), and `ratings` when the lines carry ratings. `categories` (prompt_id -> category,
    from the prompt set) take precedence over the lines' own, which older ledgers lack."""

    blocks = line_blocks(judgment_rows(judgments, categories), answers, confidence, resamples,
                         seed)
    rated = [{"prompt_id": j.prompt_id, "rating_base": j.rating_base,
              "rating_tuned": j.rating_tuned} for j in judgments if j.sides is not None]
    if rated:
        blocks["ratings"] = summarize_ratings(rated, confidence, resamples, seed)
    return blocks


def judgment_rows(
    judgments: Sequence[Judgment], categories: Mapping[str, str | None] | None = None,
) -> list[dict[str, Any]]:
    """Judgment records as the lines the statistics read (pointwise lines by their outcome);
    `categories` (prompt_id -> category) replace the lines' own."""
    rows = [j.model_dump(exclude={"rating_base", "rating_tuned", "sides"}) for j in judgments]
    if categories is not None:
        rows = [row | {"category": categories.get(row["prompt_id"])} for row in rows]
    return rows
