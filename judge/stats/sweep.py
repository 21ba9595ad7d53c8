"""sweep.json as a record, and the numbers only a sweep has: which trial is best, and whether it is
distinguishable from the runner-up. Schema "judge.sweep/1".

Per trial: its settings, what its trainer logged last (training.json), and its row of the sweep's
leaderboard (every trial judged against the base on the same prompts in both orders: win rate vs
the base with its paired bootstrap interval, Bradley–Terry strength with its prompt-bootstrap
interval; judge/stats/leaderboard.py).

Best: the highest Bradley–Terry strength against the base; equal strengths by the higher win rate
vs the base, then the lower final eval loss (a trial without one after those with one), then the
name. A trial none of whose verdicts could be read ranks after every judged one.

Distinguishable from the runner-up: over the prompts where both have a valid item score (the mean
of the prompt's valid line scores, both orders, as in the win rate), d_i = s_best(i) − s_runner(i).
The mean of d comes with its seeded percentile bootstrap interval over prompts, and the exact
two-sided sign test counts the prompts with d_i > 0 against those with d_i < 0. Distinguishable
when the interval lies above 0 and the sign test's p is below 1 − level: the bootstrap alone
collapses to a point when every prompt differs by the same amount (three prompts all +1 would look
certain, where the sign test gives p = 0.25).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import Field

from judge.records import Record, read_schema_file
from judge.runs.summary import BootstrapInterval, StageTime
from judge.stats.intervals import bootstrap_interval, sign_test
from judge.stats.leaderboard import Standing
from judge.stats.pairwise import TIE_TOLERANCE, item_scores

SCHEMA = "judge.sweep/1"
Decided = Literal["strength", "win rate", "eval loss", "name"]
ThisRun = Literal["trained", "resumed", "skipped", "failed"]


class Trained(Record):
    """What the trainer left in training.json: the last logged values (docs/guides/sweeps.md)."""

    steps: int  # global_step
    planned_steps: int | None
    train_loss: float | None  # metrics.loss: the last logging step's training loss
    eval_loss: float | None  # eval_metrics.eval_loss: the evaluation after the last step
    reward_accuracy: float | None  # metrics["rewards/accuracies"] (ORPO, DPO; None for SFT)
    eval_reward_accuracy: float | None  # eval_metrics["eval_rewards/accuracies"]
    seconds: float  # training time of the run that wrote training.json
    resumed_from: str | None


class TrialResult(Record):
    name: str
    method: str
    settings: dict[str, Any]  # the swept fields, typed as the trial's recipe holds them
    folder: str  # its model folder, trials/<name>, relative to the sweep folder
    status: Literal["trained", "failed"]
    this_run: ThisRun
    error: str | None = None
    training: Trained | None = None
    rank: int | None = None  # by the judged result; None when not judged
    judged: Standing | None = None  # its row of leaderboard/leaderboard.json
    # the judge's verdict on itself for this trial's pair (issue 16's summary.json `verdict`
    # block: passed | inconclusive | unchecked), None while the pair's summary has none
    judge_check: str | None = None
    judge_check_reasons: list[str] = []


class Separation(Record):
    best: str
    runner_up: str
    decided_by: Decided  # the first criterion of the order that told the two apart
    n: int  # prompts with a valid item score for both
    difference: float | None  # mean of s_best − s_runner over those prompts
    ci: BootstrapInterval | None
    better: int  # prompts where the best scored higher
    worse: int
    p_value: float  # exact two-sided sign test, better vs worse
    distinguishable: bool


class Sweep(Record):
    schema_: Literal["judge.sweep/1"] = Field(default="judge.sweep/1", alias="schema")
    recipe: str
    base: str  # the reference's name in the leaderboard
    base_ref: str
    judge: str | None
    template: str | None
    n_prompts: int | None
    space: dict[str, Any]  # kind grid: axes; kind random: n, seed, ranges
    trials: list[TrialResult]  # ranked first, then the rest in the order of the space
    best: str | None
    separation: Separation | None
    leaderboard: str | None  # the leaderboard folder, relative to the sweep folder
    trained: list[str] = []  # trials this run trained or resumed
    models_loaded: list[str] = []  # models the judging loaded in this run
    timing: dict[str, StageTime] = {}

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


def read_sweep(data: dict[str, Any], where: str) -> Sweep:
    return read_schema_file(Sweep, SCHEMA, data, where)


def order_key(trial: TrialResult) -> tuple:
    """Sort key, best first (module docstring)."""
    standing, training = trial.judged, trial.training
    fit = standing.bradley_terry if standing else None
    eval_loss = training.eval_loss if training else None
    return (fit is None, -fit.strength if fit else 0.0,
            -standing.win_rate if standing else 0.0,
            eval_loss is None, eval_loss if eval_loss is not None else 0.0, trial.name)


def rank_trials(trials: Sequence[TrialResult]) -> list[TrialResult]:
    """Judged trials best first, numbered; the others after them, unnumbered, as given."""
    judged = sorted((t for t in trials if t.judged is not None), key=order_key)
    ranked = [t.model_copy(update={"rank": i}) for i, t in enumerate(judged, start=1)]
    return ranked + [t for t in trials if t.judged is None]


def decided_by(best: TrialResult, runner: TrialResult) -> Decided:
    a, b = order_key(best), order_key(runner)
    steps: list[tuple[Decided, slice]] = [("strength", slice(0, 2)), ("win rate", slice(2, 3)),
                                          ("eval loss", slice(3, 5))]
    return next((name for name, part in steps if a[part] != b[part]), "name")


def separation(best: TrialResult, runner: TrialResult,
               rows: Mapping[str, Sequence[Mapping[str, Any]]], confidence: float,
               resamples: int, seed: int) -> Separation:
    """best vs runner-up on their shared prompts (module docstring); rows: battle rows by trial."""
    grouped = {name: item_scores(rows.get(name, []))[0] for name in (best.name, runner.name)}
    shared = sorted(set(grouped[best.name]) & set(grouped[runner.name]))
    diffs = [sum(grouped[best.name][p]) / len(grouped[best.name][p])
             - sum(grouped[runner.name][p]) / len(grouped[runner.name][p]) for p in shared]
    better = sum(d > TIE_TOLERANCE for d in diffs)
    worse = sum(d < -TIE_TOLERANCE for d in diffs)
    p_value = sign_test(better, worse)
    ci, difference = None, None
    if diffs:
        difference = sum(diffs) / len(diffs)
        low, high = bootstrap_interval(diffs, confidence, resamples, seed)
        ci = BootstrapInterval(method="paired_bootstrap", level=confidence, low=low, high=high,
                               resamples=resamples, seed=seed)
    clear = ci is not None and ci.low > 0 and p_value < 1 - confidence
    return Separation(best=best.name, runner_up=runner.name, decided_by=decided_by(best, runner),
                      n=len(diffs), difference=difference, ci=ci, better=better, worse=worse,
                      p_value=p_value, distinguishable=clear)
