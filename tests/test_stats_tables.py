"""Every statistic on small cases worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import pytest

from judge.errors import InputError
from judge.stats import pairwise, ratings
from judge.stats.bradley_terry import bradley_terry
from judge.stats.intervals import bootstrap_interval, sign_test, wilson
from judge.stats.lc import implausible, length_controlled


def summarize(*args, **options) -> dict:
    """The pairwise block as summary.json holds it."""
    return pairwise.summarize(*args, **options).model_dump()


def summarize_ratings(*args, **options) -> dict:
    """The ratings block as summary.json holds it."""
    return ratings.summarize_ratings(*args, **options).model_dump()


def line(pid, order, winner, **extra):
    score = {"tuned": 1.0, "base": 0.0, "tie": 0.5}.get(winner)
    return {"prompt_id": pid, "order": order, "winner": winner, "score": score, **extra}


# p1 tuned/tuned -> 1.0    p2 base/tuned -> 0.5    p3 base/base -> 0.0
# p4 tuned/invalid -> 1.0 (one valid line)    p5 invalid/invalid -> no item    p6 tie/tuned -> 0.75
TABLE = [
    line("p1", "base_first", "tuned"), line("p1", "tuned_first", "tuned"),
    line("p2", "base_first", "base"), line("p2", "tuned_first", "tuned"),
    line("p3", "base_first", "base"), line("p3", "tuned_first", "base"),
    line("p4", "base_first", "tuned"), line("p4", "tuned_first", "invalid"),
    line("p5", "base_first", "invalid"), line("p5", "tuned_first", "invalid"),
    line("p6", "base_first", "tie"), line("p6", "tuned_first", "tuned"),
]


def test_pairwise_table_by_hand():
    s = summarize(TABLE)
    # items [1, .5, 0, 1, .75]: n = 5, three invalid lines (p4 once, p5 twice)
    assert (s["n"], s["n_invalid"]) == (5, 3)
    # wins = #(>.5) = 3, losses = #(<.5) = 1, ties = #(==.5) = 1
    assert (s["wins"], s["losses"], s["ties"]) == (3, 1, 1)
    assert s["win_rate"] == pytest.approx(3.25 / 5)  # 0.65
    # deviations .35 -.15 -.65 .35 .10 -> squares sum .7 -> var .7/4 = .175 -> SE sqrt(.175/5)
    assert s["standard_error"] == pytest.approx(math.sqrt(0.035))  # 0.18708
    # rounded [1, .5, 0, 1, 1] -> 3.5 / 5
    assert s["discrete_win_rate"] == pytest.approx(0.7)
    # Wilson, 3.5 successes of 5, z = 1.959964, z² = 3.841459:
    # centre = (.7 + z²/10) / (1 + z²/5) = 1.0841459 / 1.7682918 = .613104
    # half = z·sqrt(.21/5 + z²/100) / 1.7682918 = 1.959964·.283575 / 1.7682918 = .314312
    assert s["ci"]["method"] == "wilson" and s["ci"]["level"] == 0.95
    assert (s["ci"]["low"], s["ci"]["high"]) == pytest.approx((0.298792, 0.927416), abs=1e-5)
    # sign test: 3 wins vs 1 loss, two-sided: 2·P(X ≤ 1 | n = 4) = 2·(1 + 4)/16
    assert s["p_value"] == pytest.approx(10 / 16)
    # both orders valid: p1 agree, p2 disagree, p3 agree, p6 disagree -> 2/4
    assert s["position_consistency"] == pytest.approx(0.5)
    # decisive valid lines: 8 (p6 base_first is a tie); the first-shown answer won 5 of them:
    # p1 tuned_first, p2 both, p3 base_first, p6 tuned_first
    assert s["first_position_rate"] == pytest.approx(5 / 8)
    assert s["lc_win_rate"] is None and s["lc_model"] is None and s["soft_win_rate"] is None
    assert len(s["warnings"]) == 1 and "3 of 12" in s["warnings"][0]  # 25% invalid lines


def test_wilson_by_hand():
    # 8 of 10: centre (.8 + .192073)/1.384146 = .716739, half 1.959964·.160011/1.384146 = .226578
    assert wilson(8, 10) == pytest.approx((0.490162, 0.943318), abs=1e-5)
    assert wilson(0, 0) == (0.0, 1.0)


def test_sign_test_by_hand():
    assert sign_test(5, 1) == pytest.approx(14 / 64)  # 2·(1 + 6)/64
    assert sign_test(2, 2) == pytest.approx(1.0)
    assert sign_test(0, 0) == 1.0


def test_bootstrap_of_two_opposite_items_spans_both():
    # resampled means of [0, 1] are 0, .5, 1 with chances 1/4, 1/2, 1/4: the 2.5% and 97.5%
    # percentiles are therefore 0 and 1
    assert bootstrap_interval([0.0, 1.0]) == (0.0, 1.0)
    assert bootstrap_interval([0.5, 0.5, 0.5]) == (0.5, 0.5)


def test_alpacaeval_preferences_by_hand():
    # preference 2, 1, 0 (legacy tie), 1.5, 1.25 -> scores 1, 0, .5, .5, .25
    rows = [{"prompt_id": str(i), "preference": p} for i, p in enumerate([2, 1, 0, 1.5, 1.25])]
    s = summarize(rows)
    assert s["win_rate"] == pytest.approx(2.25 / 5)
    assert (s["wins"], s["losses"], s["ties"]) == (1, 2, 2)
    assert s["discrete_win_rate"] == pytest.approx(2 / 5)  # 1 + 0 + .5 + .5 + 0
    assert s["position_consistency"] is None and s["first_position_rate"] is None


def test_soft_win_rate_by_hand():
    rows = [line("p1", "base_first", "tuned", p_tuned=0.8), line("p1", "tuned_first", "tuned",
            p_tuned=0.6), line("p2", "base_first", "base", p_tuned=0.2),
            line("p2", "tuned_first", "tie", p_tuned=None)]
    assert summarize(rows)["soft_win_rate"] == pytest.approx((0.7 + 0.2) / 2)


def test_length_control_by_hand():
    # two distinct length features x = ±tanh(1), so the fit is saturated: σ(θ + φx) equals each
    # group's mean score. Longer group mean .9 (logit ln 9), shorter group .5 (logit 0), hence
    # θ = ln 9 / 2 = ln 3 and LC = σ(ln 3) = 3/4, while the raw rate is 3.2/4 = .8
    lc = length_controlled([1.0, 1.0, 0.7, 0.5], [0, 0, 0, 20], [10, 10, 10, 10])
    assert lc["lc_win_rate"] == pytest.approx(0.75, abs=1e-4)
    assert lc["identity"] == pytest.approx(math.log(3), abs=1e-3) and lc["length"] > 0
    assert lc["length_sd"] == pytest.approx(10.0) and lc["warnings"] == []


def test_length_control_warns_like_alpacaeval():
    # nine longer answers at .9 and one shorter at .1: θ = (ln 9 − ln 9)/2 = 0, LC = .5, raw .82.
    # allowed floor min(.82 − .82/4, .82 − .10) = .615 > .5, so AlpacaEval's rule fires
    lc = length_controlled([0.9] * 9 + [0.1], [0] * 9 + [20], [20] * 9 + [0])
    assert lc["lc_win_rate"] == pytest.approx(0.5, abs=1e-4)
    assert len(lc["warnings"]) == 1 and "implausibly" in lc["warnings"][0]
    # the rule's edges: w = .5 may move by max(.5/4, .1) = .125 either way, so [.375, .625];
    # w = .9 may drop by max(.225, .1) and rise by max(.025, .1), so [.675, 1]
    assert not implausible(0.5, 0.375) and implausible(0.5, 0.374) and not implausible(0.5, 0.625)
    assert implausible(0.5, 0.626) and not implausible(0.9, 0.675) and implausible(0.9, 0.674)


def test_length_control_degenerate_cases():
    equal = length_controlled([1.0, 0.0, 0.5], [5, 6, 7], [5, 6, 7])  # nothing to adjust
    assert equal["lc_win_rate"] == pytest.approx(0.5)
    shifted = length_controlled([1.0, 0.0], [5, 6], [7, 8])  # always 2 longer: confounded
    assert shifted["lc_win_rate"] is None and "cannot be told apart" in shifted["warnings"][0]
    single = length_controlled([1.0], [1], [2])
    assert single["lc_win_rate"] is None


def test_summarize_fills_lc_from_lengths():
    rows = [{"prompt_id": f"p{i}", "score": s, "len_base": 0, "len_tuned": d}
            for i, (s, d) in enumerate([(1.0, 10), (1.0, 10), (0.7, 10), (0.5, -10)])]
    rows[3]["len_base"], rows[3]["len_tuned"] = 10, 0  # negative difference via the base side
    s = summarize(rows)
    assert s["lc_win_rate"] == pytest.approx(0.75, abs=1e-4)
    assert s["lc_model"]["length_sd"] == pytest.approx(10.0)


def battles(a, b, wins_b, total, start=0):
    return [{"prompt_id": f"x{start + i}", "model_a": a, "model_b": b,
             "winner": "model_b" if i < wins_b else "model_a"} for i in range(total)]


def test_bradley_terry_by_hand():
    # A–B: B wins 3/4, B–C: C wins 3/4, A–C: C wins 9/10. These are consistent with
    # β_B − β_A = ln 3 and β_C − β_B = ln 3 (σ(2 ln 3) = 9/10), so the MLE fits them exactly
    rows = battles("A", "B", 3, 4) + battles("B", "C", 3, 4, 10) + battles("A", "C", 9, 10, 20)
    r = bradley_terry(rows, resamples=200)
    assert r["baseline"] == "A"  # A and C both have 14 battles; ties go alphabetically
    assert list(r["models"]) == ["C", "B", "A"]
    m = r["models"]
    assert m["B"]["strength"] == pytest.approx(math.log(3), abs=1e-3)
    assert m["C"]["win_rate"] == pytest.approx(0.9, abs=1e-4)
    assert m["B"]["win_rate"] == pytest.approx(0.75, abs=1e-4)
    assert m["A"]["elo"] == 1000.0
    assert m["C"]["elo"] == pytest.approx(1000 + 400 * 2 * math.log(3) / math.log(10), abs=0.1)
    assert (m["C"]["battles"], m["C"]["wins"], m["C"]["losses"]) == (14, 12, 2)
    assert m["C"]["ci"]["low"] <= m["C"]["win_rate"] <= m["C"]["ci"]["high"]
    # against B instead: C beats B with σ(ln 3) = 3/4 and A with σ(−ln 3) = 1/4
    r = bradley_terry(rows, baseline="B", resamples=200)
    assert r["models"]["C"]["win_rate"] == pytest.approx(0.75, abs=1e-4)
    assert r["models"]["A"]["win_rate"] == pytest.approx(0.25, abs=1e-4)


def test_bradley_terry_soft_and_arena_winners():
    # scores for model_b .75 (B over A) and a tie written the Chatbot Arena way
    rows = [{"prompt_id": "1", "model_a": "A", "model_b": "B", "score": 0.75},
            {"prompt_id": "2", "model_a": "B", "model_b": "A", "score": 0.25},
            {"prompt_id": "3", "model_a": "A", "model_b": "B", "score": None}]
    r = bradley_terry(rows, baseline="A", resamples=100)
    assert r["models"]["B"]["win_rate"] == pytest.approx(0.75, abs=1e-4)
    assert (r["n"], r["n_invalid"], r["n_prompts"]) == (2, 1, 2)
    arena = [{"prompt_id": "1", "model_a": "A", "model_b": "B", "winner": "tie (bothbad)"},
             {"prompt_id": "2", "model_a": "A", "model_b": "B", "winner": "model_b"}]
    # outcomes .5 and 1 for B: mean .75, so σ(β_B) = .75 again
    assert bradley_terry(arena, resamples=100)["models"]["B"]["win_rate"] == pytest.approx(
        0.75, abs=1e-4)


@pytest.mark.parametrize("rows, baseline, message", [
    (battles("A", "B", 1, 2) + battles("C", "D", 1, 2, 5), "A", "never meet"),
    (battles("A", "B", 1, 2), "Z", "no valid line mentions it"),
    (battles("A", "A", 1, 2), None, "at least two"),
])
def test_bradley_terry_refuses(rows, baseline, message):
    with pytest.raises(InputError, match=message):
        bradley_terry(rows, baseline, resamples=100)


def test_ratings_by_hand():
    base, tuned = [3, 3, 3, 3, 8], [4, 5, 6, 7, 3]  # differences 1, 2, 3, 4, −5
    rows = [{"prompt_id": f"p{i}", "rating_base": b, "rating_tuned": t}
            for i, (b, t) in enumerate(zip(base, tuned, strict=True))]
    rows[0:1] = [{"prompt_id": "p0", "rating_base": 2, "rating_tuned": 4},  # averages to (3, 4)
                 {"prompt_id": "p0", "rating_base": 4, "rating_tuned": 4}]
    rows.append({"prompt_id": "p9", "rating_base": None, "rating_tuned": 5})
    r = summarize_ratings(rows)
    assert (r["n"], r["n_invalid"]) == (5, 1)
    assert (r["mean_base"], r["mean_tuned"], r["mean_difference"]) == pytest.approx((4, 5, 1))
    # deviations 0 1 2 3 −6 -> squares 50 -> var 12.5 -> SE sqrt(12.5/5)
    assert r["standard_error"] == pytest.approx(math.sqrt(2.5))
    assert (r["higher"], r["lower"], r["equal"]) == (4, 1, 0)
    # signed ranks: + 1 2 3 4, − 5, so W− = 5. Of the 32 sign patterns, the subsets of {1..5}
    # summing to ≤ 5 are {}, five singletons and {1,2} {1,3} {1,4} {2,3}: 10. p = 2·10/32
    assert r["p_value"] == pytest.approx(0.625)
    assert r["ci"]["low"] <= r["mean_difference"] <= r["ci"]["high"]


def test_ratings_all_equal_has_no_evidence():
    rows = [{"prompt_id": str(i), "rating_base": 5, "rating_tuned": 5} for i in range(4)]
    r = summarize_ratings(rows)
    assert (r["p_value"], r["mean_difference"], r["equal"]) == (1.0, 0.0, 4)


def test_float_rounding_near_a_tie_decides_nothing():
    # 0 and 0.9999999999999999 average to 0.49999999999999994: a tie, not a loss
    rows = [{"prompt_id": "p", "order": "base_first", "score": 0.0},
            {"prompt_id": "p", "order": "tuned_first", "score": 0.9999999999999999},
            {"prompt_id": "q", "order": "base_first", "score": 1.0},
            {"prompt_id": "q", "order": "tuned_first", "score": 1.1102230246251565e-16}]
    s = summarize(rows, resamples=200)
    assert (s["wins"], s["losses"], s["ties"]) == (0, 0, 2)
    assert s["discrete_win_rate"] == 0.5
