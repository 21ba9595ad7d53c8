"""The judge template library: every shipped template passes `judge templates check`, the checker
finds what is wrong with a bad one, and graded and pointwise verdicts reach the ledger and the
statistics as documented. Verdict logic is driven by the scripted engine; one test rates with the
real bundled model's label probabilities."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import judge_cli
from scenes import ScriptedEngine

from judge.cli.main import cli
from judge.engines import EngineOptions
from judge.engines.pool import EnginePool
from judge.errors import InputError
from judge.pipeline.judging import Judge, judge_stage
from judge.records import Judgment, PromptItem, SamplingParams
from judge.runs.ledger import Ledger
from judge.stats.blocks import verdict_blocks
from judge.stats.graded import weighted_win_rate
from judge.templates.template import load_template, read_template, shipped

HEADER = "{#- judge-template\nkind: pairwise\nlabels: {A: first, B: second, tie: tie}\n" \
         "parser: '^(A|B|tie)'\nexamples: [{output: 'A', verdict: A}]\n-#}\n"
PAIR = "{{ instruction }} {{ answer_a }} {{ answer_b }}"


def write(tmp_path: Path, text: str, name: str = "t.j2") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def check(path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["templates", "check", str(path)])
    return result.exit_code, [line for line in result.output.splitlines() if line]


@pytest.mark.parametrize("name", sorted(shipped()))
def test_every_shipped_template_passes_check(name):
    code, lines = check(name)
    assert (code, len(lines)) == (0, 2), lines
    assert lines[0].startswith(f"ok: {name} ")
    assert lines[1].startswith("grammar: derived: ")  # what --structured holds its judge to
    template = load_template(name)
    assert template.spec.description and template.spec.examples
    assert any(e.verdict is None for e in template.spec.examples), "a reply it must not read"


def test_list_and_show_cover_every_shipped_template():
    listed = CliRunner().invoke(cli, ["templates", "list"])
    assert listed.exit_code == 0
    rows = {line.split()[0]: line.split()[1] for line in listed.output.splitlines()}
    assert rows == {name: read_template(name).kind for name in shipped()}
    assert set(rows.values()) == {"pairwise", "pointwise", "flow"}
    shown = CliRunner().invoke(cli, ["templates", "show", "graded"])
    assert shown.exit_code == 0
    assert shown.output.startswith("{#- judge-template") and "weights:" in shown.output
    assert "{{ answer_b }}" in shown.output


def test_sandbox_refuses_attribute_tricks_through_check(tmp_path):
    path = write(tmp_path, HEADER + PAIR + " {{ ''.__class__.__mro__ }}")
    code, lines = check(path)
    assert code == 2
    assert lines == [f"{path}: refused by the sandbox: access to attribute '__class__' of 'str' "
                     "object is unsafe."]


def test_check_reports_one_line_per_problem(tmp_path):
    header = HEADER.replace("examples: [{output: 'A', verdict: A}]",
                            "examples: [{output: 'B', verdict: A}, {output: 'x', verdict: C}]")
    path = write(tmp_path, header + "{{ instruction }} {{ answer_a }} {{ rubric }}")
    code, lines = check(path)
    assert code == 2
    assert [line.removeprefix(f"{path}: ") for line in lines] == [
        "uses `rubric` but does not declare it (add it to variables or optional)",
        "declares `answer_b` but never uses it",
        "never shows `answer_b` to the judge",
        "example 1: the parser reads 'B' from 'B', the example says 'A'",
        "example 2: verdict 'C' is not a declared label",
    ]


def test_check_flags_what_a_run_cannot_provide_and_labels_logprob_cannot_split(tmp_path):
    text = ("{#- judge-template\nkind: pointwise\nlabels: {good: 1, great: 2}\n"
            "parser: '(good|great)'\nvariables: [answer, answer_b]\n-#}\n"
            "{{ answer }} {{ answer_b }}")
    code, lines = check(write(tmp_path, text))
    assert code == 2
    assert [line.split(": ", 1)[1] for line in lines] == [
        "needs `answer_b`, which no pointwise run provides (it gets: instruction, answer, "
        "reference)",
        "declares no example outputs, so nothing tests its parser (add `examples:`)",
        "labels 'good' and 'great' begin alike, so their first tokens cannot tell them apart: "
        "declare `logprob: false`",
    ]


def test_answers_out_of_order_are_reported(tmp_path):
    code, lines = check(write(tmp_path, HEADER + "{{ instruction }} {{ answer_b }} {{ answer_a }}"))
    assert code == 2 and lines[0].endswith("answer_a must be shown before answer_b (verdict A "
                                           "means the first shown)")


def test_cli_exit_codes_and_one_line_errors(tmp_path):
    bad = write(tmp_path, HEADER.replace("kind: pairwise", "kind: pointwise") + PAIR)
    missing = tmp_path / "nope.j2"
    lines = {path: judge_cli("templates", "check", str(path)).error_line(2)
             for path in (bad, missing)}
    assert "pointwise labels map to numbers" in lines[bad]
    assert str(missing) in lines[missing]


def test_weights_are_refused_outside_pairwise(tmp_path):
    text = ("{#- judge-template\nkind: pointwise\nlabels: {'1': 1, '2': 2}\nparser: '([12])'\n"
            "weights: {'2': 3}\n-#}\n{{ answer }}")
    with pytest.raises(InputError, match="weights apply to pairwise labels only"):
        read_template(str(write(tmp_path, text)))


def test_reference_is_shown_where_the_prompt_has_one():
    template = load_template("pairwise-reference")
    given = template.render(instruction="Q", answer_a="a", answer_b="b", reference="the ref")
    assert "the ref" in given[-1].content and "judged against the reference" in given[-1].content
    without = template.render(instruction="Q", answer_a="a", answer_b="b", reference=None)
    assert "none is available" in without[-1].content


def test_a_template_needing_a_reference_fails_by_name_without_one(tmp_path):
    path = write(tmp_path, HEADER.replace("-#}", "variables: [instruction, answer_a, answer_b, "
                                          "reference]\n-#}") + PAIR + " {{ reference }}")
    template = load_template(str(path))
    with pytest.raises(InputError, match="'reference' is undefined"):
        template.render(instruction="Q", answer_a="a", answer_b="b", reference=None)


# -- verdicts through the stage, the ledger and the statistics (scripted judge) --------------

ITEMS = [PromptItem(prompt_id=f"q{i}", prompt=f"question {i}") for i in range(3)]
ANSWERS = {f"q{i}": (f"base answer {i}", f"tuned answer {i}") for i in range(3)}


def summary_blocks(judgments) -> dict:
    """summary.json's verdict blocks as the file holds them."""
    blocks = verdict_blocks(judgments, resamples=200)
    return {name: block.model_dump() for name, block in blocks.items()}


def run_stage(model, template, replies, tmp_path, mode="text", probs=None, answers=ANSWERS):
    engines: list[ScriptedEngine] = []

    def load(info, options):
        engines.append(ScriptedEngine(info, replies=replies, probs=probs))
        return engines[-1]

    ledger = Ledger(tmp_path / "judgments.jsonl", Judgment)
    judge = Judge(model, template, mode, SamplingParams(max_new_tokens=8))
    judgments, _ = judge_stage(EnginePool(EngineOptions(), load), judge, ITEMS, answers, ledger,
                               16, lambda done, tokens: None)
    return judgments, engines


def test_graded_verdicts_keep_plain_scores_and_carry_weights(fake_model, tmp_path, caplog):
    replies = {  # keyed by what answer is shown first (A)
        "A:\nbase answer 0": "B>>A", "A:\ntuned answer 0": "A>B",   # tuned wins both
        "A:\nbase answer 1": "A=B", "A:\ntuned answer 1": "B>>A",   # tie, then base strongly
        "A:\nbase answer 2": "A>>B", "A:\ntuned answer 2": "A>B",   # base strongly, tuned weakly
    }
    with caplog.at_level(logging.WARNING, logger="judge"):
        judgments, engines = run_stage(fake_model, load_template("graded"), replies, tmp_path,
                                       mode="both")
    assert [r.message for r in caplog.records if "falls back to text" in r.message] != []
    assert engines[0].calls == [("generate", 6)]  # no label log-probs for graded labels
    got = {(j.prompt_id, j.order): (j.verdict, j.winner, j.score, j.weight) for j in judgments}
    assert got == {
        ("q0", "base_first"): ("B>>A", "tuned", 1.0, 3.0),
        ("q0", "tuned_first"): ("A>B", "tuned", 1.0, 1.0),
        ("q1", "base_first"): ("A=B", "tie", 0.5, 1.0),
        ("q1", "tuned_first"): ("B>>A", "base", 0.0, 3.0),
        ("q2", "base_first"): ("A>>B", "base", 0.0, 3.0),
        ("q2", "tuned_first"): ("A>B", "tuned", 1.0, 1.0),
    }
    blocks = summary_blocks(judgments)
    assert blocks["pairwise"]["win_rate"] == pytest.approx((1.0 + 0.25 + 0.5) / 3)
    graded = blocks["graded"]
    # per prompt Σ w·score / Σ w: q0 = 1, q1 = (0.5·1 + 0·3)/4, q2 = (0·3 + 1·1)/4
    assert graded["weighted_win_rate"] == pytest.approx((1.0 + 0.125 + 0.25) / 3)
    assert (graded["n"], graded["strong_lines"]) == (3, 3)
    # arena-hard's pooled score, all lines at once: (3·1 + 1 + .5 + 0 + 0 + 1) / (4 + 4 + 4)
    assert graded["pooled_win_rate"] == pytest.approx(5.5 / 12)
    assert "ratings" not in blocks


def test_weighted_rate_of_plain_lines_is_the_plain_rate():
    rows = [{"prompt_id": "a", "score": 1.0, "weight": 1.0}, {"prompt_id": "a", "score": 0.5,
            "weight": 1.0}, {"prompt_id": "b", "score": None, "weight": None}]
    assert weighted_win_rate(rows, resamples=100).weighted_win_rate == 0.75
    assert weighted_win_rate([{"prompt_id": "a", "score": 1.0}]) is None


def test_pointwise_lines_carry_both_ratings(fake_model, tmp_path):
    replies = {"base answer 0": "2. Thin.", "tuned answer 0": "4 - good", "base answer 1": "3",
               "tuned answer 1": "3", "base answer 2": "5", "tuned answer 2": "no idea"}
    judgments, engines = run_stage(fake_model, load_template("rubric"), replies, tmp_path)
    assert engines[0].calls == [("generate", 6)]
    got = {j.prompt_id: (j.rating_base, j.rating_tuned, j.winner, j.score, j.source, j.order)
           for j in judgments}
    assert got == {"q0": (2.0, 4.0, "tuned", 1.0, "text", None),
                   "q1": (3.0, 3.0, "tie", 0.5, "text", None),
                   "q2": (5.0, None, "invalid", None, "none", None)}
    assert judgments[2].sides["tuned"].raw == "no idea"
    blocks = summary_blocks(judgments)
    assert (blocks["ratings"]["n"], blocks["ratings"]["n_invalid"]) == (2, 1)
    assert blocks["ratings"]["mean_difference"] == pytest.approx(1.0)
    assert (blocks["pairwise"]["wins"], blocks["pairwise"]["ties"]) == (1, 1)
    lines = [json.loads(x) for x in (tmp_path / "judgments.jsonl").read_text().splitlines()]
    (line,) = [x for x in lines if x["prompt_id"] == "q0"]  # lines come in the order finished
    assert {"rating_base", "rating_tuned", "sides"} <= set(line) and "weight" not in line


def test_pointwise_rerun_is_free_and_identical_answers_are_rated_once(fake_model, tmp_path):
    same = {pid: (base, base) for pid, (base, _) in ANSWERS.items()}
    replies = {"base answer": "4"}
    first, engines = run_stage(fake_model, load_template("rubric"), replies, tmp_path,
                               answers=same)
    assert engines[0].calls == [("generate", 3)]
    assert {(j.rating_base, j.rating_tuned, j.winner) for j in first} == {(4.0, 4.0, "tie")}
    again, engines = run_stage(fake_model, load_template("rubric"), replies, tmp_path,
                               answers=same)
    assert engines == [] and again == first


def test_pointwise_label_probabilities_give_a_soft_p_tuned(fake_model, tmp_path):
    probs = {"base answer": {"2": 0.5, "3": 0.5}, "tuned answer": {"3": 1.0}}
    judgments, _ = run_stage(fake_model, load_template("rubric"), {}, tmp_path, mode="logprob",
                             probs=probs)
    j = judgments[0]
    assert (j.source, j.sides["base"].label, j.rating_tuned) == ("logprob", "2", 3.0)
    assert j.p_tuned == pytest.approx(0.5 * 1.0 + 0.5 * 0.5)  # above 2, level with 3


def test_plain_pairwise_lines_keep_their_shape(fake_model, tmp_path):
    run_stage(fake_model, load_template("pairwise"), {"": "A"}, tmp_path)
    line = json.loads((tmp_path / "judgments.jsonl").read_text().splitlines()[0])
    assert not {"weight", "rating_base", "rating_tuned", "sides"} & set(line)


@pytest.mark.slow
def test_rubric_on_a_real_engine_through_label_probabilities(tiny, real_loader, tmp_path):
    """The tiny model on the transformers engine: the rubric's five labels read from its first
    token's probabilities (plumbing; which answer it rates higher is a random model's pick)."""
    template = load_template("rubric")
    ledger = Ledger(tmp_path / "judgments.jsonl", Judgment)
    items = [PromptItem(prompt_id="p", prompt="What is the capital of France?")]
    answers = {"p": ("Paris.", "The capital of France is Berlin.")}
    judge = Judge(tiny, template, "logprob", SamplingParams(max_new_tokens=4))
    judgments, timing = judge_stage(
        EnginePool(EngineOptions(kind="hf"), real_loader), judge, items, answers, ledger, 4,
        lambda done, tokens: None)
    (j,) = judgments
    for side in ("base", "tuned"):
        probs = j.sides[side].label_probs
        assert set(probs) == set(template.labels) and sum(probs.values()) == pytest.approx(1.0)
        assert j.sides[side].label == max(probs, key=probs.get)
    assert j.source == "logprob" and 0.0 <= j.p_tuned <= 1.0
    assert j.winner == ("tuned" if j.rating_tuned > j.rating_base else
                        "base" if j.rating_tuned < j.rating_base else "tie")
    assert Ledger(tmp_path / "judgments.jsonl", Judgment).records[j.key] == j
