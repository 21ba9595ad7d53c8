"""summary.json as a record: every writer builds a `Summary`, every reader (report, card, stats
CLI) reads one. Schema "judge.summary/1"; the field order here is the key order in the file.

Adding a statistic: compute it where its family lives (judge/stats/, its block in
judge/stats/blocks.py), add its field here, and show it with a registered block view
(judge/report/blockview.py): its rows, tables and plots in every view.
New blocks are optional and left out of the file when absent, so older summary.json files still
validate and keep their shape.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from judge.frames import data_frame, flat_fields
from judge.records import Record, read_schema_file

SCHEMA = "judge.summary/1"


class Interval(Record):
    method: str
    level: float
    low: float
    high: float


class BootstrapInterval(Interval):
    resamples: int
    seed: int


class LengthModel(Record):
    """The fitted length model behind lc_win_rate (judge/stats/lc.py)."""

    identity: float | None
    length: float | None
    length_sd: float | None


class PairwiseStats(Record):
    """The `pairwise` block: one item per prompt, its orders averaged (judge/stats/pairwise.py)."""

    n: int
    n_invalid: int
    wins: int
    losses: int
    ties: int
    win_rate: float
    standard_error: float | None
    discrete_win_rate: float
    ci: Interval
    ci_bootstrap: BootstrapInterval
    soft_win_rate: float | None
    p_value: float
    position_consistency: float | None
    first_position_rate: float | None
    lc_win_rate: float | None
    lc_model: LengthModel | None
    warnings: list[str]


class RatingsStats(Record):
    """The `ratings` block of pointwise templates (judge/stats/ratings.py)."""

    n: int
    n_invalid: int
    mean_base: float
    mean_tuned: float
    mean_difference: float
    standard_error: float | None
    ci: BootstrapInterval
    higher: int
    lower: int
    equal: int
    p_value: float


class MeanScore(Record):
    """A mean 1-10 score (or a mean paired difference) over question-turn rows, with a seeded
    bootstrap interval that resamples whole questions (judge/stats/mt_bench.py says why)."""

    mean: float | None  # None: no valid row
    n: int  # valid rows (question-turns)
    n_questions: int
    ci: BootstrapInterval | None


class ScoreTable(Record):
    """One model's MT-Bench scores (or one difference): overall, per turn and per category."""

    overall: MeanScore
    turns: dict[str, MeanScore]  # "1", "2"
    categories: dict[str, MeanScore]


class MTBenchStats(Record):
    """The `mt_bench` block: FastChat's single-answer table (per model: overall mean of the valid
    rows, per turn, per category) with intervals, and each model minus the baseline, paired by
    question and turn (judge/stats/mt_bench.py)."""

    n_questions: int
    n_invalid: dict[str, int]  # per model: rows without a score (FastChat's -1), left out
    models: dict[str, ScoreTable]
    baseline: str | None
    differences: dict[str, ScoreTable]  # model -> (model − baseline)


class GradedStats(Record):
    """The `graded` block: strong verdicts weighted as arena-hard does (judge/stats/graded.py)."""

    weighted_win_rate: float
    n: int
    strong_lines: int
    ci: BootstrapInterval
    pooled_win_rate: float | None = None  # arena-hard's score: the mean over weighted verdicts
    pooled_ci: BootstrapInterval | None = None


class BiasStats(Record):
    """The `bias` block: what the judge favours besides quality (judge/stats/bias.py)."""

    first_position_rate: float | None
    n_first_position: int
    position_consistency: float | None
    prefer_longer: float | None
    n_prefer_longer: int
    prefer_lists: float | None
    n_prefer_lists: int
    more_list_items: float | None
    n_more_list_items: int
    reasons: dict[str, str]  # why a null statistic is null
    warnings: list[str]


class StyleControl(Record):
    """The `style_control` block: the win rate at zero style difference (judge/stats/style.py)."""

    win_rate: float | None
    ci: BootstrapInterval | None
    model_coefficient: float | None  # logit of win_rate
    coefficients: dict[str, float]  # per z-scored feature
    feature_means: dict[str, float]  # mean raw feature (tuned minus base, bounded in (−1, 1))
    left_out: dict[str, str]  # features not in the fit, and why
    n: int
    reason: str | None  # why win_rate is null


class BenchDelta(Record):
    """One lm-eval task for both models (judge/benchmarks/paired.py)."""

    metric: str
    base: float
    tuned: float
    delta: float
    stderr: float | None
    p_value: float | None = None
    test: str | None = None
    discordant: dict[str, int] | None = None
    n: int | None = None


class StageTime(Record):
    seconds: float
    tokens: int
    tokens_per_second: float | None


class ControlKind(Record):
    """How the judge did on control pairs, all or one kind of them (judge/stats/controls.py)."""

    n: int  # control pairs judged
    n_invalid: int  # pairs with an invalid verdict in at least one order
    accuracy: float | None  # verdicts for the real answer / all verdicts; invalid and tie = wrong
    ci: Interval | None  # Wilson
    position_consistency: float | None  # null for pointwise templates (one line per pair)
    skipped: dict[str, int] = {}  # prompts passed over while building them, by reason


class ControlStats(ControlKind):
    """The `controls` block: pairs whose better answer is known by construction."""

    requested: int  # per kind (--controls)
    by_kind: dict[str, ControlKind]


class JudgeVerdict(Record):
    """The `verdict` block: could this run's judge judge (judge/stats/controls.py has the rule)?"""

    status: Literal["passed", "inconclusive", "unchecked"]
    reasons: list[str]  # inconclusive: each failed check, with its figures; unchecked: why
    smoke_test: list[str] = []  # judges of this run that are the bundled smoke-test model


class MemberPair(Record):
    """Two panel members compared over the prompts both judged validly (judge/stats/panel.py)."""

    a: str
    b: str
    n: int
    agreement: float | None  # share of those prompts with the same outcome
    cohen_kappa: float | None


class PanelStats(Record):
    """The `panel` block: how much the members agree (judge/stats/panel.py)."""

    members: list[str]
    n: int  # prompts every member judged validly: the items of Fleiss' kappa
    fleiss_kappa: float | None
    pairs: list[MemberPair]
    sides_with_panel: dict[str, float | None]  # member -> share of its outcomes the panel shares


# Blocks only some runs produce; left out of the file when absent, as before the record.
OPTIONAL_BLOCKS = ("verdict", "ratings", "graded", "by_category", "bias", "style_control",
                   "controls", "panel", "members", "mt_bench")


class Blocks(Record):
    """A record whose optional blocks are left out of its JSON when absent."""

    @model_serializer(mode="wrap")
    def _drop_absent_blocks(self, handler: SerializerFunctionWrapHandler) -> dict:
        data = handler(self)
        for name in OPTIONAL_BLOCKS:
            if data.get(name) in (None, {}):
                data.pop(name, None)
        return data


class MemberSummary(Blocks):
    """One panel member's own numbers, as a single-judge summary.json has them."""

    judge: str
    template: str
    verdict: JudgeVerdict | None = None
    pairwise: PairwiseStats
    ratings: RatingsStats | None = None
    graded: GradedStats | None = None
    by_category: dict[str, PairwiseStats | None] = {}
    bias: BiasStats | None = None
    style_control: StyleControl | None = None
    controls: ControlStats | None = None
    verdict_sources: dict[str, int]


class Summary(Blocks):
    """summary.json. For a panel, `judge` and `template` list the members, `pairwise` and the
    blocks beside it are the panel's, and `members` holds each member's own."""

    schema_: Literal["judge.summary/1"] = Field(default="judge.summary/1", alias="schema")
    base: str
    tuned: str
    judge: str
    template: str
    verdict: JudgeVerdict | None = None
    pairwise: PairwiseStats
    ratings: RatingsStats | None = None
    graded: GradedStats | None = None
    by_category: dict[str, PairwiseStats | None] = {}  # null: every line of it was invalid
    bias: BiasStats | None = None
    style_control: StyleControl | None = None
    controls: ControlStats | None = None
    panel: PanelStats | None = None
    members: dict[str, MemberSummary] = {}
    mt_bench: MTBenchStats | None = None  # per-turn grading (judge/pipeline/turns.py)
    verdict_sources: dict[str, int]
    benchmarks: dict[str, BenchDelta]
    timing: dict[str, StageTime]

    def as_json(self) -> dict[str, Any]:
        """The dict written to summary.json (and printed by `--json`)."""
        return self.model_dump(by_alias=True)

    def to_pandas(self) -> Any:
        """summary.json as a long table, one number per row: `field` (dotted, e.g.
        `pairwise.ci.low`) and `value`. Needs pandas."""
        fields = flat_fields(self.as_json())
        return data_frame([{"field": k, "value": v} for k, v in fields.items()],
                          ["field", "value"])


def read_summary(data: dict[str, Any], where: str) -> Summary:
    """A summary.json's content as a Summary; anything else is one InputError line."""
    return read_schema_file(Summary, SCHEMA, data, where,
                            "lacks a field the card needs or has a bad one")

