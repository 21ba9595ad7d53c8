"""`judge card --push`: the dry-run lists exactly what would go; offline, nothing is touched.

    pytest tests/test_card_push.py
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import JUDGE, judge_cli
from scenes import make_run

from judge.card.push import push_card
from judge.card.write import PLOT_NAME, render_card
from judge.cli.main import cli
from judge.errors import InputError


@pytest.fixture
def run_dir(tmp_path) -> Path:
    return make_run(tmp_path)


def test_dry_run_lists_model_files_card_and_plot_and_writes_nothing(run_dir, tmp_path):
    card = tmp_path / "card" / "README.md"
    result = CliRunner().invoke(cli, ["card", str(run_dir), "--card", str(card),
                                      "--push", "me/tuned", "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "would upload 5 files to me/tuned:"
    listed = {line.split("\t")[0].strip(): line.split("\t") for line in lines[1:]}
    # hidden files, the folder's own README and the GGUF conversion note are not uploaded
    assert set(listed) == {"config.json", "model.safetensors", "sub/extra.txt", "README.md",
                           PLOT_NAME}
    text, png = render_card(run_dir, card)
    assert int(listed["README.md"][1]) == len(text.encode())
    assert int(listed[PLOT_NAME][1]) == len(png)
    assert int(listed["model.safetensors"][1]) == 1000
    assert not card.parent.exists()


def test_model_dir_option_picks_the_folder(run_dir, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "weights.bin").write_bytes(b"1234")
    uploads = push_card(run_dir, tmp_path / "README.md", "me/x", model_dir=other, dry_run=True)
    assert [u.path_in_repo for u in uploads] == ["weights.bin", "README.md", PLOT_NAME]


@pytest.mark.parametrize("repo", ["not a repo", "a/b/c"])
def test_bad_repo_id_is_an_input_error(run_dir, tmp_path, repo):
    with pytest.raises(InputError, match="repo id"):
        push_card(run_dir, tmp_path / "README.md", repo, dry_run=True)


def run_push(run_dir: Path, card: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """A fresh process: huggingface_hub reads HF_HUB_OFFLINE and HF_HOME as it is imported."""
    return subprocess.run(
        [str(JUDGE), "card", str(run_dir), "--card", str(card), "--push", "me/tuned"],
        capture_output=True, text=True, env=env | {"COLUMNS": "300"},
    )


def test_offline_push_fails_with_one_line_before_touching_anything(run_dir, tmp_path):
    card = tmp_path / "README.md"
    proc = run_push(run_dir, card, os.environ | {"HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 1  # the hub is out of reach: a service error, not bad input
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "offline" in lines[0] and "nothing was written" in lines[0]
    assert not card.exists() and not (tmp_path / PLOT_NAME).exists()


def test_push_without_a_token_fails_with_one_line(run_dir, tmp_path):
    card = tmp_path / "README.md"
    card.write_text("# Mine\n")
    env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")}
    env |= {"HF_HUB_OFFLINE": "0", "HF_HOME": str(tmp_path / "hf-home")}
    proc = run_push(run_dir, card, env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no Hugging Face token" in lines[0]
    assert card.read_text() == "# Mine\n"


def test_dry_run_needs_push(run_dir, tmp_path):
    assert "--push" in judge_cli("card", str(run_dir), "--dry-run").error_line(2)
    assert not (run_dir / "card").exists()
