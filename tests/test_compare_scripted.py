"""The compare pipeline driven by the scripted engine: exact judge texts through the real ledger,
parsers, order mapping and statistics. No model is loaded here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scenes import COMPARE_PROMPTS as PROMPTS
from scenes import Setup

from judge.engines import EngineOptions
from judge.pipeline.compare import CompareConfig, run_compare


def test_verdicts_are_mapped_back_through_both_orders(tmp_path):
    s = Setup(tmp_path)
    # The judge always prefers the base answer, wherever it is shown.
    s.replies = {"Answer A:\nbase says": "A. Clearer.", "Answer A:\ntuned says": "B, because..."}
    summary = s.run()
    pw = summary["pairwise"]
    assert (pw["n"], pw["wins"], pw["losses"], pw["ties"], pw["n_invalid"]) == (3, 0, 3, 0, 0)
    assert pw["win_rate"] == 0.0
    assert pw["position_consistency"] == 1.0
    assert pw["first_position_rate"] == 0.5
    rows = s.judgments()
    assert len(rows) == 6 and {r["order"] for r in rows} == {"base_first", "tuned_first"}
    assert {(r["order"], r["verdict"], r["winner"]) for r in rows} == {
        ("base_first", "A", "base"), ("tuned_first", "B", "base")}
    assert all(r["source"] == "text" and r["score"] == 0.0 for r in rows)


def test_position_bias_becomes_ties_not_wins(tmp_path):
    s = Setup(tmp_path)
    s.replies = {"Answer A:": "A"}  # always the first shown
    pw = s.run()["pairwise"]
    assert (pw["wins"], pw["losses"], pw["ties"]) == (0, 0, 3)
    assert pw["position_consistency"] == 0.0 and pw["first_position_rate"] == 1.0
    assert pw["ci"]["low"] < 0.5 < pw["ci"]["high"]


def test_logprob_fallback_and_invalid_lines_are_counted(tmp_path):
    s = Setup(tmp_path)
    s.replies = {"Say hello": "Hmm, hard to say.", "": "I cannot decide."}
    # label probabilities only for the colour prompt; the rest has neither text nor probabilities
    s.probs = {"Answer A:\nbase says: Name": {"A": 0.2, "B": 0.7, "tie": 0.1},
               "Answer A:\ntuned says: Name": {"A": 0.6, "B": 0.3, "tie": 0.1}}
    summary = s.run()
    rows = {(r["prompt_id"], r["order"]): r for r in s.judgments()}
    colour = rows[("q0", "base_first")]
    assert (colour["source"], colour["verdict"], colour["winner"]) == ("logprob", "B", "tuned")
    assert colour["p_tuned"] == pytest.approx(0.7 + 0.05)
    assert rows[("q0", "tuned_first")]["winner"] == "tuned"
    invalid = [r for r in rows.values() if r["winner"] == "invalid"]
    assert len(invalid) == 4 and all(r["score"] is None for r in invalid)
    pw = summary["pairwise"]
    assert (pw["n"], pw["n_invalid"], pw["wins"]) == (1, 4, 1)
    assert pw["soft_win_rate"] == pytest.approx((0.75 + 0.65) / 2)
    assert summary["verdict_sources"] == {"logprob": 2, "none": 4}


def test_identical_answers_skip_the_judge_but_keep_both_records(tmp_path):
    s = Setup(tmp_path, answers={"base": "same", "tuned": "same"})
    pw = s.run()["pairwise"]
    rows = s.judgments()
    assert len(rows) == 6 and all(r["skipped"] and r["winner"] == "tie" for r in rows)
    assert pw["ties"] == 3
    assert "judge" not in s.loaded


def test_rerun_calls_no_engine_and_a_torn_line_is_recomputed_alone(tmp_path):
    s = Setup(tmp_path)
    s.replies = {"Answer A:\nbase says": "A", "Answer A:\ntuned says": "B"}
    first = s.run()
    s.loaded.clear()
    again = s.run()
    assert s.loaded == []
    assert again["pairwise"] == first["pairwise"]
    (path,) = (tmp_path / "run" / "judgments").glob("*.jsonl")
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]) + lines[-1][:25])  # kill mid-write of the last record
    third = s.run()
    assert s.loaded == ["judge"]
    assert s.engines[-1].calls == [("generate", 1)]  # text and label probabilities: one call
    assert third["pairwise"] == first["pairwise"]
    assert len(path.read_text().splitlines()) == 6


def test_run_folder_holds_every_artifact(tmp_path):
    s = Setup(tmp_path)
    s.replies = {"": "tie"}
    summary = s.run()
    run = tmp_path / "run"
    assert json.loads((run / "summary.json").read_text()) == summary
    assert summary["schema"] == "judge.summary/1"
    meta = json.loads((run / "run.json").read_text())
    assert meta["template"]["name"] == "pairwise" and meta["n_prompts"] == 3
    assert set(meta["models"]) == {"base", "tuned", "judge"}
    assert (run / "report.md").read_text().startswith("# ")
    assert (run / "winrate.png").read_bytes()[:4] == b"\x89PNG"
    assert len(list((run / "generations").glob("*.jsonl"))) == 2


def test_pointwise_rubric_ratings_flow_into_the_summary(tmp_path):
    s = Setup(tmp_path)
    s.replies = {"tuned says": "5", "base says": "2"}  # each answer is rated on its own
    config = CompareConfig(base=s.base, tuned=s.tuned, judge=s.judge, prompts=str(s.prompts),
                           template="rubric", verdict="text", out=str(tmp_path / "run"),
                           cache_dir=str(tmp_path / "cache"), engine=EngineOptions(kind="hf"),
                           bootstrap=200)
    summary = run_compare(config, lambda name, total: lambda done, tokens: None, s.load).as_json()
    assert (summary["pairwise"]["wins"], summary["pairwise"]["n"]) == (3, 3)
    ratings = summary["ratings"]
    assert (ratings["mean_base"], ratings["mean_tuned"], ratings["mean_difference"]) == (2, 5, 3)
    rows = s.judgments()
    assert len(rows) == 3 and all(r["order"] is None and r["rating_tuned"] == 5 for r in rows)


def test_multi_turn_prompts_are_answered_turn_by_turn_and_judged_whole(tmp_path):
    s = Setup(tmp_path)
    s.prompts.write_text(json.dumps({"question_id": 81, "category": "writing",
                                     "turns": ["Name a colour.", "Now a darker one."]}) + "\n")
    s.replies = {"Answer A:\n[Turn 1] User: Name a colour.\n[Turn 1] Assistant: tuned": "A",
                 "Answer A:\n[Turn 1] User: Name a colour.\n[Turn 1] Assistant: base": "B"}
    summary = s.run(verdict="text")
    assert (summary["pairwise"]["n"], summary["pairwise"]["wins"]) == (1, 1)
    generations = [json.loads(line) for p in (tmp_path / "run" / "generations").glob("*.jsonl")
                   for line in p.read_text().splitlines()]
    assert {len(g["outputs"]) for g in generations} == {2}
    base_engine = next(e for e in s.engines if Path(e.model.path).name == "base")
    assert base_engine.calls == [("generate", 1), ("generate", 1)]  # one call per turn
    rows = s.judgments()
    assert {r["prompt_id"] for r in rows} == {"81"} and len(rows) == 2


def test_categories_bias_and_style_control_reach_the_summary_and_report(tmp_path):
    s = Setup(tmp_path)
    s.prompts.write_text("".join(
        json.dumps({"prompt_id": f"q{i}", "prompt": p, "category": c}) + "\n"
        for i, (p, c) in enumerate(zip(PROMPTS, ["art", "math", "math"], strict=True))))
    s.replies = {"Answer A:": "A"}  # whatever is shown first wins: every prompt a tie
    summary = s.run()
    by_category = summary["by_category"]
    assert list(by_category) == ["art", "math"]
    assert (by_category["art"]["n"], by_category["math"]["n"]) == (1, 2)
    assert by_category["math"]["ties"] == 2 and by_category["math"]["win_rate"] == 0.5
    bias = summary["bias"]
    assert (bias["first_position_rate"], bias["n_first_position"]) == (1.0, 6)
    assert bias["position_consistency"] == 0.0 and len(bias["warnings"]) == 2
    style = summary["style_control"]
    assert style["win_rate"] is None and "at least 10" in style["reason"]
    rows = s.judgments()
    assert sorted({(r["prompt_id"], r["category"]) for r in rows}) == [
        ("q0", "art"), ("q1", "math"), ("q2", "math")]
    report = (tmp_path / "run" / "report.md").read_text()
    assert "## By category" in report and "| art | 50.0%" in report
    assert "badly position-biased" in report and "every prompt is a tie" in report
    # the category is no part of any cache key: without it every call is a ledger hit
    s.prompts.write_text("".join(json.dumps({"prompt_id": f"q{i}", "prompt": p}) + "\n"
                                 for i, p in enumerate(PROMPTS)))
    s.loaded.clear()
    again = s.run()
    assert s.loaded == [] and "by_category" not in again
    assert again["pairwise"] == summary["pairwise"]


def test_one_category_gives_no_per_category_block(tmp_path):
    s = Setup(tmp_path)
    s.prompts.write_text("".join(
        json.dumps({"prompt_id": f"q{i}", "prompt": p, "category": "chat"}) + "\n"
        for i, p in enumerate(PROMPTS)))
    s.replies = {"Answer A:\nbase says": "A", "Answer A:\ntuned says": "B"}
    summary = s.run()
    assert "by_category" not in summary  # it would only repeat the headline
    assert summary["bias"]["warnings"] == []  # consistent, and first-shown wins half
