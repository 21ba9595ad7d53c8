"""Bias diagnostics, markdown counting, the style-controlled win rate and the headline's wording,
each on a small case worked out by hand (the arithmetic is in the comments).

    pytest tests/test_stats_diagnostics.py
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from judge.report.diagnostics import BiasView
from judge.report.format import headline
from judge.stats.bias import bias_diagnostics, contains_list, position_warnings
from judge.stats.pairwise import summarize
from judge.stats.style import markdown_counts, style_control, style_features


def line(pid, order, winner):
    return {"prompt_id": pid, "order": order, "winner": winner,
            "score": {"tuned": 1.0, "base": 0.0, "tie": 0.5}.get(winner)}


#          base_first  tuned_first   (len_base, len_tuned)
#   p1     tuned       tuned         (10, 50)    tuned longer by 40
#   p2     base        tuned         (100, 20)   base longer by 80; the first shown won twice
#   p3     tie         base          (30, 40)    10 apart: not counted for length
#   p4     invalid     tuned         (5, 60)     tuned longer by 55
#   p5     base        base          (0, 30)     exactly 30 apart: not more than 30
ROWS = [line(p, o, w) for p, ws in {"p1": ("tuned", "tuned"), "p2": ("base", "tuned"),
                                    "p3": ("tie", "base"), "p4": ("invalid", "tuned"),
                                    "p5": ("base", "base")}.items()
        for o, w in zip(("base_first", "tuned_first"), ws, strict=True)]
LENGTHS = {"p1": (10.0, 50.0), "p2": (100.0, 20.0), "p3": (30.0, 40.0), "p4": (5.0, 60.0),
           "p5": (0.0, 30.0)}


def test_position_and_length_bias_by_hand():
    b = bias_diagnostics(ROWS, None, LENGTHS, position_consistency=0.5)
    # decisive lines: all but p3 base_first (tie) and p4 base_first (invalid): 8. The first
    # shown won: p1 tuned_first, p2 both, p4 tuned_first, p5 base_first -> 5/8
    assert (b.first_position_rate, b.n_first_position) == (5 / 8, 8)
    # more than 30 apart: p1, p2, p4 (5 decisive lines); the longer won p1 twice, p2 base_first,
    # p4 tuned_first, not p2 tuned_first -> 4/5
    assert (b.prefer_longer, b.n_prefer_longer) == (4 / 5, 5)
    assert b.prefer_lists is None and "only their lengths" in b.reasons["prefer_lists"]
    assert b.warnings == []  # consistency .5 is not under 50%, 5/8 not over 75%


def test_position_bias_warnings_at_their_edges():
    assert position_warnings(0.5, 0.75) == []
    warned = position_warnings(0.49, 0.76)
    assert len(warned) == 2 and "49%" in warned[0] and "76%" in warned[1]
    assert position_warnings(None, None) == []


# texts: (base, tuned). alpaca_eval's contains_list and arena-hard's markdown list items differ:
#   p1  plain / "1. Open 2. Close"       list: tuned only; items 0 vs 2
#   p2  "- one - two - three" / "* one * two"  list: both (left out); items 3 vs 2
#   p3  no list / no list
#   p4  plain / "1) first 2) second"     list: tuned only; items 0 vs 0 ("1)" is no markdown item)
#   p5  empty / "a well-known fact"      list: tuned only ("-known" matches alpaca_eval's loose
#                                        dash pattern); items 0 vs 0
TEXTS = {"p1": ("Plain text here.", "Steps:\n1. Open\n2. Close"),
         "p2": ("- one\n- two\n- three", "* one\n* two"),
         "p3": ("No list", "No list either"),
         "p4": ("Word", "1) first\n2) second"),
         "p5": ("", "a well-known fact")}


def test_list_biases_by_hand():
    assert [contains_list(t) for pair in TEXTS.values() for t in pair] == [
        False, True, True, True, False, False, False, True, False, True]
    b = bias_diagnostics(ROWS, TEXTS, None, position_consistency=0.5)
    # exactly one side has a list: p1 (2 decisive lines, tuned won both: the list won),
    # p4 (tuned_first: won), p5 (base won both: the list lost twice) -> 3/5
    assert (b.prefer_lists, b.n_prefer_lists) == (3 / 5, 5)
    # item counts differ: p1 (tuned more, won twice), p2 (base more: won base_first, lost
    # tuned_first) -> 3/4
    assert (b.more_list_items, b.n_more_list_items) == (3 / 4, 4)
    # lengths come from the texts here, and no two answers are more than 30 characters apart
    assert b.prefer_longer is None and "more than 30" in b.reasons["prefer_longer"]


def test_markdown_counting_leaves_code_blocks_out():
    text = ("# Title\n\nSome **bold** and __also bold__ words.\n\n## Part\n1. one\n2. two\n"
            "- dash\n* star\n+ plus\n```\n# not a header\n- not a list **nor bold**\n```\n"
            "####### seven hashes is no header\n#no space either")
    # headers "# Title", "## Part"; list items 1. 2. - * +; bold **bold**, __also bold__
    assert markdown_counts(text) == {"header": 2, "list": 5, "bold": 2}


def test_style_features_by_hand():
    # lengths 9 (base) and 27 (tuned): (27 − 9)/(27 + 9) = .5; one header in the tuned answer:
    # d_t = 1/28, d_b = 0 -> (1/28)/(1/28 + 1) = 1/29
    f = style_features("x" * 9, "# H\n" + "y" * 23)
    assert f["length"] == pytest.approx(0.5)
    assert f["header"] == pytest.approx(1 / 29)
    assert f["list"] == f["bold"] == 0.0


def test_style_control_by_hand():
    # six prompts where the tuned answer is longer, x = (30 − 10)/(30 + 10) = .5, scoring
    # 1, 1, 1, 1, .7, .7 (mean .9); four where it is shorter, x = −.5, scoring 1, 0, .5, .5
    # (mean .5). Two feature values, two parameters: the fit is saturated, so in raw units
    # logit .9 = ln 9 = θ' + .5γ' and logit .5 = 0 = θ' − .5γ': θ' = ln 3, γ' = ln 9. At zero style
    # difference the rate is σ(ln 3) = 3/4; the raw rate is 7.4/10 and the prediction at the
    # average difference (x̄ = .1) would be σ(ln 3 + .1 ln 9) = .7889: neither is what we report.
    ids = [f"p{i}" for i in range(10)]
    texts = {pid: ("a" * 10, "b" * 30) if i < 6 else ("a" * 30, "b" * 10)
             for i, pid in enumerate(ids)}
    scores = np.array([1, 1, 1, 1, 0.7, 0.7, 1, 0, 0.5, 0.5])
    s = style_control(ids, scores, texts, None, resamples=300)
    assert s.win_rate == pytest.approx(0.75, abs=1e-4)
    assert s.model_coefficient == pytest.approx(math.log(3), abs=1e-3)
    # per standard deviation of x: sd = sqrt((6·.4² + 4·.6²)/9) = sqrt(2.4/9) = .516398,
    # γ = ln 9 · .516398 = 1.134643
    assert s.coefficients == {"length": pytest.approx(math.log(9) * math.sqrt(2.4 / 9), abs=1e-3)}
    assert s.feature_means["length"] == pytest.approx(0.1)
    assert set(s.left_out) == {"header", "list", "bold"}  # no markdown anywhere
    assert s.ci is not None and s.ci.low <= 0.75 <= s.ci.high and s.ci.seed == 0
    again = style_control(ids, scores, texts, None, resamples=300)
    assert again == s  # seeded


def test_style_control_says_why_it_is_null():
    ids = [f"p{i}" for i in range(12)]
    scores = np.array([1.0, 0.0] * 6)
    few = style_control(ids[:9], scores[:9], None, {p: (1.0, 2.0) for p in ids}, resamples=100)
    assert few.win_rate is None and "at least 10" in few.reason
    fixed = {p: ("a" * 10, "b" * 20) for p in ids}  # always twice as long: x = 1/3 everywhere
    same = style_control(ids, scores, fixed, None, resamples=100)
    assert same.win_rate is None and "length feature is the same non-zero value" in same.reason
    nothing = style_control(ids, scores, None, None, resamples=100)
    assert nothing.win_rate is None and "neither" in nothing.left_out["length"]
    lengths = {p: (10.0, 10.0 + i) for i, p in enumerate(ids)}
    only = style_control(ids, scores, None, lengths, resamples=100)
    assert only.win_rate is not None and list(only.coefficients) == ["length"]
    assert "texts" in only.left_out["bold"]


def test_headline_puts_each_interval_beside_its_rate_and_explains_all_ties():
    ties = [line(f"p{i}", o, "tie") for i in range(4) for o in ("base_first", "tuned_first")]
    rows = dict(headline(summarize(ties, resamples=200)))
    mean = rows["win rate (tuned vs base, mean score)"]
    assert "(paired bootstrap)" in mean and "(Wilson)" not in mean
    assert "± 0.0% s.e." in mean and "every prompt is a tie" in mean
    discrete = rows["discrete win rate (ties count half)"]
    # Wilson of 2 successes in 4: (.5 + z²/8 ± ...)/(1 + z²/4) -> 15.0% – 85.0%
    assert discrete.startswith("50.0%, 95% interval 15.0% – 85.0% (Wilson)")
    mixed = dict(headline(summarize(ROWS, resamples=200)))
    assert "every prompt" not in mixed["win rate (tuned vs base, mean score)"]


def test_diagnostic_rows_name_what_is_missing():
    b = bias_diagnostics(ROWS, None, LENGTHS, position_consistency=0.3)
    rows = BiasView().rows(b)
    assert ("longer answer wins (length differs > 30 chars)", "80.0% of 5 decisive verdicts") \
        in rows
    assert ("answer with a list wins (only one has a list)",
            "n/a (needs the answers' texts; the lines carry only their lengths)") in rows
    assert any(name == "warning" and "30%" in value for name, value in rows)
