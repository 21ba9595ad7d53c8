"""The command line as a user meets it: a real run, then its cached rerun.

Bad input has its own table in test_bad_input.py.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from helpers import JUDGE, judge_cli

SECRETS = {"HF_TOKEN": "hf_test_secret_4821", "OPENAI_API_KEY": "sk-test-secret-4821"}


@pytest.mark.slow
def test_real_run_then_cached_rerun_loads_no_model(tmp_path, cache_dir, tiny):
    """On the tiny model: what is checked is the run folder and the cache, not the verdicts."""
    args = ["compare", tiny.ref, tiny.ref, "--judge", tiny.ref, "--limit", "2", "--engine", "hf",
            "--max-new-tokens", "16", "--temperature", "0.8", "--judge-max-new-tokens", "8",
            "--out", str(tmp_path / "run"), "--json"]
    env = {"JUDGE_CACHE_DIR": str(cache_dir), **SECRETS}
    first = judge_cli(*args, cwd=tmp_path, env=env)
    assert first.code == 0, first.stderr[-2000:]
    summary = json.loads(first.stdout)
    # 2 prompts in both orders: the judge's label probabilities decide wherever its text does
    # not, and the transformers engine sees every label, so no line is invalid
    assert (summary["pairwise"]["n"], summary["pairwise"]["n_invalid"]) == (2, 0)
    sources = summary["verdict_sources"]
    assert sum(sources.values()) == 4 and set(sources) <= {"text", "logprob"}
    assert json.loads((tmp_path / "run" / "run.json").read_text())["models_loaded"] == [tiny.ref]
    again = judge_cli(*args, cwd=tmp_path, env=env)
    assert again.code == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)["pairwise"] == summary["pairwise"]
    assert json.loads((tmp_path / "run" / "run.json").read_text())["models_loaded"] == []
    # tokens in the environment never reach the run folder or the output
    written = [p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()]
    for secret in SECRETS.values():
        assert all(secret.encode() not in blob for blob in written)
        assert secret not in first.stdout + first.stderr + again.stdout + again.stderr


@pytest.mark.parametrize("group", [[], ["templates"], ["train"]])
def test_a_group_without_a_command_prints_its_help_and_exits_0(group, tmp_path):
    done = judge_cli(*group, cwd=tmp_path)
    assert done.code == 0, done.stderr
    assert done.stdout.startswith("Usage: judge") and "Commands:" in done.stdout
    assert done.stderr == ""


@pytest.mark.slow
def test_third_party_noise_is_hidden_unless_verbose(tmp_path, cache_dir, tiny):
    """A real compare on vLLM in a fresh process (what libraries print as they import and start
    is the point), on the tiny model: stderr holds judge's own bars only; --verbose brings the
    engine's start-up logs back."""
    def compare(*flags: str, out: str) -> subprocess.CompletedProcess:
        args = [*flags, "compare", tiny.ref, tiny.ref, "--judge", tiny.ref, "--limit", "1",
                "--max-new-tokens", "4", "--judge-max-new-tokens", "2", "--engine", "vllm",
                "--kv-cache-gb", "0.5", "--out", str(tmp_path / out)]
        env = os.environ | {"HF_HUB_OFFLINE": "1", "JUDGE_CACHE_DIR": str(cache_dir)}
        env.pop("VLLM_LOGGING_LEVEL", None)  # the test session sets it; a user need not
        done = subprocess.run([JUDGE, *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-2000:]
        return done

    quiet = compare(out="run")
    noise = ("Triton", "NUMA", "Loading safetensors", "vllm", "fatal:")
    assert not [word for word in noise if word in quiet.stderr], quiet.stderr
    loud = compare("--verbose", out="run2")
    assert "Loading safetensors" in loud.stderr, loud.stderr[-2000:]
