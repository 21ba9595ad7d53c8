"""Other projects' judge prompt files become our templates: FastChat's judge_prompts.jsonl,
alpaca_eval annotator configs, arena-hard judge configs and prometheus-eval's prompts.py (fixtures
in tests/data/importers/ are our own prompts written in those formats). Each imported template
passes `judge templates check`, renders exactly the text the source project would send (its
placeholders filled), and reads verdicts the way the source's parser does."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from helpers import NO_PROGRESS, judge_cli, snapshot
from scenes import ScriptedEngine, make_folder

from judge.cli.main import cli
from judge.engines import EngineOptions
from judge.errors import InputError
from judge.pipeline.compare import CompareConfig, run_compare
from judge.templates.check import problems
from judge.templates.importers import import_source
from judge.templates.importers.prometheus import constants
from judge.templates.template import JudgeTemplate, read_template

DATA = Path(__file__).parent / "data" / "importers"
FASTCHAT = DATA / "fastchat" / "judge_prompts.jsonl"
ALPACA = DATA / "alpaca_eval" / "evaluators_configs"
ARENA = DATA / "arena_hard"
PROMETHEUS = DATA / "prometheus" / "prompts.py"
# values with text Jinja would act on, were it not data
VALUES = {"instruction": "Say {{ hi }} and {% raw %}.", "answer_a": "First {#answer#}.",
          "answer_b": "Second }} answer.", "answer": "Only {{answer}}.",
          "reference": "The {reference} is 4."}

SOUND = [f"{FASTCHAT}#{name}" for name in ("pair-v2", "pair-math-v1", "single-v1",
                                           "single-math-v1", "pair-braces")] + [
    str(ALPACA / "clf_judge"), str(ALPACA / "weighted_clf_judge" / "configs.yaml"),
    str(ALPACA / "cot_clf_judge"), str(ALPACA / "ranking_judge"), str(ALPACA / "regex_judge"),
    str(ARENA / "judge-v2.yaml"), str(ARENA / "judge-old.yaml"),
    f"{PROMETHEUS}#ABSOLUTE_PROMPT+CLARITY_RUBRIC",
    f"{PROMETHEUS}#RELATIVE_PROMPT_WO_REF+CLARITY_RUBRIC",
]


@pytest.mark.parametrize("ref", SOUND)
def test_every_import_passes_check_with_its_sources_examples(ref):
    template = read_template(ref)
    assert problems(template) == []
    assert template.spec.examples and any(e.verdict for e in template.spec.examples)
    result = CliRunner().invoke(cli, ["templates", "check", ref])
    assert result.exit_code == 0
    assert any(line.startswith(f"ok: {template.name} ") for line in result.output.splitlines())


def fastchat_row(name: str) -> dict:
    return next(r for r in map(json.loads, FASTCHAT.read_text().splitlines())
                if r["name"] == name)


def rendered(ref: str, **values: str) -> tuple[str | None, str]:
    messages = read_template(ref).render(**values)
    system = messages[0].content if messages[0].role == "system" else None
    return system, messages[-1].content


@pytest.mark.parametrize("name", ["pair-v2", "pair-math-v1", "single-v1", "single-math-v1",
                                  "pair-braces"])
def test_fastchat_renders_what_fastchat_sends(name):
    row = fastchat_row(name)
    source = {"question": VALUES["instruction"], "answer_a": VALUES["answer_a"],
              "answer_b": VALUES["answer_b"], "answer": VALUES["answer"],
              "ref_answer_1": VALUES["reference"]}
    system, user = rendered(f"{FASTCHAT}#{name}", **VALUES)
    assert system == row["system_prompt"]  # \r, #}, {# and a trailing newline kept as they are
    assert user == row["prompt_template"].format(**source).strip()


def test_literal_braces_and_jinja_lookalikes_survive():
    system, user = rendered(f"{FASTCHAT}#pair-braces", **VALUES)
    assert "{# not a comment #} and {% not a tag %} stay text.\r\nEnd" in system
    assert system.endswith("or \"[[C]]\".\n")  # a trailing newline Jinja would have dropped
    assert 'Reply as {"winner": "A"} {{ not a variable }} {% raw %}' in user


def alpaca_messages(prompt: Path, values: dict[str, str]) -> list[tuple[str, str]]:
    """What alpaca_eval sends: placeholders replaced, then the ChatML turns, each trimmed."""
    text = prompt.read_text()
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    if not text.strip().startswith("<|im_start|>"):
        return [("user", text.strip())]
    turns = []
    for block in text.strip().split("<|im_start|>")[1:]:
        role, _, rest = block.partition("\n")
        turns.append((role.strip(), rest.split("<|im_end|>", 1)[0].strip()))
    return turns


@pytest.mark.parametrize(("config", "prompt"), [
    ("clf_judge", "clf_judge/clf_prompt.txt"), ("weighted_clf_judge", "clf_judge/clf_prompt.txt"),
    ("cot_clf_judge", "cot_clf_judge/cot_prompt.txt"),
    ("ranking_judge", "ranking_judge/ranking_prompt.txt"),
    ("regex_judge", "regex_judge/plain_prompt.txt"),
])
def test_alpaca_eval_renders_what_alpaca_eval_sends(config, prompt):
    source = {"instruction": VALUES["instruction"], "output_1": VALUES["answer_a"],
              "output_2": VALUES["answer_b"]}
    messages = read_template(str(ALPACA / config)).render(**VALUES)
    assert [(m.role, m.content) for m in messages] == alpaca_messages(ALPACA / prompt, source)


def test_arena_hard_renders_with_the_system_prompt_given():
    system_file = ARENA / "system.txt"
    text = import_source(str(ARENA / "judge-v2.yaml"), system_file).text
    messages = JudgeTemplate("a", text, "a.j2").render(**VALUES)
    config = yaml.safe_load((ARENA / "judge-v2.yaml").read_text())
    assert messages[0].content == system_file.read_text()
    assert messages[1].content == config["prompt_template"].format(
        QUESTION=VALUES["instruction"], ANSWER_A=VALUES["answer_a"],
        ANSWER_B=VALUES["answer_b"]).strip()
    old = yaml.safe_load((ARENA / "judge-old.yaml").read_text())
    system, user = rendered(str(ARENA / "judge-old.yaml"), **VALUES)
    assert system == old["system_prompt"]
    assert user == old["prompt_template"][0].format(
        question_1=VALUES["instruction"], answer_1=VALUES["answer_a"],
        answer_2=VALUES["answer_b"]).strip()


@pytest.mark.parametrize(("prompt", "system"), [("ABSOLUTE_PROMPT", "ABS_SYSTEM_PROMPT"),
                                                ("RELATIVE_PROMPT_WO_REF", "REL_SYSTEM_PROMPT")])
def test_prometheus_renders_what_prometheus_sends(prompt, system):
    found = constants(PROMETHEUS)
    rubric = found["CLARITY_RUBRIC"]
    if prompt.startswith("RELATIVE"):
        rubric = rubric.split("\n")[0]  # relative grading passes the criterion line only
    got_system, user = rendered(f"{PROMETHEUS}#{prompt}+CLARITY_RUBRIC", **VALUES)
    assert got_system == found[system]
    assert user == found[prompt].format(
        instruction=VALUES["instruction"], response=VALUES["answer"],
        response_A=VALUES["answer_a"], response_B=VALUES["answer_b"], rubric=rubric,
        reference_answer=VALUES["reference"]).strip()  # "###Feedback: " loses its last space


# reply -> verdict, as each source's own parser reads it (hand-made)
READS = {
    f"{FASTCHAT}#pair-v2": [("Both fine but [[B]] and also [[A]]", "A"),
                            ("[[C]] then [[B]]", "B"), ("a tie: [[C]]", "C"), ("[[a]]", None)],
    f"{FASTCHAT}#single-v1": [("Rating: [[8]] ... [9]", "8"), ("Rating: [4]", "4"),
                              ("[[0]]", None), ("Rating: [[10]]", "10")],
    str(ALPACA / "clf_judge"): [("M", "M"), ("m", "m"), (" M\n", "M"), ("Maybe", None)],
    str(ALPACA / "cot_clf_judge"): [("Output 1 wins. m", "m"), ("Model M is better: M", "M"),
                                    ("M is better.", None)],
    str(ALPACA / "regex_judge"): [("Output (b)", "2"), ("Output (a)\nOutput (b)", "1"),
                                  ("I pick Output (a)", None), (" Output (a)", "1")],
    str(ALPACA / "ranking_judge"): [("[{'model': 'model_2', 'rank': 2}, {'model': 'model_1', "
                                     "'rank': 1}]", "1")],
    str(ARENA / "judge-v2.yaml"): [("[[A>B]] no, [[b>>a]]", "B>>A"), ("[[A<<B]]", "A<<B"),
                                   ("[A=B] or [[B>A]]", "B>A"), ("[[A]]", None)],
    f"{PROMETHEUS}#ABSOLUTE_PROMPT+CLARITY_RUBRIC": [("Good. [RESULT] 4", "4"),
                                                     ("score: 2/5", "2"), ("[RESULT] 0", None)],
    f"{PROMETHEUS}#RELATIVE_PROMPT_WO_REF+CLARITY_RUBRIC": [("[RESULT] a", "A"),
                                                            ("Result B", "B"), ("A wins", None)],
}


@pytest.mark.parametrize("ref", sorted(READS))
def test_verdicts_are_read_as_the_source_reads_them(ref):
    template = read_template(ref)
    assert [(reply, template.parse(reply)) for reply, _ in READS[ref]] == READS[ref]


def test_labels_that_differ_by_case_alone_keep_their_meaning():
    template = read_template(str(ALPACA / "clf_judge"))
    assert (template.meaning("m"), template.meaning("M")) == ("first", "second")
    assert template.spec.logprob  # alpaca_eval reads the first token's probabilities


def test_graded_arena_labels_carry_arena_hards_weight():
    template = read_template(str(ARENA / "judge-v2.yaml"))
    assert {label: template.weight(label) for label in ("A>>B", "A>B", "A=B", "B<<A")} == {
        "A>>B": 3.0, "A>B": 1.0, "A=B": 1.0, "B<<A": 3.0}
    assert (template.meaning("B<<A"), template.meaning("A<B")) == ("first", "second")


def test_multi_turn_forms_import_with_their_variables_and_check_names_them():
    template = read_template(f"{FASTCHAT}#pair-v2-multi-turn")
    assert template.spec.variables == ["instruction_1", "answer_a_1", "instruction_2",
                                       "answer_a_2", "answer_b_1", "answer_b_2"]
    found = problems(template)
    assert "needs `answer_a_2`, which no pairwise run provides (it gets: instruction, answer_a, " \
           "answer_b, reference)" in found
    single = read_template(f"{FASTCHAT}#single-math-v1-multi-turn")
    assert {"reference_1", "reference_2", "answer_2"} <= set(single.spec.variables)
    assert single.kind == "pointwise"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def refused(result, why: str) -> bool:
    """An input error, which `judge` prints as one line and exits 2 on (judge.cli.main)."""
    return isinstance(result.exception, InputError) and why in str(result.exception)


def test_import_writes_a_checked_template_and_never_overwrites(tmp_path):
    out = tmp_path / "pair.j2"
    result = invoke("templates", "import", f"{FASTCHAT}#pair-v2", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"wrote {out}: pairwise, labels A, B, C; checks pass"
    assert out.read_text() == import_source(f"{FASTCHAT}#pair-v2").text
    assert invoke("templates", "check", str(out)).exit_code == 0
    out.write_text("mine")
    again = invoke("templates", "import", f"{FASTCHAT}#pair-v2", "--out", str(out))
    assert refused(again, "exists; pass --force") and out.read_text() == "mine"
    assert invoke("templates", "import", f"{FASTCHAT}#pair-v2", "--out", str(out),
                  "--force").exit_code == 0
    assert refused(invoke("templates", "import", f"{FASTCHAT}#pair-v2", "--out",
                          str(tmp_path / "x.txt")), "ends in .j2")


def test_arena_hard_without_a_system_prompt_goes_on_with_one_warning(tmp_path):
    out = tmp_path / "arena.j2"
    result = invoke("templates", "import", str(ARENA / "judge-v2.yaml"), "--out", str(out))
    assert result.exit_code == 0
    notes = [line for line in result.output.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "--system FILE" in notes[0]
    assert "system:" not in out.read_text().split("-#}")[0]


@pytest.mark.parametrize(("ref", "why"), [
    (ALPACA / "fn_judge", "function calling"),
    (ALPACA / "fewshot_judge", "few-shot replies"),
    (ALPACA / "batch_judge", "puts 5 examples in one prompt"),
    (Path(f"{FASTCHAT}#pair-v9"), "has no prompt 'pair-v9'"),
    (Path(f"{PROMETHEUS}#NO_SUCH"), "no prompt constant NO_SUCH"),
])
def test_what_cannot_be_honoured_is_refused(ref, why, tmp_path):
    out = tmp_path / "t.j2"
    assert refused(invoke("templates", "import", str(ref), "--out", str(out)), why)
    assert not out.exists()
    with pytest.raises(InputError, match=re.escape(why)):
        read_template(str(ref))


def test_a_refusal_is_one_line_and_exit_2(tmp_path):
    done = judge_cli("templates", "import", str(ALPACA / "fn_judge"), "--out",
                     str(tmp_path / "t.j2"))
    assert done.error_line() == (
        f"judge: error: alpaca_eval annotator fn_judge ({ALPACA / 'fn_judge' / 'configs.yaml'}) "
        "asks the API for function calling (functions); a local judge replies in text, so its "
        "annotations cannot be read the same way")
    assert not (tmp_path / "t.j2").exists()


def runaway_annotator(root: Path) -> Path:
    """An alpaca_eval annotator whose outputs_to_match pattern backtracks without end on its own
    prompt (and on a reply like it)."""
    folder = root / "evaluators_configs" / "runaway_judge"
    folder.mkdir(parents=True)
    (folder / "prompt.txt").write_text("Judge these. aaaaaaaaaaaaaaaaaaaaaaaaa!\n{instruction}\n"
                                       "{output_1}\n{output_2}\nReply Output (a) or Output (b).")
    config = {"prompt_template": "runaway_judge/prompt.txt", "fn_completion_parser":
              "regex_parser", "completion_parser_kwargs": {"outputs_to_match": {
                  1: r"(.*){1,32000}[bc]", 2: r"Output \(b\)"}}}
    (folder / "configs.yaml").write_text(yaml.safe_dump({"runaway_judge": config}))
    return folder


def test_an_imported_regex_runs_with_the_time_limit(tmp_path):
    """outputs_to_match patterns are user regexes: the importer's search of the prompt for its
    example replies runs through judge/patterns.py, bounded, and ends in one line."""
    folder = runaway_annotator(tmp_path)
    before = snapshot(tmp_path)
    began = time.monotonic()
    line = judge_cli("templates", "import", str(folder), "--out",
                     str(tmp_path / "t.j2")).error_line()
    assert time.monotonic() - began < 20
    assert "outputs_to_match pattern for 1" in line and "ran for over 1 s" in line
    assert snapshot(tmp_path) == before
    # the same pattern as a template's own `match:` regex, read on a reply: bounded too
    template = tmp_path / "match.j2"
    template.write_text("{#- judge-template\nkind: pairwise\nlabels: {A: first, B: second}\n"
                        "parser: '(A|B)'\nmatch: {A: '(.*){1,32000}[bc]', B: 'B'}\nexamples:\n"
                        "  - {output: 'aaaaaaaaaaaaaaaaaaaaaaaaa!', verdict: null}\n-#}\n"
                        "{{ instruction }} {{ answer_a }} {{ answer_b }}\n")
    line = judge_cli("templates", "check", str(template)).error_line()
    assert "its match regex of 'A'" in line and "ran for over 1 s" in line


def test_compare_takes_a_source_as_its_template(tmp_path):
    """`--template judge_prompts.jsonl#pair-v2` with no hand edits: FastChat's verdict format is
    read back through both orders."""
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"prompt_id": f"q{i}", "prompt": f"Name a colour {i}."})
                               + "\n" for i in range(3)))
    folders = {role: make_folder(tmp_path, role) for role in ("base", "tuned", "judge")}

    asked = [f"Name a colour {i}." for i in range(3)]

    def load(model, options):  # the judge always prefers the base answer, wherever it stands
        role = Path(model.path).name
        replies = {"[Reply of assistant A begins]\nbase": "A is right. [[A]]",
                   "[Reply of assistant A begins]\ntuned": "B is right. [[B]]"}
        return ScriptedEngine(model, replies=replies if role == "judge" else {},
                              answers={p: f"{role} says: {p}" for p in asked})

    config = CompareConfig(base=folders["base"], tuned=folders["tuned"],
                           judge=folders["judge"], prompts=str(prompts),
                           template=f"{FASTCHAT}#pair-v2", out=str(tmp_path / "run"),
                           cache_dir=str(tmp_path / "cache"), engine=EngineOptions(kind="hf"),
                           bootstrap=200, controls=0)
    summary = run_compare(config, NO_PROGRESS, load).as_json()
    assert summary["template"] == "fastchat-pair-v2"
    assert (summary["pairwise"]["wins"], summary["pairwise"]["losses"]) == (0, 3)
    (ledger,) = (tmp_path / "run" / "judgments").glob("*__fastchat-pair-v2.jsonl")
    assert {json.loads(line)["winner"] for line in ledger.read_text().splitlines()} == {"base"}
