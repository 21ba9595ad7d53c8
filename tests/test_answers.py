"""Answers files as model references: each anchor's format read, matched across files, replayed
through the generation stage; the judge is the scripted engine, and no other model loads."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from scenes import ANSWER_PROMPTS as PROMPTS
from scenes import (
    ScriptedEngine,
    alpaca_eval,
    answers_of,
    arena_hard,
    arena_hard_v2,
    generations,
    make_folder,
    write_lines,
)

from judge.card.context import card_context
from judge.cli.main import cli
from judge.engines import EngineOptions
from judge.errors import InputError
from judge.models.answers import read_answers, resolve_answers
from judge.pipeline.compare import CompareConfig, run_compare
from judge.promptsets.align import align


def test_each_format_reads_into_prompts_and_answers(tmp_path):
    files = {
        "alpaca_eval": alpaca_eval(tmp_path / "ae.json", answers_of("ae"), "gen-ae"),
        "arena_hard": arena_hard(tmp_path / "ah.jsonl",
                                 {q: [a] for q, a in answers_of("ah").items()}, "gen-ah"),
        "arena_hard_v2": arena_hard_v2(tmp_path / "v2.jsonl", answers_of("v2"), "gen-v2"),
        "generations": generations(tmp_path / "g.jsonl", answers_of("g"), "runs/gen-g"),
    }
    prefixes = {"alpaca_eval": "ae", "arena_hard": "ah", "arena_hard_v2": "v2", "generations": "g"}
    for fmt, path in files.items():
        found = read_answers(path)
        assert found.format == fmt
        first = found.rows[0]
        assert first.outputs == [f"{prefixes[fmt]} answer to Name a colour."]
        assert first.prompt == (None if fmt == "arena_hard" else "Name a colour.")
        assert first.prompt_id == (None if fmt == "alpaca_eval" else "q1")
    assert read_answers(files["alpaca_eval"]).rows[0].category == "chat"  # AE's dataset
    assert [read_answers(p).name for p in files.values()] == ["gen-ae", "gen-ah", "gen-v2",
                                                              "runs/gen-g"]
    # alpaca_eval's rows may come as JSON Lines too
    rows = json.loads(Path(files["alpaca_eval"]).read_text())
    ae_lines = write_lines(tmp_path / "ae.jsonl", rows)
    assert read_answers(ae_lines).rows == read_answers(files["alpaca_eval"]).rows


def test_the_fingerprint_is_the_content_hash(tmp_path):
    path = alpaca_eval(tmp_path / "a.json", answers_of("x"), "x")
    info = resolve_answers(path)
    assert info.kind == "answers" and info.name == "x"
    assert info.fingerprint == hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    copy = alpaca_eval(tmp_path / "copy.json", answers_of("x"), "x")
    assert resolve_answers(copy).fingerprint == info.fingerprint
    changed = alpaca_eval(tmp_path / "a.json", {**answers_of("x"), "q3": "changed"}, "x")
    assert resolve_answers(changed).fingerprint != info.fingerprint


def test_files_are_matched_by_text_or_by_id_and_must_cover_the_same_prompts(tmp_path):
    ae = read_answers(alpaca_eval(tmp_path / "ae.json", answers_of("ae"), "ae"))
    v2 = read_answers(arena_hard_v2(tmp_path / "v2.jsonl", answers_of("v2"), "v2"))
    gen = read_answers(generations(tmp_path / "g.jsonl", answers_of("g"), "g"))
    ah = read_answers(arena_hard(tmp_path / "ah.jsonl",
                                 {q: [a] for q, a in answers_of("ah").items()}, "ah"))
    items, outputs = align([ae, v2], None)  # AE names prompts by text: v2 is matched by text
    assert [i.prompt for i in items] == list(PROMPTS.values())
    assert items[0].prompt_id.startswith("t") and items[0].category == "chat"
    assert outputs[1][items[2].prompt_id] == ["v2 answer to Say hello."]
    items, outputs = align([gen, ah], None)  # both name ids: the ids carry over
    assert [i.prompt_id for i in items] == ["q1", "q2", "q3"]
    assert outputs[1]["q2"] == ["ah answer to Count to three."]
    with pytest.raises(InputError, match="by id only"):
        align([ah, gen], None)  # the first file sets the prompts: it needs their texts
    with pytest.raises(InputError, match="by id only and .* by text only"):
        align([ae, ah], None)
    short = read_answers(alpaca_eval(tmp_path / "short.json",
                                     {"q1": "a", "q2": "b"}, "short"))
    with pytest.raises(InputError, match=r"do not cover the same prompts: 1 differ, e\.g\. "
                                         r"'Say hello\.' has no answer in .*short\.json"):
        align([ae, short], None)
    with pytest.raises(InputError, match=r"1 differ, e\.g\. 'Say hello\.' has no answer in .*"
                                         r"short\.json"):
        align([short, ae], None)  # the other way round names the same prompt
    items, _ = align([ae, short], None, limit=2)  # --limit 2: the first two prompts only
    assert len(items) == 2


def scripted(prefer: str, loaded: list[str]):
    """A loader: the judge prefers answers containing `prefer` in both orders; models answer
    '<folder> says: <prompt>'."""
    def load(model, options):
        role = Path(model.path).name
        loaded.append(role)
        replies = {}
        if role == "judge":
            replies = {f"Answer A:\n{prefer}": "A", f"Answer B:\n{prefer}": "B", "": "tie"}
        return ScriptedEngine(model, replies=replies)
    return load


def compare(tmp_path: Path, base: str, tuned: str, loaded: list[str], prefer: str = "tuned",
            **options):
    config = CompareConfig(base=base, tuned=tuned, judge=make_folder(tmp_path, "judge")
                           if not (tmp_path / "judge").exists() else str(tmp_path / "judge"),
                           prompts=options.pop("prompts", None), out=str(tmp_path / "run"),
                           cache_dir=str(tmp_path / "cache"), engine=EngineOptions(kind="hf"),
                           bootstrap=200, verdict="text", **options)
    return run_compare(config, lambda name, total: lambda done, tokens: None,
                       scripted(prefer, loaded)).as_json()


def test_two_answers_files_are_judged_with_no_model_but_the_judge(tmp_path):
    base = alpaca_eval(tmp_path / "base" / "model_outputs.json", answers_of("base"), "base-gen")
    tuned = arena_hard_v2(tmp_path / "tuned.jsonl", answers_of("tuned"), "tuned-gen")
    loaded: list[str] = []
    summary = compare(tmp_path, base, tuned, loaded, prefer="tuned")
    assert loaded == ["judge"]
    pw = summary["pairwise"]  # the judge prefers the tuned answer in both orders on all three
    assert (pw["n"], pw["wins"], pw["win_rate"], pw["position_consistency"]) == (3, 3, 1.0, 1.0)
    run = tmp_path / "run"
    meta = json.loads((run / "run.json").read_text())
    assert meta["models"]["base"]["kind"] == "answers"
    assert meta["models_loaded"] == [str(tmp_path / "judge")]
    lines = [json.loads(x) for p in (run / "generations").glob("*.jsonl")
             for x in p.read_text().splitlines()]
    assert sorted(g["output"] for g in lines) == sorted(
        [*answers_of("base").values(), *answers_of("tuned").values()])
    assert all(g["tokens"] == 0 for g in lines)  # nothing was generated here
    (judgments,) = (run / "judgments").glob("*.jsonl")
    rows = [json.loads(x) for x in judgments.read_text().splitlines()]
    assert {(r["base_model"], r["tuned_model"]) for r in rows} == {("base-gen", "tuned-gen")}
    context = card_context(run, None)  # the card finds the file answers like a model's
    assert (context["base"], context["tuned"]) == ("base-gen", "tuned-gen")
    assert context["prompts"] == r"prompts of model\_outputs.json"  # Markdown-escaped, as data
    assert context["examples"][0]["tuned"].startswith("tuned answer to")
    # `judge stats` of these lines still gives the pairwise numbers, names and all
    shown = json.loads(CliRunner().invoke(cli, ["stats", str(judgments), "--json", "--bootstrap",
                                                "200"]).output)
    assert shown["format"] == "judge" and {k: shown[k] for k in pw} == pw
    loaded.clear()
    assert compare(tmp_path, base, tuned, loaded)["pairwise"] == pw
    assert loaded == []  # the rerun is all cache


def test_a_changed_file_is_judged_again_only_where_its_answers_changed(tmp_path):
    base = alpaca_eval(tmp_path / "base.json", answers_of("base"), "base")
    tuned = alpaca_eval(tmp_path / "tuned.json", answers_of("tuned"), "tuned")
    loaded: list[str] = []
    assert compare(tmp_path, base, tuned, loaded)["pairwise"]["win_rate"] == 1.0
    alpaca_eval(tmp_path / "tuned.json", {**answers_of("tuned"), "q2": "base but worse"}, "tuned")
    loaded.clear()
    pw = compare(tmp_path, base, tuned, loaded, prefer="base answer")["pairwise"]
    # the judge now prefers the base answer: only the changed counting pair is asked again, and
    # base wins it; the two cached pairs keep their tuned wins
    assert (pw["wins"], pw["losses"]) == (2, 1)
    (judgments,) = (tmp_path / "run" / "judgments").glob("*.jsonl")
    assert len(judgments.read_text().splitlines()) == 8  # 6 + the changed prompt's two orders


def test_a_model_answers_the_prompts_of_the_file(tmp_path):
    file = alpaca_eval(tmp_path / "ref.json", answers_of("ref"), "ref")
    loaded: list[str] = []
    summary = compare(tmp_path, file, make_folder(tmp_path, "tuned"), loaded, prefer="answer 1")
    assert loaded == ["tuned", "judge"] and summary["pairwise"]["win_rate"] == 1.0
    (ledger,) = [p for p in (tmp_path / "run" / "generations").glob("*tuned-*.jsonl")]
    outputs = {json.loads(x)["output"] for x in ledger.read_text().splitlines()}
    assert outputs == {f"answer 1 to: {p}" for p in PROMPTS.values()}  # seed 0 + 1 for tuned


def test_arena_hard_ids_take_their_texts_from_the_question_file(tmp_path):
    ah = {q: [a] for q, a in answers_of("ah").items()}
    base = arena_hard(tmp_path / "base.jsonl", ah, "base")
    tuned = arena_hard(tmp_path / "tuned.jsonl", {q: [f"tuned {t[0]}"] for q, t in ah.items()},
                       "tuned")
    questions = write_lines(tmp_path / "question.jsonl", [  # arena-hard's own question lines
        {"question_id": q, "category": "arena-hard-v0.1", "turns": [{"content": PROMPTS[q]}]}
        for q in ("q1", "q3")])
    loaded: list[str] = []
    with pytest.raises(InputError, match="by id only"):
        compare(tmp_path, base, tuned, loaded)
    summary = compare(tmp_path, base, tuned, loaded, prompts=questions, prefer="tuned")
    assert summary["pairwise"]["n"] == 2  # --prompts restricts to its two questions
    assert loaded == ["judge"]


def test_multi_turn_answers_are_replayed_turn_by_turn(tmp_path):
    questions = write_lines(tmp_path / "mt.jsonl", [
        {"question_id": 81, "turns": ["Name a colour.", "Now a darker one."]}])
    base = arena_hard(tmp_path / "b.jsonl", {"81": ["base red", "base maroon"]}, "b")
    tuned = arena_hard(tmp_path / "t.jsonl", {"81": ["tuned red", "tuned maroon"]}, "t")
    loaded: list[str] = []
    summary = compare(tmp_path, base, tuned, loaded, prompts=questions, prefer="[Turn 1] "
                      "User: Name a colour.\n[Turn 1] Assistant: tuned")
    assert summary["pairwise"]["wins"] == 1
    lines = [json.loads(x) for p in (tmp_path / "run" / "generations").glob("*-t.jsonl-*.jsonl")
             for x in p.read_text().splitlines()]
    assert lines[0]["outputs"] == ["tuned red", "tuned maroon"]
    one_turn = write_lines(tmp_path / "one.jsonl", [{"question_id": 81, "prompt": "Name one."}])
    with pytest.raises(InputError, match="2 answers for 1 user turns"):
        compare(tmp_path, base, tuned, loaded, prompts=one_turn)


@pytest.mark.parametrize("content, word", [
    ("", "holds no answers"),
    ("[]", "holds no answers"),
    ('{"instruction": "x", "output": "y"}', "expected a JSON list"),
    ('[{"question": "x", "answer": "y"}]', "is in no format judge knows"),
    ('[{"instruction": "x", "output": "y"}, {"instruction": "x", "output": "z"}]',
     "answered twice"),
    ('[{"instruction": "x", "output": null}]', "output: expected a text"),
    ('[{"instruction": "x", "output": "y"}, {"question_id": 1, "choices": []}]',
     "record 2 is not in the alpaca_eval format"),
    ("{not json", "is not valid JSON"),
])
def test_bad_answers_files_are_one_input_error(tmp_path, content, word):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputError, match=word):
        read_answers(str(path))
    assert path.read_text() == content
