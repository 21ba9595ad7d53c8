"""Every bad input a user can give: exit code 2, one line on stderr, no traceback, no file changed.

(A judge reply that never parses is not bad input: it is counted as invalid, see
test_compare_scripted.py::test_logprob_fallback_and_invalid_lines_are_counted.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import Ran, judge_cli, judge_env, judge_proc
from scenes import Setup

from judge.runs.folder import model_slug

HEADER = ("{#- judge-template\nkind: pairwise\nlabels: {A: first, B: second, tie: tie}\n"
          "parser: '^(A|B|tie)'\n-#}\n")
AA = ["compare", "smollm2", "smollm2"]


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def scripted_run(tmp: Path) -> list[str]:
    """`judge card RUN` for a real run folder, judged by the scripted engine."""
    (tmp / "scripted").mkdir()
    scripted = Setup(tmp / "scripted")
    scripted.replies = {"": "A"}
    scripted.run()
    return ["card", str(tmp / "scripted" / "run")]


def case_args(case: str, tmp: Path, smollm2) -> tuple[list[str], str]:
    """(command line, text the error line must contain) for one named case."""
    if case == "unknown model":
        return ["compare", "not-a-model", "smollm2"], "unknown model 'not-a-model'"
    if case == "model folder without tokenizer":
        write(tmp / "no-tok" / "config.json", "{}")
        return ["compare", str(tmp / "no-tok"), "smollm2"], "no tokenizer files"
    if case == "empty prompt set":
        return [*AA, "--prompts", write(tmp / "empty.jsonl", "")], "is empty"
    if case == "prompt file with wrong column":
        path = write(tmp / "wrong.jsonl", '{"question": "hi"}\n')
        return [*AA, "--prompts", path], "no column 'prompt' or 'instruction'"
    if case == "duplicate prompt ids":
        path = write(tmp / "dup.jsonl", '{"prompt": "a", "prompt_id": 1}\n'
                     '{"prompt": "b", "prompt_id": 1}\n')
        return [*AA, "--prompts", path], "duplicate prompt_id '1'"
    if case == "template with undefined variable":
        path = write(tmp / "u.j2", HEADER + "{{ instruction }} {{ answer_a }} {{ answer_b }} "
                     "{{ rubric }}")
        return [*AA, "--template", path], "rubric"
    if case == "template without verdict declaration":
        path = write(tmp / "plain.j2", "{{ answer_a }} or {{ answer_b }}?")
        return [*AA, "--template", path], "declares no verdict format"
    if case == "corrupt line in a cache file":
        run = tmp / "run"
        good = ('{"key":"k","prompt_id":"b01","prompt":"p","output":"o","tokens":1,'
                '"model":"smollm2","params_hash":"h"}\n')
        write(run / "generations" / f"{model_slug(smollm2)}.jsonl", good + "{oops\n" + good)
        return [*AA, "--out", str(run)], ".jsonl:2: not a JSON object"
    if case == "unwritable --out":
        return [*AA, "--out", write(tmp / "a-file", "x") + "/run"], "is a file, not a folder"
    if case == "--limit 0":
        return [*AA, "--limit", "0"], "--limit must be a positive"
    if case == "--limit negative":
        return [*AA, "--limit", "-3"], "--limit must be a positive"
    if case == "bad --engine":
        return [*AA, "--engine", "tpu"], "'tpu' is not one of"
    if case == "openai engine without base URL":
        return [*AA, "--engine", "openai"], "needs --base-url"
    if case == "malformed card front matter (card)":
        card = write(tmp / "card" / "README.md", "---\nfoo: [unclosed\n---\nmy text\n")
        return [*scripted_run(tmp), "--card", card], "front matter is not valid YAML"
    if case == "malformed card front matter (compare)":
        card = write(tmp / "card" / "README.md", "---\nfoo: [unclosed\n---\nmy text\n")
        return [*AA, "--card", card], "front matter is not valid YAML"
    if case == "recipe with unknown field":
        recipe = write(tmp / "r.yaml", "model: smollm2\nnot_a_field: 3\n")
        return ["train", "orpo", "--recipe", recipe, "--output-dir", str(tmp / "o")], \
            "unknown setting 'not_a_field'"
    if case == "preference set missing rejected":
        data = write(tmp / "pref.jsonl", '{"prompt": "hi", "chosen": "hello"}\n')
        return ["train", "orpo", "--model", "smollm2", "--dataset", data, "--output-dir",
                str(tmp / "o")], "no column 'rejected'"
    if case == "ORPO-only field in a DPO recipe":
        recipe = write(tmp / "dpo.yaml", "method: dpo\nmax_completion_length: 64\n")
        return ["train", "dpo", "--recipe", recipe, "--output-dir", str(tmp / "o")], \
            "unknown setting 'max_completion_length' (not a recipe key or DPOConfig field"
    if case == "recipe of another method":
        return ["train", "orpo", "--recipe", "smollm2-sft-cpu", "--output-dir", str(tmp / "o")], \
            "is a sft recipe (method: sft): run it with `judge train sft`"
    if case == "SFT row without an answer":
        data = write(tmp / "sft.jsonl", '{"prompt": "hi", "answer": "hello"}\n')
        return ["train", "sft", "--dataset", data, "--output-dir", str(tmp / "o")], \
            "no column 'messages', 'completion' or 'chosen'"
    if case == "--judge-prompts without --judge-every":
        return ["train", "dpo", "--judge-prompts", "builtin", "--output-dir", str(tmp / "o")], \
            "--judge-prompts needs --judge-every N"
    if case == "missing judged-evaluation prompts":
        return ["train", "orpo", "--judge-every", "2", "--judge-prompts", str(tmp / "no.jsonl"),
                "--output-dir", str(tmp / "o")], "is neither 'builtin', a file, nor a hub id"
    if case == "stats file with no valid line":
        data = write(tmp / "j.jsonl", '{"prompt_id": "1", "winner": "invalid"}\n')
        return ["stats", data], "no valid judgment"
    if case == "unknown option":
        return [*AA, "--colour", "red"], "No such option '--colour'"
    if case == "card path under a file":
        card = write(tmp / "plain-file", "x") + "/README.md"
        return [*AA, "--card", card], "is a file, not a folder"
    if case == "unwritable card path":
        return [*AA, "--card", "/sys/README.md"], "is not writable"
    if case == "unwritable card path (card)":
        return [*scripted_run(tmp), "--card", "/sys/README.md"], "is not writable"
    if case == "card path under a file (card)":
        card = write(tmp / "plain-file", "x") + "/README.md"
        return [*scripted_run(tmp), "--card", card], "is a file, not a folder"
    if case == "sweep over an unknown field":
        return ["sweep", "--recipe", "smollm2-cpu", "--grid", "learning_rate=1e-5,2e-5",
                "--grid", "betta=0.1,0.2", "--out", str(tmp / "sweep")], \
            "--grid betta: unknown setting 'betta' (not a recipe key or ORPOConfig field; " \
            "did you mean 'beta'?)"
    if case == "sweep with an empty grid":
        return ["sweep", "--recipe", "smollm2-cpu", "--out", str(tmp / "sweep")], "empty grid"
    if case == "sweep with a grid field without values":
        return ["sweep", "--recipe", "smollm2-cpu", "--grid", "learning_rate=",
                "--out", str(tmp / "sweep")], "empty grid"
    if case in ANSWERS_CASES:
        return answers_case(case, tmp)
    if case in PANEL_CASES:
        return PANEL_CASES[case]
    raise AssertionError(case)


def outputs_file(path: Path, prompts: list[str]) -> str:
    """alpaca_eval's model_outputs.json for these instructions."""
    return write(path, json.dumps([{"instruction": p, "output": f"about {p}", "generator": "m"}
                                   for p in prompts]))


ANSWERS_CASES = ["answers files answering different prompts", "answers file in no known format",
                 "empty answers file", "leaderboard models with one name",
                 "stats of a folder that is no leaderboard"]


def answers_case(case: str, tmp: Path) -> tuple[list[str], str]:
    both = outputs_file(tmp / "a.json", ["One?", "Two?", "Three?"])
    if case == "answers files answering different prompts":
        other = outputs_file(tmp / "b.json", ["One?", "Two?"])
        return ["compare", both, other], "do not cover the same prompts: 1 differ, e.g. 'Three?'"
    if case == "answers file in no known format":
        return ["compare", both, write(tmp / "c.jsonl", '{"question": "x", "reply": "y"}\n')], \
            "is in no format judge knows"
    if case == "empty answers file":
        return ["compare", write(tmp / "e.json", ""), both], "holds no answers"
    if case == "leaderboard models with one name":
        other = outputs_file(tmp / "b.json", ["One?", "Two?", "Three?"])
        return ["leaderboard", "--reference", "smollm2", both, other], "would both be called 'm'"
    (tmp / "run").mkdir()
    return ["stats", str(tmp / "run")], "not a leaderboard folder"


PANEL_CASES = {
    "panel member without a model": ([*AA, "--judge", "smollm2", "--judge", "@graded"],
                                     "--judge @graded: expected MODEL or MODEL@TEMPLATE"),
    "panel member without a template": ([*AA, "--judge", "smollm2@"],
                                        "--judge smollm2@: expected MODEL or MODEL@TEMPLATE"),
    "panel member with an unknown template": ([*AA, "--judge", "smollm2@nosuch"],
                                              "template 'nosuch' not found"),
    "panel member twice": ([*AA, "--judge", "smollm2", "--judge", "smollm2@pairwise"],
                           "--judge smollm2@pairwise is in the panel twice"),
    "--controls negative": ([*AA, "--controls", "-1"], "'--controls': -1 is not in the range"),
    "agreement panel member malformed": (["agreement", "--judge", "smollm2", "--judge",
                                          "x@", "--pairs", "p.jsonl"], "expected MODEL"),
}

CASES = ["unknown model", "model folder without tokenizer",
         "empty prompt set",
         "prompt file with wrong column", "duplicate prompt ids",
         "template with undefined variable",
         "template without verdict declaration", "corrupt line in a cache file", "unwritable --out",
         "--limit 0", "--limit negative", "bad --engine", "openai engine without base URL",
         "malformed card front matter (card)", "malformed card front matter (compare)",
         "recipe with unknown field", "preference set missing rejected",
         "ORPO-only field in a DPO recipe", "recipe of another method",
         "SFT row without an answer", "--judge-prompts without --judge-every",
         "missing judged-evaluation prompts",
         "stats file with no valid line", "unknown option", "card path under a file",
         "unwritable card path", "unwritable card path (card)", "card path under a file (card)",
         "sweep over an unknown field", "sweep with an empty grid",
         "sweep with a grid field without values", *ANSWERS_CASES, *PANEL_CASES]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_gives_one_line_exit_2_and_changes_nothing(case, tmp_path, smollm2, cache_dir):
    args, message = case_args(case, tmp_path, smollm2)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    line = judge_cli(*args, cwd=tmp_path, env={"JUDGE_CACHE_DIR": str(cache_dir)}).error_line(2)
    assert message in line, line
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before  # nothing changed, nothing new (no results/, no run folder)


# The same line from the installed script in a fresh interpreter, for one case of each command
# family: nothing a library prints as it imports may join it.
FRESH = ["unknown model", "recipe with unknown field", "stats file with no valid line",
         "sweep over an unknown field", "unwritable card path (card)"]


@pytest.mark.parametrize("case", FRESH)
def test_a_fresh_process_prints_the_same_one_line(case, tmp_path, smollm2, cache_dir):
    args, message = case_args(case, tmp_path, smollm2)
    result = judge_proc(args, cwd=tmp_path, env=judge_env(cache_dir), timeout=600)
    line = Ran(result.returncode, result.stdout, result.stderr).error_line(2)
    assert message in line, line


# A service that does not answer is not the user's input: exit 1, one line, nothing changed.
SERVICE_CASES = {
    "hub model out of reach": (["compare", "judge-tests/no-such-model", "smollm2"],
                               "hub could not provide it"),
    "hub prompt set out of reach": ([*AA, "--prompts", "judge-tests/no-such-set"],
                                    "could not be loaded from the hub"),
    "model server not answering": ([*AA, "--engine", "openai", "--base-url",
                                    "http://127.0.0.1:9/v1"], "does not answer /models"),
    "hub preference set out of reach": (["train", "orpo", "--dataset", "judge-tests/no-such-set",
                                         "--max-steps", "1"], "cannot be loaded"),
}


@pytest.mark.parametrize("case", SERVICE_CASES)
def test_unreachable_service_gives_one_line_exit_1_and_changes_nothing(case, tmp_path, cache_dir):
    args, message = SERVICE_CASES[case]
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    output = ["--output-dir", str(tmp_path / "o")] if args[0] == "train" else []
    result = judge_cli(*args, *output, cwd=tmp_path,
                       env={"JUDGE_CACHE_DIR": str(cache_dir), "HF_HUB_OFFLINE": "1"})
    line = result.error_line(1)
    assert message in line, line
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before
