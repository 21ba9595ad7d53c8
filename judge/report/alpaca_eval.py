"""A run in alpaca_eval's own file shapes: annotations.json and leaderboard.csv.

annotations.json: a JSON array, one record per prompt, as alpaca_eval's evaluate() writes it:
`instruction`, `output_1` and `generator_1` (the baseline: our BASE, a leaderboard's reference),
`output_2` and `generator_2` (the model: TUNED), `annotator` (the judge, MODEL@TEMPLATE),
`preference` in alpaca_eval's encoding (1 = output_1 preferred, 2 = output_2, 1.5 = a draw, and
between for a soft verdict; null where no verdict could be read) and `dataset` (the category,
where the prompt has one). Our two orders are one judged pair to alpaca_eval, so a prompt's
preference is 1 + its score, the valid lines of both orders averaged: the item summary.json
counts. `judge stats annotations.json` therefore gives back summary.json's n, wins, ties, losses,
win_rate, standard_error, discrete_win_rate, Wilson interval and p-value.

leaderboard.csv: alpaca_eval's leaderboard table, one row per model indexed by its name, the
numbers in percent as alpaca_eval prints them: win_rate, standard_error, n_wins, n_wins_base,
n_draws, n_total, discrete_win_rate, mode ("community"), avg_length (characters of the model's
answers). length_controlled_winrate and lc_standard_error are there (AlpacaEval 2 sorts its
leaderboards by the first) but empty: alpaca_eval's length control needs its own fitted weights,
and ours (lc_win_rate in summary.json) is another model, not to be passed off as it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from judge.records import Judgment, PromptItem
from judge.report.export import csv_text
from judge.stats.pairwise import item_scores

# AlpacaEval 2's columns, in its order; the two length-controlled ones are left empty (below)
LEADERBOARD_COLUMNS = ["", "win_rate", "standard_error", "n_wins", "n_wins_base", "n_draws",
                       "n_total", "discrete_win_rate", "length_controlled_winrate",
                       "lc_standard_error", "mode", "avg_length"]


def annotation_records(items: Sequence[PromptItem], answers: Mapping[str, tuple[str, str]],
                judgments: Sequence[Judgment], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """One record per prompt with both answers, in the prompt set's order."""
    scores, _ = item_scores(j.model_dump() for j in judgments)
    annotator = f"{names['judge']}@{names['template']}"
    records = []
    for item in items:
        if item.prompt_id not in answers:
            continue
        base, tuned = answers[item.prompt_id]
        found = scores.get(item.prompt_id)
        record: dict[str, Any] = {
            "instruction": item.prompt, "output_1": base, "generator_1": names["base"],
            "output_2": tuned, "generator_2": names["tuned"], "annotator": annotator,
            "preference": 1.0 + float(np.mean(found)) if found else None,
        }
        if item.category is not None:
            record["dataset"] = item.category
        records.append(record)
    return records


def annotations_json(records: Sequence[Mapping[str, Any]]) -> str:
    return json.dumps(list(records), indent=2) + "\n"


def leaderboard_row(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """alpaca_eval's numbers for one model's annotations (its get_winrate, in percent)."""
    valid = np.array([r["preference"] - 1.0 for r in records if r["preference"] is not None])
    n = len(valid)
    wins, losses = int((valid > 0.5).sum()), int((valid < 0.5).sum())
    draws = n - wins - losses
    lengths = [len(r["output_2"]) for r in records]
    return {
        "win_rate": 100 * float(valid.mean()) if n else None,
        "standard_error": 100 * float(valid.std(ddof=1) / np.sqrt(n)) if n > 1 else None,
        "n_wins": wins, "n_wins_base": losses, "n_draws": draws, "n_total": n,
        "discrete_win_rate": 100 * (wins + draws / 2) / n if n else None,
        "length_controlled_winrate": None, "lc_standard_error": None,
        "mode": "community",
        "avg_length": int(np.mean(lengths)) if lengths else 0,
    }


def leaderboard_csv(rows: Mapping[str, Mapping[str, Any]]) -> str:
    """The table for these models' rows, best win rate first (as alpaca_eval sorts it)."""
    ordered = sorted(rows.items(), key=lambda kv: -(kv[1]["win_rate"] or 0.0))
    return csv_text(LEADERBOARD_COLUMNS, [[name, *(row[c] for c in LEADERBOARD_COLUMNS[1:])]
                                          for name, row in ordered])
