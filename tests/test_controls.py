"""Control pairs driven by the scripted engine: how they are built, that a judge which always
answers "A" fails them and the headline says so, that a judge which reads the answers passes,
and that they never change the win rate."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from scenes import COMPARE_PROMPTS as PROMPTS
from scenes import ScriptedEngine, Setup

from judge.card.write import write_card
from judge.pipeline.controls import CUT_WORDS, MIN_WORDS, build_controls
from judge.records import PromptItem
from judge.report.tables import summary_table
from judge.runs.summary import Summary

LONG = "and then it explains the matter in many more words, so that the whole answer is clearly " \
       "longer than the few words a cut keeps"


def long_answer(prompt: str) -> str:
    return f"base says: {prompt} {LONG}."


class LongAnswers(Setup):
    """Setup whose base model gives a long answer of its own to every prompt."""

    def load(self, model, options):
        role = Path(model.path).name
        self.loaded.append(role)
        answers = {p: long_answer(p) if role == "base" else f"{role} says: {p}" for p in PROMPTS}
        engine = ScriptedEngine(model, replies=self.replies if role == "judge" else {},
                                answers=answers)
        self.engines.append(engine)
        return engine


def reading_judge() -> dict[str, str]:
    """Exact replies of a judge that reads: first match wins, so the specific rules lead. A cut
    answer loses wherever it stands; otherwise the answer that answers the request wins."""
    replies = {}
    for p in PROMPTS:
        cut = " ".join(long_answer(p).split()[:CUT_WORDS])
        replies[f"Answer A:\n{cut}\n\nAnswer B:"] = "B"
        replies[f"Answer B:\n{cut}\n\nWhich"] = "A"
    for p in PROMPTS:
        replies[f"Request:\n{p}\n\nAnswer A:\nbase says: {p}"] = "A"
        replies[f"Request:\n{p}\n\nAnswer A:\n"] = "B"
    return replies


def test_controls_are_a_seeded_derangement_and_a_cut():
    requests = [PromptItem(prompt_id=f"q{i}", prompt=f"prompt {i}") for i in range(5)]
    shown = {r.prompt_id: f"answer {i} " + "word " * 30 for i, r in enumerate(requests)}
    shown["q3"] = "short one"
    built = build_controls(requests, shown, shown, 8, seed=0)
    offtopic = [p for p in built.pairs if p.kind == "offtopic"]
    truncated = [p for p in built.pairs if p.kind == "truncated"]
    assert len(offtopic) == 5 and len(truncated) == 4  # q3 is too short to cut
    assert built.skipped == {"offtopic": {}, "truncated": {f"fewer than {MIN_WORDS} words": 1}}
    assert all(p.other_prompt_id != p.prompt_id for p in offtopic)  # nobody gets its own answer
    assert sorted(p.other_prompt_id for p in offtopic) == sorted(p.prompt_id for p in offtopic)
    assert all(p.control == shown[p.other_prompt_id] for p in offtopic)
    assert all(p.control.split() == p.real.split()[:CUT_WORDS] for p in truncated)
    assert all(p.id == f"control:{p.kind}:{p.prompt_id}" for p in built.pairs)
    assert built.answers["control:truncated:q0"] == (
        "answer 0 word word word", shown["q0"])  # (control plays base, real plays tuned)
    assert build_controls(requests, shown, shown, 8, seed=0) == built  # seeded: the same pairs
    assert build_controls(requests, shown, shown, 8, seed=1).pairs != built.pairs
    assert len(build_controls(requests, shown, shown, 2, seed=0).pairs) == 4  # 2 of each kind


def test_identical_answers_and_a_single_prompt_give_no_offtopic_control():
    one = [PromptItem(prompt_id="a", prompt="p")]
    built = build_controls(one, {"a": "x " * 30}, {"a": "x " * 30}, 8, seed=0)
    assert [p.kind for p in built.pairs] == ["truncated"]
    assert built.skipped["offtopic"] == {"a run of one prompt": 1}
    two = [PromptItem(prompt_id="a", prompt="p"), PromptItem(prompt_id="b", prompt="q")]
    same = {"a": "same", "b": "same"}
    assert build_controls(two, same, same, 8, 0).skipped["offtopic"] == {
        "identical to the other prompt's answer": 2}


def test_a_multi_turn_control_cuts_the_last_reply_only():
    item = PromptItem(prompt_id="m", prompt="conversation")
    reply = "the second reply " + "goes on " * 12
    shown = {"m": "[Turn 1] User: hi\n[Turn 1] Assistant: hello\n\n[Turn 2] User: more\n"
                  f"[Turn 2] Assistant: {reply}"}
    (pair,) = build_controls([item], shown, {"m": reply}, 8, 0).pairs
    assert pair.control == shown["m"][: -len(reply)] + "the second reply goes on"


def table_text(summary: dict) -> str:
    out = io.StringIO()
    Console(file=out, width=200).print(summary_table(Summary.model_validate(summary)))
    return out.getvalue()


def test_a_judge_that_always_answers_a_fails_its_controls_and_the_headline_says_so(tmp_path):
    s = LongAnswers(tmp_path)
    s.replies = {"": "A"}
    summary = s.run(verdict="text")
    controls = summary["controls"]
    # three prompts: 3 off-topic and 3 cut pairs; "A" is right in one order of each: 6 of 12
    assert (controls["n"], controls["n_invalid"], controls["accuracy"]) == (6, 0, 0.5)
    assert controls["position_consistency"] == 0.0
    assert {k: v["n"] for k, v in controls["by_kind"].items()} == {"offtopic": 3, "truncated": 3}
    verdict = summary["verdict"]
    assert verdict["status"] == "inconclusive" and len(verdict["reasons"]) == 3
    assert "50.0% of its verdicts on 6 control pairs" in verdict["reasons"][0]
    lead = "inconclusive: the judge could not tell which answer is better"
    assert lead in table_text(summary)
    report = (tmp_path / "run" / "report.md").read_text()
    assert report.splitlines()[2].startswith(f"**{lead}")  # the line under the title
    write_card(tmp_path / "run", tmp_path / "card" / "README.md")
    card = (tmp_path / "card" / "README.md").read_text()
    assert f"**{lead}" in card and "50.0% of verdicts for the real answer on 6 pairs" in card
    assert "smoke-test" not in card  # the scripted judge is not the bundled model


def test_a_judge_that_reads_the_answers_passes(tmp_path):
    s = LongAnswers(tmp_path)
    s.replies = reading_judge()
    summary = s.run(verdict="text")
    controls = summary["controls"]
    assert (controls["n"], controls["accuracy"], controls["position_consistency"]) == (6, 1.0, 1.0)
    assert controls["ci"]["low"] == pytest.approx(6 / (6 + 1.959963984540054 ** 2))  # Wilson, 6/6
    assert summary["verdict"] == {"status": "passed", "reasons": [], "smoke_test": []}
    assert summary["pairwise"]["losses"] == 3  # it prefers base's long answers
    assert "passed: the judge picked the real answer" in table_text(summary)
    pairs = [json.loads(x) for x in
             (tmp_path / "run" / "controls" / "pairs.jsonl").read_text().splitlines()]
    (ledger,) = (tmp_path / "run" / "controls").glob("*__pairwise.jsonl")
    rows = [json.loads(x) for x in ledger.read_text().splitlines()]
    assert len(pairs) == 6 and len(rows) == 12 and all(r["winner"] == "tuned" for r in rows)
    assert all(r["prompt_id"].startswith("control:") for r in rows)
    assert {r["category"] for r in rows} == {"offtopic", "truncated"}
    assert {(r["base_model"], r["tuned_model"]) for r in rows} == {("control", "base")}


def test_control_pairs_never_change_the_win_rate(tmp_path):
    runs = {}
    for controls in (0, 8):
        (tmp_path / str(controls)).mkdir()
        s = LongAnswers(tmp_path / str(controls))
        s.replies = {"Answer A:\nbase": "A", "Answer A:\ntuned": "B", "": "A"}
        runs[controls] = s.run(controls=controls)
    without, with_controls = runs[0], runs[8]
    assert with_controls["controls"]["n"] == 6 and "controls" not in without
    for block in ("pairwise", "bias", "style_control", "verdict_sources"):
        assert with_controls[block] == without[block]
    lines = {c: (tmp_path / str(c) / "run" / "judgments").glob("*.jsonl") for c in runs}
    (plain,), (checked,) = lines[0], lines[8]
    assert plain.read_text() == checked.read_text()  # no control line among the real ones
    assert not (tmp_path / "0" / "run" / "controls").exists()


def test_a_rerun_judges_no_control_again(tmp_path):
    s = LongAnswers(tmp_path)
    s.replies = {"": "A"}
    first = s.run(verdict="text")
    s.loaded.clear()
    again = s.run(verdict="text")
    assert s.loaded == [] and again["controls"] == first["controls"]
