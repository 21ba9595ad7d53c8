"""Meta-evaluation: how well does a judge agree with human labels, and with itself across orders?

Input lines (docs/reference/statistics.md, `judge agreement`): id, label ("A" | "B" | "tie"),
verdict and verdict_swapped ("A" | "B" | "tie" | "invalid"), where verdict_swapped was judged with
the answers shown the other way round and is already mapped back to the original order; optional
category.

Every rate is over ALL n pairs, the convention of LLMBar and JudgeBench: an invalid verdict is a
wrong verdict, so a judge that fails to answer the hard pairs cannot look better than one that
answers them wrongly. Beside each rate, the same rate over the pairs valid in both orders carries a
`_valid` suffix (what this command reported before, and FastChat's habit of dropping errors).

    accuracy_original    = #(verdict = label) / n
    accuracy_swapped     = #(verdict_swapped = label) / n
    accuracy             = their mean (LLMBar's correct_average)
    position_consistency = #(verdict = verdict_swapped) / n; two invalid verdicts are equal
                           (LLMBar's `equal`, which compares the parsed winners, None included)
    both_correct         = #(verdict = verdict_swapped = label) / n
    vote_accuracy        = #(v(verdict) + v(verdict_swapped) > 0) / n, v = +1 for the label, −1 for
                           the opposite letter, 0 for a tie or invalid (JudgeBench's rule)
    mt_bench_agreement   = #(c = label) / n, c = the verdict when both orders agree, else a tie,
                           invalid when either order is (MT-Bench's pairing of its two games)
    mt_bench_agreement_no_ties = the same over pairs where neither c nor the label is a tie
    cohen_kappa_*        = (p_o − p_e) / (1 − p_e): p_o that order's accuracy, p_e = Σ_k P(label =
                           k)·P(verdict = k) over the classes present ("invalid" is a verdict class
                           no label has); null when p_e = 1 (one single class: agreement is trivial)

Every rate has a Wilson interval in `intervals` (successes may be halves: `accuracy` averages two
counts). With categories on the lines, every number is repeated per category in `by_category`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from judge.errors import InputError
from judge.records import Record
from judge.runs.summary import ControlStats, Interval, JudgeVerdict, PanelStats
from judge.stats.categories import check_categories, group_items
from judge.stats.intervals import wilson

Label = Literal["A", "B", "tie"]
Verdict = Literal["A", "B", "tie", "invalid"]
OPPOSITE = {"A": "B", "B": "A", "tie": "tie"}


class IdLine(BaseModel):
    """A line of a user's file keyed by `id`. Extra fields (e.g. a source column) are ignored,
    since these files often carry more than we read; a misspelt required field still fails."""

    model_config = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True)
    id: str


L = TypeVar("L", bound=IdLine)


class AgreementLine(IdLine):
    """One judged, human-labelled pair."""

    label: Label
    verdict: Verdict
    verdict_swapped: Verdict
    category: str | None = None


class AgreementStats(Record):
    """`judge agreement`'s numbers (the module docstring defines each)."""

    n: int
    n_invalid: int  # pairs with an invalid verdict in at least one order
    n_valid: int  # pairs valid in both orders
    accuracy_original: float
    accuracy_swapped: float
    accuracy: float
    position_consistency: float
    both_correct: float
    vote_accuracy: float
    mt_bench_agreement: float
    mt_bench_agreement_no_ties: float | None
    n_no_ties: int
    cohen_kappa_original: float | None
    cohen_kappa_swapped: float | None
    accuracy_original_valid: float | None
    accuracy_swapped_valid: float | None
    accuracy_valid: float | None
    position_consistency_valid: float | None
    both_correct_valid: float | None
    vote_accuracy_valid: float | None
    mt_bench_agreement_valid: float | None
    mt_bench_agreement_no_ties_valid: float | None
    n_no_ties_valid: int
    cohen_kappa_original_valid: float | None
    cohen_kappa_swapped_valid: float | None
    intervals: dict[str, Interval]
    by_category: dict[str, AgreementStats] = {}


class MemberAgreement(Record):
    """One judge of `judge agreement`: its agreement with the labels, its control pairs, and the
    verdict on it."""

    agreement: AgreementStats
    controls: ControlStats | None
    judge_check: JudgeVerdict


class AgreementRun(Record):
    """What `judge agreement --judge` found: for one judge its numbers; for a panel the panel's
    (the majority of the members' verdicts per pair and order), `panel` and each member's."""

    agreement: AgreementStats
    controls: ControlStats | None
    judge_check: JudgeVerdict
    panel: PanelStats | None = None
    members: dict[str, MemberAgreement] = {}


def parse_lines(rows: Sequence[dict], origin: str, record: type[L]) -> list[L]:
    """Validate rows into records; the first problem becomes one InputError line; ids are unique."""
    if not rows:
        raise InputError(f"{origin}: the file holds no lines")
    check_categories((row.get("category") for row in rows), origin)
    parsed, seen = [], set()
    for number, row in enumerate(rows, start=1):
        try:
            line = record.model_validate(row)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "line"
            raise InputError(f"{origin}: record {number}: {where}: {first['msg']}") from None
        if line.id in seen:
            raise InputError(f"{origin}: record {number}: id {line.id} appears twice")
        seen.add(line.id)
        parsed.append(line)
    return parsed


def cohen_kappa(labels: Sequence[str], predictions: Sequence[str]) -> float | None:
    """Cohen's kappa over the classes that occur in either sequence."""
    n = len(labels)
    observed = sum(a == b for a, b in zip(labels, predictions, strict=True)) / n
    of_labels, of_predictions = Counter(labels), Counter(predictions)
    expected = sum(of_labels[k] * of_predictions[k] for k in of_labels) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def vote(verdict: str, label: str) -> int:
    if verdict == label:
        return 1
    return -1 if verdict == OPPOSITE[label] else 0


def paired(x: AgreementLine) -> str:
    """MT-Bench's one verdict from two games: agreeing orders keep it, disagreeing ones tie."""
    if "invalid" in (x.verdict, x.verdict_swapped):
        return "invalid"
    return x.verdict if x.verdict == x.verdict_swapped else "tie"


# Each rate as (name, what counts as a success for a pair); the successes of `accuracy` are the
# mean of the two orders' counts.
RATES: dict[str, Callable[[AgreementLine], float]] = {
    "accuracy_original": lambda x: float(x.verdict == x.label),
    "accuracy_swapped": lambda x: float(x.verdict_swapped == x.label),
    "accuracy": lambda x: ((x.verdict == x.label) + (x.verdict_swapped == x.label)) / 2,
    "position_consistency": lambda x: float(x.verdict == x.verdict_swapped),
    "both_correct": lambda x: float(x.verdict == x.label == x.verdict_swapped),
    "vote_accuracy": lambda x: float(vote(x.verdict, x.label) + vote(x.verdict_swapped, x.label)
                                     > 0),
    "mt_bench_agreement": lambda x: float(paired(x) == x.label),
}


def rates(lines: Sequence[AgreementLine], confidence: float) -> tuple[dict, dict[str, Interval]]:
    """Every rate over `lines` (None for each when there are none) and its Wilson interval."""
    values: dict[str, float | int | None] = {}
    intervals: dict[str, Interval] = {}
    n = len(lines)

    def put(name: str, successes: float, total: int) -> None:
        values[name] = successes / total if total else None
        if total:
            low, high = wilson(successes, total, confidence)
            intervals[name] = Interval(method="wilson", level=confidence, low=low, high=high)

    for name, success in RATES.items():
        put(name, sum(success(x) for x in lines), n)
    decided = [x for x in lines if x.label != "tie" and paired(x) != "tie"]
    put("mt_bench_agreement_no_ties", sum(paired(x) == x.label for x in decided), len(decided))
    values["n_no_ties"] = len(decided)
    labels = [x.label for x in lines]
    for order, attr in (("original", "verdict"), ("swapped", "verdict_swapped")):
        verdicts = [getattr(x, attr) for x in lines]
        values[f"cohen_kappa_{order}"] = cohen_kappa(labels, verdicts) if n else None
    return values, intervals


def agreement(
    lines: Sequence[AgreementLine], confidence: float = 0.95, per_category: bool = True
) -> AgreementStats:
    """The agreement metrics above, over all pairs and over the pairs valid in both orders."""
    if not lines:
        raise InputError("no labelled pair to score")
    valid = [x for x in lines if "invalid" not in (x.verdict, x.verdict_swapped)]
    everything, intervals = rates(lines, confidence)
    only_valid, valid_intervals = rates(valid, confidence)
    intervals |= {f"{name}_valid": ci for name, ci in valid_intervals.items()}
    groups = group_items(list(lines), [x.category for x in lines]) if per_category else {}
    return AgreementStats(
        n=len(lines), n_invalid=len(lines) - len(valid), n_valid=len(valid),
        **everything, **{f"{name}_valid": value for name, value in only_valid.items()},
        intervals=intervals,
        by_category={name: agreement(group, confidence, per_category=False)
                     for name, group in groups.items()},
    )
