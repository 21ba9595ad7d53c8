"""leaderboard.json as a record, and the numbers only a leaderboard has: every model judged against
one reference on the same prompts, ranked by Bradley–Terry strength.

Per model the row holds its comparison's own numbers (summary.json's pairwise block: win rate vs
the reference with its paired bootstrap interval, n, invalid lines, position consistency), its
Bradley–Terry strength, Elo-style rating and win rate vs the reference with a seeded prompt
bootstrap interval (judge/stats/bradley_terry.py, fitted over every model's lines at once), and
its win rate per prompt category. Schema "judge.leaderboard/1".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, NamedTuple

from pydantic import Field

from judge.frames import data_frame, flat_fields
from judge.records import Judgment, PromptItem, Record, read_schema_file
from judge.runs.summary import (
    BootstrapInterval,
    ControlStats,
    JudgeVerdict,
    PairwiseStats,
    StageTime,
)
from judge.stats.categories import group_rows
from judge.stats.pairwise import summarize
from judge.stats.panel import panel_by_category

SCHEMA = "judge.leaderboard/1"
BATTLE_WINNER = {"tuned": "model_b", "base": "model_a", "tie": "tie", "invalid": "invalid"}


class CategoryRate(Record):
    """One model's win rate vs the reference over the prompts of one category."""

    n: int
    n_invalid: int
    win_rate: float | None  # None when no line of the category could be read
    ci: BootstrapInterval | None


class Strength(Record):
    """A model's Bradley–Terry fit against the reference (strength 0 = as good)."""

    strength: float
    elo: float
    win_rate: float
    low: float
    high: float


class Standing(Record):
    rank: int
    name: str
    ref: str
    kind: Literal["model", "answers"]
    folder: str  # its compare run folder, relative to the leaderboard folder
    win_rate: float
    ci: BootstrapInterval
    wins: int
    ties: int
    losses: int
    n: int
    n_invalid: int
    position_consistency: float | None
    bradley_terry: Strength | None  # None when none of its lines could be read
    categories: dict[str, CategoryRate]
    verdict: JudgeVerdict | None = None  # could the judge judge this pair (its summary.json)


class Leaderboard(Record):
    schema_: Literal["judge.leaderboard/1"] = Field(default="judge.leaderboard/1", alias="schema")
    reference: str
    reference_ref: str
    judge: str
    template: str
    n_prompts: int
    standings: list[Standing]
    bradley_terry: dict[str, Any]  # bradley_terry()'s table; `judge stats FOLDER --json` prints it
    # this run's cost: each model's answers, each pair's judging (wall seconds), loads, total
    timing: dict[str, StageTime] = {}
    models_loaded: list[str] = []
    # the judge's control pairs, built from the reference's answers: the same in every pair
    controls: ControlStats | None = None
    smoke_test: list[str] = []  # judges that are the bundled smoke-test model

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)

    def to_pandas(self) -> Any:
        """The standings, one row per model, best first; nested numbers as dotted columns
        (`ci.low`, `bradley_terry.strength`, `categories.math.win_rate`). Needs pandas."""
        return data_frame([flat_fields(s.model_dump()) for s in self.standings])


def read_leaderboard(data: dict[str, Any], where: str) -> Leaderboard:
    return read_schema_file(Leaderboard, SCHEMA, data, where)


def battle_rows(judgments: Sequence[Judgment], reference: str, model: str) -> list[dict[str, Any]]:
    """One model's lines as named battles: model_a = the reference, model_b = the model, score =
    model_b's (the tuned side's)."""
    return [{"prompt_id": j.prompt_id, "order": j.order, "model_a": reference, "model_b": model,
             "score": j.score, "winner": BATTLE_WINNER[j.winner]} for j in judgments]


def in_order(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Battles in one fixed order (model, prompt, order), so that a fit from lines read back from
    disk is the very same computation as one from lines held in memory."""
    return sorted(rows, key=lambda r: (r["model_b"], r["prompt_id"], r["order"] or ""))


def category_rates(
    items: Sequence[PromptItem], judgments: Sequence[Judgment], confidence: float = 0.95,
    resamples: int = 2000, seed: int = 0,
    panel: Mapping[str, Sequence[Judgment]] | None = None,
) -> dict[str, CategoryRate]:
    """Win rate vs the reference per prompt category, each as `summarize` computes the whole
    (orders averaged per prompt, paired bootstrap), grouped as compare's summary.json groups them
    (judge/stats/categories.py: empty unless there are two groups or more). With `panel` (each
    judge's lines), the panel's rate per category (judge/stats/panel.py)."""
    category = {item.prompt_id: item.category for item in items}

    def lines_of(found: Sequence[Judgment]) -> list[dict[str, Any]]:
        return [j.model_dump(exclude={"rating_base", "rating_tuned", "sides"})
                | {"category": category.get(j.prompt_id)} for j in found]

    if panel is not None and len(panel) > 1:
        members = {label: lines_of(found) for label, found in panel.items()}
        every = [row for rows in members.values() for row in rows]
        rates = {}
        for name, pw in panel_by_category(members, confidence, resamples, seed).items():
            invalid = sum(r["score"] is None for r in group_rows(every)[name])
            rates[name] = (CategoryRate(n=0, n_invalid=invalid, win_rate=None, ci=None)
                           if pw is None else CategoryRate(n=pw.n, n_invalid=pw.n_invalid,
                                                           win_rate=pw.win_rate,
                                                           ci=pw.ci_bootstrap))
        return rates
    rates = {}
    for name, rows in group_rows(lines_of(judgments)).items():
        invalid = sum(r["score"] is None for r in rows)
        if invalid == len(rows):
            rates[name] = CategoryRate(n=0, n_invalid=invalid, win_rate=None, ci=None)
            continue
        pw = summarize(rows, confidence, resamples, seed)
        rates[name] = CategoryRate(n=pw.n, n_invalid=pw.n_invalid, win_rate=pw.win_rate,
                                   ci=pw.ci_bootstrap)
    return rates


def strength_of(table: Mapping[str, Any], name: str) -> Strength | None:
    fit = table["models"].get(name)
    if fit is None:
        return None
    return Strength(strength=fit["strength"], elo=fit["elo"], win_rate=fit["win_rate"],
                    low=fit["ci"]["low"], high=fit["ci"]["high"])


class Entry(NamedTuple):
    """One model's comparison, as the leaderboard ranks it."""

    name: str
    ref: str
    kind: Literal["model", "answers"]
    folder: str
    pairwise: PairwiseStats
    categories: dict[str, CategoryRate]
    verdict: JudgeVerdict | None = None


def rank(entries: Sequence[Entry], table: Mapping[str, Any]) -> list[Standing]:
    """Standings, best Bradley–Terry strength first (a model none of whose lines could be read
    comes last); equal strengths by name."""
    def key(entry: Entry) -> tuple[float, str]:
        fit = strength_of(table, entry.name)
        return (-fit.strength if fit else float("inf"), entry.name)

    standings = []
    for place, entry in enumerate(sorted(entries, key=key), start=1):
        pw = entry.pairwise
        standings.append(Standing(
            rank=place, name=entry.name, ref=entry.ref, kind=entry.kind, folder=entry.folder,
            win_rate=pw.win_rate, ci=pw.ci_bootstrap, wins=pw.wins, ties=pw.ties,
            losses=pw.losses, n=pw.n, n_invalid=pw.n_invalid,
            position_consistency=pw.position_consistency,
            bradley_terry=strength_of(table, entry.name), categories=entry.categories,
            verdict=entry.verdict,
        ))
    return standings
