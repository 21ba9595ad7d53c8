"""The command line as a user meets it: one line and exit 2 for bad input, resumable real runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

JUDGE = str(Path(sys.executable).parent / "judge")
HEADER = "{#- judge-template\nkind: pairwise\nlabels: {A: first, B: second, tie: tie}\n" \
         "parser: '^(A|B|tie)'\n-#}\n"


def run(args: list[str], cwd: Path, cache: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"JUDGE_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([JUDGE, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900)


def bad_inputs(tmp: Path) -> dict[str, tuple[list[str], str]]:
    empty = tmp / "empty.jsonl"
    empty.write_text("")
    wrong = tmp / "wrong.jsonl"
    wrong.write_text('{"question": "hi"}\n')
    dup = tmp / "dup.jsonl"
    dup.write_text('{"prompt": "a", "prompt_id": "1"}\n{"prompt": "b", "prompt_id": "1"}\n')
    undefined = tmp / "undefined.j2"
    undefined.write_text(HEADER + "{{ instruction }} {{ answer_a }} {{ answer_b }} {{ rubric }}")
    plain = tmp / "plain.j2"
    plain.write_text("{{ answer_a }} or {{ answer_b }}?")
    a_file = tmp / "a-file"
    a_file.write_text("keep me")
    no_tok = tmp / "no-tokenizer"
    no_tok.mkdir()
    (no_tok / "config.json").write_text("{}")
    aa = ["smollm2", "smollm2"]
    return {
        "unknown model": (["not-a-model", "smollm2"], "unknown model 'not-a-model'"),
        "folder without tokenizer": ([str(no_tok), "smollm2"], "no tokenizer files"),
        "empty prompt file": ([*aa, "--prompts", str(empty)], "is empty"),
        "wrong column": ([*aa, "--prompts", str(wrong)], "no column 'prompt' or 'instruction'"),
        "duplicate ids": ([*aa, "--prompts", str(dup)], "duplicate prompt_id '1'"),
        "undefined variable": ([*aa, "--template", str(undefined)], "'rubric' is undefined"),
        "no verdict declaration": ([*aa, "--template", str(plain)], "declares no verdict format"),
        "unwritable out": ([*aa, "--out", str(a_file / "run")], "is a file, not a folder"),
        "limit zero": ([*aa, "--limit", "0"], "--limit must be a positive"),
        "limit negative": ([*aa, "--limit", "-2"], "--limit must be a positive"),
        "bad engine": ([*aa, "--engine", "tpu"], "'tpu' is not one of"),
        "unknown option": ([*aa, "--colour", "red"], "No such option '--colour'"),
    }


CASES = ["unknown model", "folder without tokenizer", "empty prompt file", "wrong column",
         "duplicate ids", "undefined variable", "no verdict declaration", "unwritable out",
         "limit zero", "limit negative", "bad engine", "unknown option"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_gives_one_line_and_exit_2(tmp_path, case):
    cases = bad_inputs(tmp_path)
    assert sorted(cases) == sorted(CASES)
    args, message = cases[case]
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    result = run(["compare", *args], tmp_path, tmp_path / "cache")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("judge: error:") and message in lines[0]
    assert "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in before} == before
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_real_run_then_cached_rerun_loads_no_model(tmp_path, cache_dir):
    args = ["compare", "smollm2", "smollm2", "--limit", "2", "--engine", "hf",
            "--max-new-tokens", "16", "--temperature", "0.8", "--judge-max-new-tokens", "8",
            "--out", str(tmp_path / "run"), "--json"]
    first = run(args, tmp_path, cache_dir)
    assert first.returncode == 0, first.stderr[-2000:]
    summary = json.loads(first.stdout)
    assert summary["pairwise"]["n"] + summary["pairwise"]["n_invalid"] >= 1
    assert json.loads((tmp_path / "run" / "run.json").read_text())["models_loaded"] == ["smollm2"]
    again = run(args, tmp_path, cache_dir)
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)["pairwise"] == summary["pairwise"]
    assert json.loads((tmp_path / "run" / "run.json").read_text())["models_loaded"] == []
