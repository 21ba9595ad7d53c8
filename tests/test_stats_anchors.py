"""`judge stats` on the anchors' own file formats: each small file (tests/data/anchors, written for
these tests in the anchors' shapes, none of their data) is detected, named, read and summarised,
and the numbers are the ones those tools print, worked out by hand below.

    pytest tests/test_stats_anchors.py
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import judge_cli

from judge.cli.main import cli

DATA = Path(__file__).parent / "data" / "anchors"


def stats_json(path: Path, *flags: str) -> dict:
    done = CliRunner().invoke(cli, ["stats", str(path), "--json", "--bootstrap", "200", *flags])
    assert done.exit_code == 0, done.output
    return json.loads(done.output)


def test_alpaca_eval_annotations_give_alpaca_evals_numbers():
    # preferences 2, 1, 1.5, 1.1, 1.7, null -> y = p − 1 = 1, 0, .5, .1, .7 (the null is dropped)
    r = stats_json(DATA / "alpaca_eval_annotations.json")
    assert r["format"] == "alpaca_eval"
    assert (r["n"], r["n_invalid"]) == (5, 1)
    # alpaca_eval: win_rate = 100·mean(y) = 46.0
    assert r["win_rate"] == pytest.approx(2.3 / 5)
    # standard_error = 100·SEM: deviations .54 −.46 .04 −.36 .24, squares sum .692, var .173,
    # sqrt(.173/5) = .186011
    assert r["standard_error"] == pytest.approx(math.sqrt(0.173 / 5))
    # n_wins #(y > .5) = 2, n_wins_base #(y < .5) = 2, n_draws 1;
    # discrete_win_rate = (2 + 1/2)/5 = 50.0
    assert (r["wins"], r["losses"], r["ties"]) == (2, 2, 1)
    assert r["discrete_win_rate"] == pytest.approx(0.5)
    # LC from the lengths of output_1 / output_2: δ = 56, −80, 6, 47, 16 (mean 9, squared
    # deviations 2209 + 7921 + 9 + 1444 + 49 = 11632, sd = sqrt(11632 / 4)); the fit's θ and φ
    # solve the maximum-likelihood equations Σ r_i = 0 and Σ t_i r_i = 0, where t_i =
    # tanh(δ_i / sd) and r_i = y_i − σ(θ + φ t_i); LC = σ(θ)
    model = r["lc_model"]
    assert model["length_sd"] == pytest.approx(math.sqrt(11632 / 4))
    t = [math.tanh(d / math.sqrt(2908)) for d in (56, -80, 6, 47, 16)]
    residuals = [y - 1 / (1 + math.exp(-(model["identity"] + model["length"] * ti)))
                 for y, ti in zip((1, 0, 0.5, 0.1, 0.7), t, strict=True)]
    assert sum(residuals) == pytest.approx(0, abs=1e-4)  # the fit stops within 1e-5
    assert sum(ti * ri for ti, ri in zip(t, residuals, strict=True)) == pytest.approx(0, abs=1e-4)
    assert r["lc_win_rate"] == pytest.approx(1 / (1 + math.exp(-model["identity"])))
    # 0.341 lies below 0.46 − max(0.46 / 4, 0.10) = 0.345: AlpacaEval's sanity rule flags it
    assert r["lc_win_rate"] == pytest.approx(0.3405, abs=1e-4)
    assert any("implausibly far from the raw 0.460" in w for w in r["warnings"])
    # categories from `dataset`: helpful_base y = 1, 0, .5 -> .5; koala .1, .7 (+ null) -> .4
    cats = r["by_category"]
    assert sorted(cats) == ["helpful_base", "koala"]
    assert (cats["helpful_base"]["win_rate"], cats["helpful_base"]["n"]) == (pytest.approx(0.5), 3)
    assert (cats["koala"]["win_rate"], cats["koala"]["n_invalid"]) == (pytest.approx(0.4), 1)


def test_alpaca_eval_bias_numbers_follow_analyze_py():
    # decisive verdicts (y ≠ .5): 1 model, 2 baseline, 4 baseline (y .1), 5 model (y .7)
    # lengths (output_1, output_2): 1 (21, 77), 2 (86, 6), 4 (6, 53), 5 (16, 32)
    bias = stats_json(DATA / "alpaca_eval_annotations.json")["bias"]
    # |Δ| > 30 for 1 (56), 2 (80), 4 (47); the longer won 1 and 2, not 4 -> 2/3
    assert (bias["prefer_longer"], bias["n_prefer_longer"]) == (pytest.approx(2 / 3), 3)
    # alpaca_eval's contains_list: 1's model answer has "1. Red", 5's baseline "- apples";
    # exactly one side has a list in 1 (it won) and 5 (it lost) -> 1/2
    assert (bias["prefer_lists"], bias["n_prefer_lists"]) == (0.5, 2)
    # markdown list items: 1 model 3 vs 0 (won), 5 baseline 2 vs 0 (lost) -> 1/2
    assert (bias["more_list_items"], bias["n_more_list_items"]) == (0.5, 2)
    assert bias["first_position_rate"] is None and "order" in bias["reasons"]["first_position_rate"]
    style = stats_json(DATA / "alpaca_eval_annotations.json")["style_control"]
    assert style["win_rate"] is None and "at least 10" in style["reason"]


def test_arena_hard_v01_judgments_give_arena_hards_score():
    # games (game 1: baseline is A; game 2: the model is A), mapped to the model's score:
    #   q1 B>A, A>B    -> 1, 1          q2 A>>B, B>>A -> 0 (×3), 0 (×3)
    #   q3 A=B, A>B    -> .5, 1         q4 B>>A, none -> 1 (×3), invalid (v0.1 drops the game)
    #   q5 A>B, B>A    -> 0, 0
    r = stats_json(DATA / "arena_hard_judgments.jsonl")
    assert r["format"] == "arena-hard"
    # arena-hard's score: every verdict row, a strong one three times:
    # (1 + 1 + 0·6 + .5 + 1 + 3·1 + 0 + 0) / (2 + 6 + 2 + 3 + 2) = 6.5 / 15
    graded = r["graded"]
    assert graded["pooled_win_rate"] == pytest.approx(6.5 / 15)
    assert graded["strong_lines"] == 3
    low, high = graded["pooled_ci"]["low"], graded["pooled_ci"]["high"]
    assert low <= graded["pooled_win_rate"] <= high
    # judge's own rate: one item per question, its orders averaged: 1, 0, .75, 1, 0 -> .55
    assert (r["n"], r["n_invalid"]) == (5, 1)
    assert r["win_rate"] == pytest.approx(2.75 / 5)
    # q1, q2, q5 agree across orders; q3 splits (tie vs tuned); q4 has one order
    assert r["position_consistency"] == pytest.approx(3 / 4)
    assert "by_category" not in r  # v0.1 judgments carry no category


def test_arena_hard_v01_counts_an_unknown_label_as_no_verdict(tmp_path):
    # v0.1's show_result.py gives a score outside its five labels weight 0; v2's would fail
    rows = [json.loads(x) for x in (DATA / "arena_hard_judgments.jsonl").read_text().splitlines()]
    rows[0]["games"][0]["score"] = "B<A"  # q1 game 1 no longer counts: 6.5 − 1 over 15 − 1
    path = tmp_path / "judgments.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    r = stats_json(path)
    assert r["graded"]["pooled_win_rate"] == pytest.approx(5.5 / 14)
    assert r["n_invalid"] == 2


def test_arena_hard_v2_drops_a_battle_with_a_missing_game():
    r = stats_json(DATA / "arena_hard_v2_judgments.jsonl")
    assert r["format"] == "arena-hard-v2"
    # show_result.py drops q4 entirely: (1 + 1 + 0 + .5 + 1 + 0 + 0) / (2 + 6 + 2 + 2) = 3.5 / 12
    assert r["graded"]["pooled_win_rate"] == pytest.approx(3.5 / 12)
    assert (r["n"], r["n_invalid"]) == (4, 2)
    # categories: hard_prompt q1-q3 items 1, 0, .75; creative_writing q5 item 0 (q4 dropped)
    cats = r["by_category"]
    assert cats["hard_prompt"]["win_rate"] == pytest.approx(1.75 / 3)
    assert (cats["creative_writing"]["n"], cats["creative_writing"]["win_rate"]) == (1, 0.0)
    assert r["bias"]["prefer_longer"] is None and r["style_control"]["win_rate"] is None


def test_chatbot_arena_battles_go_into_bradley_terry():
    # model-y's outcomes: wins as model_b twice, a "tie (bothbad)", a loss, a win as model_a,
    # a "tie": (1 + 1 + .5 + 0 + 1 + .5) / 6 = 2/3. With two models the MLE gives σ(β_y − β_x)
    # = 2/3, so β_y − β_x = ln 2 and the Elo gap is 400·log10(2) = 120.4
    r = stats_json(DATA / "chatbot_arena_battles.json", "--baseline", "model-x")
    assert r["format"] == "battles" and r["baseline"] == "model-x"
    y = r["models"]["model-y"]
    assert y["win_rate"] == pytest.approx(2 / 3, abs=1e-5)
    assert y["elo"] - 1000 == pytest.approx(400 * math.log10(2), abs=0.01)
    assert (y["battles"], y["wins"], y["ties"], y["losses"]) == (6, 3, 2, 1)
    assert r["n_prompts"] == 6  # question_id is the prompt id


@pytest.mark.parametrize("name, fmt", [
    ("alpaca_eval_annotations.json", "alpaca_eval"), ("arena_hard_judgments.jsonl", "arena-hard"),
    ("arena_hard_v2_judgments.jsonl", "arena-hard-v2"), ("chatbot_arena_battles.json", "battles"),
])
def test_the_table_names_the_detected_format(name, fmt):
    done = CliRunner().invoke(cli, ["stats", str(DATA / name), "--bootstrap", "200"],
                              terminal_width=200)
    assert done.exit_code == 0, done.output
    assert f"(format: {fmt})" in " ".join(done.output.split())  # the title may wrap


def test_the_pairwise_table_shows_categories_and_diagnostics():
    done = CliRunner().invoke(cli, ["stats", str(DATA / "alpaca_eval_annotations.json"),
                                    "--bootstrap", "200"], terminal_width=250)
    out = " ".join(done.output.split())
    assert "category helpful_base" in out and "category koala" in out
    assert "longer answer wins" in out and "66.7% of 3 decisive verdicts" in out
    assert "style-controlled win rate" in out and "at least 10" in out


def write(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def bad_anchor_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    annotations = json.loads((DATA / "alpaca_eval_annotations.json").read_text())
    arena = [json.loads(x) for x in (DATA / "arena_hard_judgments.jsonl").read_text().splitlines()]
    v2 = [json.loads(x) for x in (DATA / "arena_hard_v2_judgments.jsonl").read_text().splitlines()]
    both = {**annotations[0], "model_a": "x", "model_b": "y"}
    return {
        "alpaca_eval and battles": (write(tmp / "both.jsonl", [both]),
                                    "ambiguous: it resembles both alpaca_eval annotations"),
        "games and model_a": (write(tmp / "games.jsonl", [{**arena[0], "model_a": "x"}]),
                              "arena-hard judgments"),
        "two formats": (write(tmp / "two.jsonl", [annotations[0], arena[0]]), "mixed formats"),
        "mixed category types": (write(tmp / "cats.jsonl", [
            {"prompt_id": "a", "winner": "tuned", "category": "math"},
            {"prompt_id": "b", "winner": "base", "category": 3}]), "mixes types"),
        "alpaca_eval mixed datasets": (write(tmp / "ds.jsonl", [
            {**annotations[0], "dataset": "koala"}, {**annotations[1], "dataset": 2}]),
            "mixes types"),
        "two arena-hard models": (write(tmp / "models.jsonl", [arena[0], {**arena[1],
                                                                           "model": "other"}]),
                                  "2 models"),
        "one game": (write(tmp / "one.jsonl", [{**arena[0], "games": arena[0]["games"][:1]}]),
                     "two games"),
        "unknown v2 label": (write(tmp / "label.jsonl", [{**v2[0], "games": [
            {"score": "A>>>B"}, {"score": "A>B"}]}]), "not an arena-hard verdict"),
        "agreement file": (write(tmp / "agree.jsonl", [{"id": 1, "label": "A", "verdict": "A",
                                                        "verdict_swapped": "B"}]),
                           "`judge agreement"),
        "broken array": (tmp / "broken.json", "not a JSON array"),
    }


def test_bad_anchor_files_exit_2_with_one_line(tmp_path):
    cases = bad_anchor_files(tmp_path)
    (tmp_path / "broken.json").write_text('[{"prompt_id": "a", "winner": "tuned"},')
    for name, (path, words) in cases.items():
        before = path.read_text()
        line = judge_cli("stats", str(path)).error_line(2)
        assert words in line, (name, line)
        assert path.read_text() == before, name


def test_category_names_are_shown_as_text(tmp_path):
    path = write(tmp_path / "cats.jsonl", [
        {"prompt_id": "a", "winner": "tuned", "category": "[bold]x[/bold]"},
        {"prompt_id": "b", "winner": "base", "category": "plain"}])
    done = CliRunner().invoke(cli, ["stats", str(path), "--bootstrap", "100"], terminal_width=200)
    assert done.exit_code == 0 and "category [bold]x[/bold]" in done.output
