"""The command line as a user meets it: a real run, then its cached rerun.

Bad input has its own table in test_bad_input.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

JUDGE = str(Path(sys.executable).parent / "judge")


SECRETS = {"HF_TOKEN": "hf_test_secret_4821", "OPENAI_API_KEY": "sk-test-secret-4821"}


def run(args: list[str], cwd: Path, cache: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"JUDGE_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1"} | SECRETS
    return subprocess.run([JUDGE, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900)


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
    # tokens in the environment never reach the run folder or the output
    written = [p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()]
    for secret in SECRETS.values():
        assert all(secret.encode() not in blob for blob in written)
        assert secret not in first.stdout + first.stderr + again.stdout + again.stderr
