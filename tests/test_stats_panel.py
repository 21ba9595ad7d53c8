"""Panels and controls by hand: Fleiss' kappa tables, the majority rule, a panel's pairwise block,
control accuracy with its Wilson interval, and the verdict rule at its thresholds."""

from __future__ import annotations

import tempfile
from itertools import permutations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from judge.stats.agreement import AgreementLine
from judge.stats.controls import control_stats, judge_verdict
from judge.stats.intervals import wilson
from judge.stats.panel import (
    fleiss_kappa,
    majority,
    majority_lines,
    panel_blocks,
    panel_pairwise,
    panel_stats,
)

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="judge-hypothesis-"))

# Fleiss' kappa, one row per item, columns (base, tie, tuned), m raters per row.
FLEISS = [
    # 4 items, 3 raters: rows (0,0,3) (0,1,2) (1,1,1) (2,1,0)
    # P_i = (Σ n² − 3)/6: (9−3)/6 = 1, (5−3)/6 = 1/3, (3−3)/6 = 0, (5−3)/6 = 1/3; P̄ = (5/3)/4 = 5/12
    # p_j = (3, 3, 6)/12 = 1/4, 1/4, 1/2; P̄_e = 1/16 + 1/16 + 1/4 = 3/8
    # κ = (5/12 − 3/8)/(1 − 3/8) = (1/24)/(15/24) = 1/15
    ([[0, 0, 3], [0, 1, 2], [1, 1, 1], [2, 1, 0]], 1 / 15),
    # 3 items, 2 raters, perfect agreement over two categories: P_i = 1, P̄ = 1;
    # p = (2/6, 0, 4/6), P̄_e = 4/36 + 16/36 = 5/9; κ = (1 − 5/9)/(4/9) = 1
    ([[2, 0, 0], [0, 0, 2], [0, 0, 2]], 1.0),
    # 2 items, 2 raters, always disagreeing: P_i = (1 + 1 − 2)/2 = 0, P̄ = 0;
    # p = (2/4, 0, 2/4), P̄_e = 1/2; κ = (0 − 1/2)/(1/2) = −1
    ([[1, 0, 1], [1, 0, 1]], -1.0),
    # 5 items, 4 raters: rows (4,0,0) (2,2,0) (0,3,1) (1,1,2) (0,0,4)
    # P_i = (Σ n² − 4)/12: 12/12 = 1, 4/12 = 1/3, 6/12 = 1/2, 2/12 = 1/6, 1; P̄ = 3/5
    # column sums (7, 6, 7)/20: P̄_e = (49 + 36 + 49)/400 = 134/400 = 0.335
    # κ = (0.6 − 0.335)/(0.665) = 0.265/0.665 = 53/133
    ([[4, 0, 0], [2, 2, 0], [0, 3, 1], [1, 1, 2], [0, 0, 4]], 53 / 133),
]


@pytest.mark.parametrize(("table", "expected"), FLEISS)
def test_fleiss_kappa_by_hand(table, expected):
    assert fleiss_kappa(table) == pytest.approx(expected)


def test_fleiss_kappa_edges():
    assert fleiss_kappa([]) is None  # no item that every member judged
    assert fleiss_kappa([[0, 3, 0], [0, 3, 0]]) is None  # one outcome only: P̄_e = 1
    with pytest.raises(ValueError):
        fleiss_kappa([[1, 0, 0]])  # one rater is no agreement
    with pytest.raises(ValueError):
        fleiss_kappa([[2, 0, 0], [1, 0, 0]])  # rows must have the same number of ratings


@settings(max_examples=60, deadline=None, database=None)
@given(st.lists(st.lists(st.sampled_from(["base", "tie", "tuned"]), min_size=3, max_size=3),
                min_size=1, max_size=12))
def test_fleiss_kappa_is_rater_pair_agreement_beyond_chance(ratings):
    """Counted another way, from the raw ratings: the share of agreeing pairs of raters per item,
    against the chance that two ratings drawn from all of them agree. Relabelling the outcomes or
    reordering the items changes nothing, and κ never falls below −1/(m − 1)."""
    outcomes = ("base", "tie", "tuned")

    def table(rows):
        return [[row.count(c) for c in outcomes] for row in rows]

    m = 3
    agree = sum(sum(a == b for i, a in enumerate(row) for j, b in enumerate(row) if i != j)
                / (m * (m - 1)) for row in ratings) / len(ratings)
    every = [r for row in ratings for r in row]
    chance = sum((every.count(c) / len(every)) ** 2 for c in outcomes)
    value = fleiss_kappa(table(ratings))
    if chance > 1 - 1e-12:  # one outcome only: no agreement beyond chance to speak of
        assert value is None
        return
    assert value == pytest.approx((agree - chance) / (1 - chance))
    assert -1 / (m - 1) - 1e-12 <= value <= 1
    for relabel in permutations(outcomes):
        renamed = [[relabel[outcomes.index(r)] for r in row] for row in reversed(ratings)]
        assert fleiss_kappa(table(renamed)) == pytest.approx(value)


def test_majority_and_an_even_split():
    assert majority(["tuned", "tuned", "tie"]) == "tuned"
    assert majority(["tuned", "base", "tie"]) == "tie"  # no majority
    assert majority(["tuned", "base"]) == "tie"  # an even split
    assert majority(["tuned", "tuned", "base", "base"]) == "tie"
    assert majority(["base"]) == "base"


def lines_of(outcomes: dict[str, tuple[str, str]]) -> list[dict]:
    """A member's two lines per prompt: (base_first winner, tuned_first winner)."""
    value = {"tuned": 1.0, "base": 0.0, "tie": 0.5, "invalid": None}
    return [{"prompt_id": pid, "order": order, "score": value[w], "winner": w,
             "len_base": 10, "len_tuned": 10}
            for pid, pair in outcomes.items()
            for order, w in zip(("base_first", "tuned_first"), pair, strict=True)]


# Three members on four prompts. j3 always picks the answer shown first (base in base_first,
# tuned in tuned_first) except on q0. Item outcomes:
#   q0 (T, T, T)   q1 (T, T, tie)   q2 (T, B, tie)   q3 (B, B, tie)
PANEL = {
    "j1": lines_of({"q0": ("tuned", "tuned"), "q1": ("tuned", "tuned"),
                    "q2": ("tuned", "tuned"), "q3": ("base", "base")}),
    "j2": lines_of({"q0": ("tuned", "tuned"), "q1": ("tuned", "tuned"),
                    "q2": ("base", "base"), "q3": ("base", "base")}),
    "j3": lines_of({"q0": ("tuned", "tuned"), "q1": ("base", "tuned"),
                    "q2": ("base", "tuned"), "q3": ("base", "tuned")}),
}


def test_panel_pairwise_by_hand():
    pw = panel_pairwise(PANEL, resamples=200)
    # panel outcomes: q0 T, q1 T (2 of 3), q2 tie (no majority), q3 B
    assert (pw.wins, pw.ties, pw.losses, pw.n, pw.n_invalid) == (2, 1, 1, 4, 0)
    # soft scores: q0 1, q1 (1 + 1 + .5)/3 = 5/6, q2 (1 + 0 + .5)/3 = 1/2, q3 (0 + 0 + .5)/3 = 1/6
    assert pw.win_rate == pytest.approx((1 + 5 / 6 + 1 / 2 + 1 / 6) / 4)  # 0.625
    assert pw.discrete_win_rate == pytest.approx((2 + 1 / 2) / 4)
    low, high = wilson(2.5, 4)
    assert (pw.ci.low, pw.ci.high) == (pytest.approx(low), pytest.approx(high))
    # per order, majority of line outcomes: q0 T/T, q1 T/T, q2 B/T, q3 B/B -> 3 of 4 consistent;
    # shown first won: q0 tf, q1 tf, q2 bf and tf, q3 bf = 5 of 8 decisive lines
    assert pw.position_consistency == pytest.approx(3 / 4)
    assert pw.first_position_rate == pytest.approx(5 / 8)


def test_panel_agreement_by_hand():
    panel = panel_stats(PANEL)
    assert panel.members == ["j1", "j2", "j3"] and panel.n == 4
    assert panel.fleiss_kappa == pytest.approx(1 / 15)  # FLEISS's first table
    kappas = {(p.a, p.b): (p.n, p.agreement, p.cohen_kappa) for p in panel.pairs}
    # j1 (T,T,T,B) vs j2 (T,T,B,B): p_o = 3/4; p_e = (3·2 + 1·2)/16 = 1/2; κ = (1/4)/(1/2) = 1/2
    assert kappas[("j1", "j2")] == (4, 0.75, pytest.approx(0.5))
    # j1 vs j3 (T,t,t,t): p_o = 1/4; p_e = (3·1)/16; κ = (1/16)/(13/16) = 1/13
    assert kappas[("j1", "j3")] == (4, 0.25, pytest.approx(1 / 13))
    # j2 vs j3: p_o = 1/4; p_e = (2·1)/16 = 1/8; κ = (1/8)/(7/8) = 1/7
    assert kappas[("j2", "j3")] == (4, 0.25, pytest.approx(1 / 7))
    # panel (T, T, tie, B): j1 and j2 side with it on q0, q1, q3; j3 on q0 and q2
    assert panel.sides_with_panel == {"j1": 0.75, "j2": 0.75, "j3": 0.5}


def test_an_invalid_item_leaves_the_kappas_but_not_the_rate():
    members = {**PANEL, "j3": lines_of({"q0": ("invalid", "invalid"), "q1": ("base", "tuned"),
                                        "q2": ("base", "tuned"), "q3": ("base", "tuned")})}
    panel = panel_stats(members)
    assert panel.n == 3  # q0 is not judged validly by every member
    # rows q1 (0,1,2), q2 (1,1,1), q3 (2,1,0): P_i = 1/3, 0, 1/3, P̄ = 2/9; p = (3, 3, 3)/9,
    # P̄_e = 1/3; κ = (2/9 − 1/3)/(2/3) = −1/6
    assert panel.fleiss_kappa == pytest.approx(-1 / 6)
    assert panel.sides_with_panel["j3"] == pytest.approx(1 / 3)  # tie on q2 only, of 3
    pw = panel_pairwise(members, resamples=200)
    assert (pw.n, pw.n_invalid, pw.wins) == (4, 2, 2)  # q0 decided by j1 and j2
    assert pw.win_rate == pytest.approx((1 + 5 / 6 + 1 / 2 + 1 / 6) / 4)


def test_panel_blocks_keep_the_pairwise_shape():
    blocks = panel_blocks(PANEL, resamples=200)
    assert set(blocks) >= {"pairwise", "bias", "style_control", "panel"}
    assert blocks["bias"].first_position_rate == pytest.approx(5 / 8)


def control(pid: str, kind: str, verdict: str, swapped: str) -> AgreementLine:
    return AgreementLine(id=pid, label="B", verdict=verdict, verdict_swapped=swapped,
                         category=kind)


def test_control_accuracy_counts_invalid_and_ties_as_wrong():
    lines = [control("1", "offtopic", "B", "B"), control("2", "offtopic", "B", "invalid"),
             control("3", "truncated", "tie", "B"), control("4", "truncated", "A", "A")]
    stats = control_stats(lines, True, 8, {"truncated": {"fewer than 20 words": 2}})
    # verdicts for the real answer: 2 + 1 + 1 + 0 = 4 of 8; Wilson of 2 successes in 4 pairs
    assert (stats.n, stats.n_invalid, stats.accuracy) == (4, 1, 0.5)
    low, high = wilson(2, 4)
    assert (stats.ci.low, stats.ci.high) == (pytest.approx(low), pytest.approx(high))
    assert stats.position_consistency == pytest.approx(2 / 4)  # pairs 1 and 4
    assert stats.by_kind["offtopic"].accuracy == pytest.approx(3 / 4)
    assert stats.by_kind["truncated"].accuracy == pytest.approx(1 / 4)
    assert stats.skipped == {"fewer than 20 words": 2} and stats.requested == 8


def test_the_verdict_rule_at_its_thresholds():
    def verdict_for(correct: int, n: int, position=(1.0, 0.5)):
        lines = [control(str(i), "offtopic", "B" if i < correct else "A",
                         "B" if i < correct else "A") for i in range(n)]
        return judge_verdict(control_stats(lines, True, n, {}), position)

    # 7 of 8 right: Wilson low 0.529 > 0.5 passes; 6 of 8: low 0.409 reaches chance
    assert wilson(7, 8)[0] > 0.5 > wilson(6, 8)[0]
    assert verdict_for(7, 8).status == "passed"
    failed = verdict_for(6, 8)
    assert failed.status == "inconclusive" and "75.0% of its verdicts on 8" in failed.reasons[0]
    # position: consistency 0.5 and first-shown 0.75 are still fine; beyond them it fails
    assert verdict_for(8, 8, (0.5, 0.75)).status == "passed"
    biased = verdict_for(8, 8, (0.49, 0.76))
    assert biased.status == "inconclusive" and len(biased.reasons) == 2
    assert judge_verdict(None, (1.0, 0.5)).status == "unchecked"
    assert judge_verdict(None, (0.2, None)).status == "inconclusive"


def test_a_panel_control_is_its_members_majority_per_order():
    members = [[control("1", "offtopic", "B", "B"), control("2", "offtopic", "A", "invalid")],
               [control("1", "offtopic", "B", "A"), control("2", "offtopic", "invalid", "invalid")],
               [control("1", "offtopic", "A", "A"), control("2", "offtopic", "B", "invalid")]]
    found = {x.id: (x.verdict, x.verdict_swapped) for x in majority_lines(members)}
    # pair 1: (B, B, A) -> B; (B, A, A) -> A. pair 2: valid A and B -> an even split, a tie;
    # every member invalid in the swapped order -> invalid
    assert found == {"1": ("B", "A"), "2": ("tie", "invalid")}
