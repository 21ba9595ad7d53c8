"""Properties that must hold for any judgments, checked on data hypothesis makes up."""

from __future__ import annotations

import math
import tempfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from scipy.special import expit

from judge.stats import pairwise
from judge.stats.agreement import AgreementLine, agreement
from judge.stats.bradley_terry import bradley_terry
from judge.stats.logistic import fit_logistic
from judge.stats.pairwise import by_category
from judge.stats.style import style_control


def summarize(*args, **options) -> dict:
    """The pairwise block as summary.json holds it."""
    return pairwise.summarize(*args, **options).model_dump()

# hypothesis keeps an example database and caches in ./.hypothesis; tests never write there
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="judge-hypothesis-"))
SWAP_WINNER = {"base": "tuned", "tuned": "base", "tie": "tie", "invalid": "invalid"}
SWAP_ORDER = {"base_first": "tuned_first", "tuned_first": "base_first"}
FAST = settings(max_examples=60, deadline=None, database=None)
RESAMPLES = 200


def winner_of(score: float) -> str:
    return "tuned" if score > 0.5 else "base" if score < 0.5 else "tie"


@st.composite
def verdict(draw) -> tuple[float | None, str]:
    kind = draw(st.sampled_from(["base", "tuned", "tie", "invalid", "soft"]))
    if kind == "soft":
        score = draw(st.floats(0, 1))
        return score, winner_of(score)
    return {"base": 0.0, "tuned": 1.0, "tie": 0.5, "invalid": None}[kind], kind


@st.composite
def judgments(draw, max_items: int = 20) -> list[dict]:
    """Compare-style lines: one or two orders per prompt, lengths shared by a prompt's lines."""
    rows = []
    for i in range(draw(st.integers(1, max_items))):
        lengths = {"len_base": draw(st.integers(0, 400)), "len_tuned": draw(st.integers(0, 400))}
        orders = draw(st.sampled_from([["base_first"], ["tuned_first"],
                                       ["base_first", "tuned_first"]]))
        for order in orders:
            score, winner = draw(verdict())
            rows.append({"prompt_id": f"p{i:03d}", "order": order, "score": score,
                         "winner": winner, **lengths})
    if all(r["winner"] == "invalid" for r in rows):
        rows[0] |= {"score": 1.0, "winner": "tuned"}
    return rows


def swapped(row: dict) -> dict:
    """The same judgment with the roles of base and tuned exchanged."""
    score = None if row["score"] is None else 1.0 - row["score"]
    return row | {"score": score, "winner": SWAP_WINNER[row["winner"]],
                  "order": SWAP_ORDER[row["order"]], "len_base": row["len_tuned"],
                  "len_tuned": row["len_base"]}


@FAST
@given(judgments())
def test_swapping_base_and_tuned_mirrors_every_rate(rows):
    s = summarize(rows, resamples=RESAMPLES)
    m = summarize([swapped(r) for r in rows], resamples=RESAMPLES)
    assert m["win_rate"] == pytest.approx(1 - s["win_rate"], abs=1e-12)
    assert m["discrete_win_rate"] == pytest.approx(1 - s["discrete_win_rate"], abs=1e-12)
    assert (m["wins"], m["losses"]) == (s["losses"], s["wins"])
    assert (m["ties"], m["n"]) == (s["ties"], s["n"])
    assert (m["ci"]["low"], m["ci"]["high"]) == pytest.approx(
        (1 - s["ci"]["high"], 1 - s["ci"]["low"]), abs=1e-12)
    boot, mboot = s["ci_bootstrap"], m["ci_bootstrap"]
    assert (mboot["low"], mboot["high"]) == pytest.approx((1 - boot["high"], 1 - boot["low"]),
                                                          abs=1e-9)
    assert m["p_value"] == pytest.approx(s["p_value"])
    assert m["position_consistency"] == s["position_consistency"]
    assert m["first_position_rate"] == s["first_position_rate"]
    if s["lc_win_rate"] is None:
        assert m["lc_win_rate"] is None
    else:
        assert m["lc_win_rate"] == pytest.approx(1 - s["lc_win_rate"], abs=1e-5)


@FAST
@given(judgments())
def test_intervals_contain_their_point_estimates(rows):
    s = summarize(rows, resamples=RESAMPLES)
    assert s["ci"]["low"] <= s["discrete_win_rate"] <= s["ci"]["high"]
    boot = s["ci_bootstrap"]
    assert boot["low"] - 1e-12 <= s["win_rate"] <= boot["high"] + 1e-12
    assert 0.0 <= boot["low"] <= boot["high"] <= 1.0
    assert s["wins"] + s["losses"] + s["ties"] == s["n"]


@FAST
@given(judgments(max_items=12))
def test_a_model_against_itself_is_not_told_apart(rows):
    # symmetric data: each judged prompt also appears with base and tuned exchanged
    mirror = [swapped(r) | {"prompt_id": r["prompt_id"] + "m"} for r in rows]
    s = summarize(rows + mirror, resamples=RESAMPLES)
    assert s["win_rate"] == pytest.approx(0.5, abs=1e-12)
    assert s["ci"]["low"] <= 0.5 <= s["ci"]["high"]
    boot = s["ci_bootstrap"]
    assert boot["low"] - 1e-12 <= 0.5 <= boot["high"] + 1e-12
    assert s["wins"] == s["losses"]
    if s["lc_win_rate"] is not None:
        assert s["lc_win_rate"] == pytest.approx(0.5, abs=1e-5)


@FAST
@given(judgments(), st.integers(1, 6), st.data())
def test_invalid_lines_never_change_the_rate(rows, extra, data):
    base = summarize(rows, resamples=RESAMPLES)
    added = []
    for k in range(extra):  # fresh prompts judged invalid in one or both orders
        order = data.draw(st.sampled_from(list(SWAP_ORDER)))
        added.append({"prompt_id": f"bad{k}", "order": order, "score": None,
                      "winner": "invalid", "len_base": 3, "len_tuned": 4})
    taken = {(r["prompt_id"], r["order"]) for r in rows}
    for r in rows:  # and the missing order of prompts judged only once
        other = SWAP_ORDER[r["order"]]
        if (r["prompt_id"], other) not in taken:
            added.append(r | {"order": other, "score": None, "winner": "invalid"})
    after = summarize(data.draw(st.permutations(rows + added)), resamples=RESAMPLES)
    assert after["n_invalid"] == base["n_invalid"] + len(added)
    same = ("n", "wins", "losses", "ties", "win_rate", "discrete_win_rate", "standard_error",
            "ci", "ci_bootstrap", "p_value", "position_consistency", "first_position_rate",
            "lc_win_rate")
    assert {k: after[k] for k in same} == {k: base[k] for k in same}


@FAST
@given(judgments(), st.randoms(use_true_random=False))
def test_line_order_does_not_matter(rows, rnd):
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert summarize(shuffled, resamples=RESAMPLES) == summarize(rows, resamples=RESAMPLES)


@st.composite
def battles(draw) -> list[dict]:
    names = ["m0", "m1", "m2"]
    rows = []
    for i in range(draw(st.integers(3, 15))):
        a, b = draw(st.permutations(names))[:2]
        rows.append({"prompt_id": f"q{i}", "model_a": a, "model_b": b,
                     "score": draw(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]))})
    # keep every model on one scale with the baseline
    rows += [{"prompt_id": "link1", "model_a": "m0", "model_b": "m1", "score": 0.5},
             {"prompt_id": "link2", "model_a": "m0", "model_b": "m2", "score": 0.5}]
    return rows


@settings(max_examples=25, deadline=None, database=None)
@given(battles())
def test_bradley_terry_ignores_which_side_a_model_sat(rows):
    flipped = [r | {"model_a": r["model_b"], "model_b": r["model_a"], "score": 1 - r["score"]}
               for r in rows]
    one = bradley_terry(rows, "m0", resamples=100)["models"]
    two = bradley_terry(flipped, "m0", resamples=100)["models"]
    for name, model in one.items():
        assert two[name]["strength"] == pytest.approx(model["strength"], abs=1e-5)
        assert model["ci"]["low"] - 1e-9 <= model["win_rate"] <= model["ci"]["high"] + 1e-9


@settings(max_examples=25, deadline=None, database=None)
@given(battles())
def test_bradley_terry_model_against_its_copy(rows):
    # m0 and its copy play every battle the same way, so their strengths are equal
    copies = [r | {"prompt_id": r["prompt_id"] + "c",
                   "model_a": r["model_a"].replace("m0", "copy"),
                   "model_b": r["model_b"].replace("m0", "copy")} for r in rows]
    result = bradley_terry(rows + copies, "m0", resamples=100)["models"]["copy"]
    assert result["win_rate"] == pytest.approx(0.5, abs=1e-5)
    assert result["ci"]["low"] - 1e-9 <= 0.5 <= result["ci"]["high"] + 1e-9


LABELS = st.sampled_from(["A", "B", "tie"])
VERDICTS = st.sampled_from(["A", "B", "tie", "invalid"])


@FAST
@given(st.lists(st.tuples(LABELS, VERDICTS, VERDICTS), min_size=1, max_size=30))
def test_agreement_does_not_depend_on_letter_names(items):
    flip = {"A": "B", "B": "A", "tie": "tie", "invalid": "invalid"}
    lines = [AgreementLine(id=str(i), label=a, verdict=v, verdict_swapped=w)
             for i, (a, v, w) in enumerate(items)]
    mirrored = [AgreementLine(id=x.id, label=flip[x.label], verdict=flip[x.verdict],
                              verdict_swapped=flip[x.verdict_swapped]) for x in lines]
    one, two = agreement(lines).model_dump(), agreement(mirrored).model_dump()
    assert close(one, two)
    assert one["n"] == len(items) and one["n_valid"] + one["n_invalid"] == len(items)
    for key in ("cohen_kappa_original", "cohen_kappa_swapped"):
        assert one[key] is None or -1.0 - 1e-12 <= one[key] <= 1.0 + 1e-12
    assert one["both_correct"] <= min(one["accuracy_original"], one["accuracy_swapped"])
    assert math.isclose(one["accuracy"], (one["accuracy_original"] + one["accuracy_swapped"]) / 2)
    # the valid pairs' successes are part of the all-pairs count; correct in both orders needs
    # both orders valid, so there the two counts are equal
    if one["n_valid"]:
        valid_share = one["n_valid"] / one["n"]
        assert one["accuracy"] >= one["accuracy_valid"] * valid_share - 1e-12
        assert one["both_correct"] == pytest.approx(one["both_correct_valid"] * valid_share)
    for name, ci in one["intervals"].items():
        assert ci["low"] - 1e-12 <= one[name] <= ci["high"] + 1e-12, name


def close(a, b) -> bool:
    """Nested records equal, floats up to rounding (pytest.approx does not nest)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, abs_tol=1e-12)
    return a == b


@st.composite
def categorised(draw) -> list[dict]:
    """Compare-style lines with a category per prompt (some prompts without one)."""
    rows = draw(judgments(max_items=16))
    names = draw(st.lists(st.sampled_from(["math", "code", "chat", None]), min_size=16,
                          max_size=16))
    return [r | {"category": names[int(r["prompt_id"][1:])]} for r in rows]


@FAST
@given(categorised())
def test_swapping_base_and_tuned_mirrors_every_category(rows):
    one = by_category(rows, resamples=RESAMPLES)
    two = by_category([swapped(r) for r in rows], resamples=RESAMPLES)
    assert list(one) == list(two)
    for name, pw in one.items():
        other = two[name]
        if pw is None:
            assert other is None
            continue
        assert other is not None
        assert other.win_rate == pytest.approx(1 - pw.win_rate, abs=1e-12)
        assert other.discrete_win_rate == pytest.approx(1 - pw.discrete_win_rate, abs=1e-12)
        assert (other.wins, other.losses, other.n) == (pw.losses, pw.wins, pw.n)
    # the categories' items add up to the whole
    whole = pairwise.summarize(rows, resamples=RESAMPLES)
    if one:
        assert sum(pw.n for pw in one.values() if pw is not None) == whole.n


@st.composite
def plain_items(draw) -> tuple[list[str], np.ndarray, dict[str, tuple[str, str]]]:
    """Ten or more items whose two answers share their style exactly (same text length and
    markdown), while the answers and outcomes vary."""
    n = draw(st.integers(10, 30))
    ids = [f"q{i:02d}" for i in range(n)]
    texts = {}
    for pid in ids:
        body = draw(st.sampled_from(["plain words", "- a list\n- item", "# Head\ntext **b**"]))
        texts[pid] = (body + " base.", body + " tune.")
    scores = np.array(draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), min_size=n,
                                    max_size=n)))
    return ids, scores, texts


@FAST
@given(plain_items())
def test_style_control_without_style_differences_is_the_plain_logistic_rate(data):
    ids, scores, texts = data
    result = style_control(ids, scores, texts, None, resamples=RESAMPLES)
    assert result.reason is None and result.coefficients == {}
    assert set(result.left_out) == {"length", "header", "list", "bold"}
    plain = float(scores[0]) if np.all(scores == scores[0]) else float(
        expit(fit_logistic(np.ones((len(ids), 1)), scores)[0]))
    assert result.win_rate == pytest.approx(plain, abs=1e-12)
    assert result.win_rate == pytest.approx(scores.mean(), abs=1e-5)  # the tiny ridge only
    assert result.ci.low - 1e-12 <= result.win_rate <= result.ci.high + 1e-12


@st.composite
def styled_items(draw) -> tuple[list[str], np.ndarray, dict[str, tuple[str, str]]]:
    """Ten or more items whose answers differ in length and markdown."""
    n = draw(st.integers(10, 25))
    ids = [f"s{i:02d}" for i in range(n)]
    pieces = ["word ", "- item\n", "# Head\n", "**bold** ", "1. step\n", "```\n# code\n```\n"]
    texts = {pid: tuple("".join(draw(st.lists(st.sampled_from(pieces), min_size=1, max_size=8)))
                        for _ in range(2)) for pid in ids}
    scores = np.array(draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), min_size=n,
                                    max_size=n)))
    return ids, scores, texts  # type: ignore[return-value]


@settings(max_examples=30, deadline=None, database=None)
@given(styled_items())
def test_swapping_base_and_tuned_mirrors_the_style_controlled_rate(data):
    ids, scores, texts = data
    one = style_control(ids, scores, texts, None, resamples=100)
    two = style_control(ids, 1 - scores, {p: (t, b) for p, (b, t) in texts.items()}, None,
                        resamples=100)
    assert (one.reason is None) == (two.reason is None)
    if one.win_rate is None:
        return
    assert two.win_rate == pytest.approx(1 - one.win_rate, abs=1e-6)
    assert (two.ci.low, two.ci.high) == pytest.approx((1 - one.ci.high, 1 - one.ci.low), abs=1e-5)
    for name, coefficient in one.coefficients.items():
        assert two.coefficients[name] == pytest.approx(coefficient, abs=1e-5)  # both signs flip
