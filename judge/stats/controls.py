"""Control pairs and the verdict on the judge: could it judge on this run, from the run's own data?

A control pair sets a real answer against one that is worse by construction (an answer to another
prompt, or the real answer cut off after a few words; judge/pipeline/controls.py builds them). The
real answer plays the tuned side, so a control line's winner is `tuned` exactly when the judge
picked the real answer. Each pair becomes an agreement line with label B and is scored by
judge/stats/agreement.py's own rates, over all pairs (LLMBar's convention):

    accuracy             = Σ_pairs (verdicts for the real answer) / (2 · n)   (1 · n pointwise)
                           an invalid verdict and a tie are wrong (LLMBar's correct_average)
    ci                   = Wilson interval of accuracy, successes Σ (may be halves), trials n
    position_consistency = #(same verdict in both orders) / n, two invalid verdicts equal

The verdict rule, one definition for every command:

    inconclusive  when  controls' Wilson lower bound ≤ 0.5 (the interval reaches chance: a judge
                        that picks at random, or always the first answer, scores 0.5)
                  or    position_consistency < 0.5 or first_position_rate > 0.75 on the real pairs
                        (judge/stats/bias.py's thresholds for "badly position-biased")
    passed        when  no check fails and at least one control pair was judged
    unchecked     when  no check fails and no control pair was judged (--controls 0, or no prompt
                        gave one)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from judge.records import Judgment, Winner
from judge.runs.summary import ControlKind, ControlStats, Interval, JudgeVerdict
from judge.stats.agreement import AgreementLine, Verdict, rates
from judge.stats.bias import CONSISTENCY_FLOOR, FIRST_POSITION_CEILING

KINDS = ("offtopic", "truncated")
CHANCE = 0.5
LETTER: dict[Winner, Verdict] = {"base": "A", "tuned": "B", "tie": "tie", "invalid": "invalid"}


def control_lines(judgments: Sequence[Judgment]) -> tuple[list[AgreementLine], bool]:
    """One agreement line per control pair (label B: the real answer), and whether the lines had
    orders. A pointwise line stands for both orders (one comparison of two ratings)."""
    by_pair: dict[str, dict[str | None, Judgment]] = defaultdict(dict)
    for j in judgments:
        by_pair[j.prompt_id][j.order] = j
    ordered = any(j.order is not None for j in judgments)
    lines = []
    for pid in sorted(by_pair):
        orders = by_pair[pid]
        first, second = ((orders.get("base_first"), orders.get("tuned_first")) if ordered
                         else (orders.get(None), orders.get(None)))
        verdicts = [LETTER[j.winner] if j is not None else "invalid" for j in (first, second)]
        lines.append(AgreementLine(id=pid, label="B", verdict=verdicts[0],
                                   verdict_swapped=verdicts[1], category=orders_kind(orders)))
    return lines, ordered


def orders_kind(orders: Mapping[str | None, Judgment]) -> str | None:
    return next(iter(orders.values())).category


def kind_stats(lines: Sequence[AgreementLine], ordered: bool, skipped: Mapping[str, int],
               confidence: float) -> ControlKind:
    values, intervals = rates(lines, confidence)
    invalid = sum("invalid" in (x.verdict, x.verdict_swapped) for x in lines)
    return ControlKind(
        n=len(lines), n_invalid=invalid, accuracy=values["accuracy"],
        ci=intervals.get("accuracy"),
        position_consistency=values["position_consistency"] if ordered else None,
        skipped=dict(skipped),
    )


def control_stats(
    lines: Sequence[AgreementLine], ordered: bool, requested: int,
    skipped: Mapping[str, Mapping[str, int]], confidence: float = 0.95,
) -> ControlStats:
    """The controls block of one judge's (or one panel's) control lines, category = the kind;
    `skipped` holds, per kind, the prompts passed over while building them and why."""
    kinds = {kind: kind_stats([x for x in lines if x.category == kind], ordered,
                              skipped.get(kind, {}), confidence) for kind in KINDS}
    total: dict[str, int] = defaultdict(int)
    for reasons in skipped.values():
        for reason, count in reasons.items():
            total[reason] += count
    whole = kind_stats(lines, ordered, total, confidence)
    return ControlStats(**whole.model_dump(), requested=requested, by_kind=kinds)


def pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def control_failure(controls: ControlStats) -> str | None:
    """The sentence of a failed control check, or None when it passed (or nothing was judged)."""
    ci: Interval | None = controls.ci
    if not controls.n or ci is None or controls.accuracy is None or ci.low > CHANCE:
        return None
    return (f"it chose the real answer over a control in {pct(controls.accuracy)} of its "
            f"verdicts on {controls.n} control pairs ({ci.level:.0%} Wilson interval "
            f"{pct(ci.low)} – {pct(ci.high)}, which reaches chance, 50%)")


def position_failures(consistency: float | None, first: float | None) -> list[str]:
    found = []
    if consistency is not None and consistency < CONSISTENCY_FLOOR:
        found.append(f"it gave the same winner in both answer orders on only {pct(consistency)} "
                     "of prompts (under 50%)")
    if first is not None and first > FIRST_POSITION_CEILING:
        found.append(f"the answer shown first won {pct(first)} of its decisive verdicts "
                     "(over 75%)")
    return found


def judge_verdict(
    controls: ControlStats | None, position: tuple[float | None, float | None],
    smoke_test: Sequence[str] = (),
) -> JudgeVerdict:
    """The rule of the module docstring, applied to one judge's (or one panel's) numbers:
    its controls, and (position consistency, first-position rate) on the real pairs."""
    failed = [r for r in [control_failure(controls) if controls else None] if r]
    failed += position_failures(*position)
    if failed:
        return JudgeVerdict(status="inconclusive", reasons=failed, smoke_test=list(smoke_test))
    if controls is not None and controls.n:
        return JudgeVerdict(status="passed", reasons=[], smoke_test=list(smoke_test))
    why = ("no control pair was asked for (--controls 0)" if controls is None
           or not controls.requested else "no prompt gave a control pair (answers too short "
           "to cut, or identical)")
    return JudgeVerdict(status="unchecked", reasons=[why], smoke_test=list(smoke_test))
