"""`judge train orpo` with bad input: exit code 2, one line on stderr naming the problem, no file
touched. Run through `judge.cli.main`'s entry point, where exit codes and the one-line message
come from, in this process; `python -m judge` once, in a fresh one. None of these loads a model:
every check happens before training starts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from helpers import RECIPES, Ran, judge_cli
from helpers import write_jsonl as jsonl

from judge.cli.main import cli

RECIPE = RECIPES / "smollm2-cpu.yaml"


def run(args: list[str], cwd: Path) -> Ran:
    return judge_cli("train", "orpo", *args, cwd=cwd)


def one_error_line(result: Ran) -> str:
    return result.error_line(2)


def test_unknown_setting_names_it(tmp_path):
    line = one_error_line(run(["--recipe", str(RECIPE), "--max-stepz", "3"], tmp_path))
    assert "'max_stepz'" in line and "max_steps" in line


def test_bad_recipe_key(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("model: smollm2\nlearning_rat: 1e-5\n")
    line = one_error_line(run(["--recipe", str(recipe)], tmp_path))
    assert "unknown setting 'learning_rat'" in line and "learning_rate" in line


def test_dataset_missing_a_column(tmp_path):
    data = jsonl(tmp_path / "prefs.jsonl", [{"prompt": "q", "chosen": "a", "answer": "b"}])
    line = one_error_line(run(["--dataset", str(data), "--output-dir", "out"], tmp_path))
    assert "no column 'rejected'" in line and "prefs.jsonl" in line
    assert not (tmp_path / "out").exists()


def test_empty_dataset(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    line = one_error_line(run(["--dataset", "empty.jsonl", "--output-dir", "out"], tmp_path))
    assert "empty.jsonl is empty" in line


def test_used_output_folder_is_left_alone(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "model.safetensors").write_bytes(b"earlier weights")
    line = one_error_line(run(["--recipe", str(RECIPE), "--output-dir", str(out)], tmp_path))
    assert "not empty: pass --resume" in line
    assert [p.name for p in out.iterdir()] == ["model.safetensors"]
    assert (out / "model.safetensors").read_bytes() == b"earlier weights"


def test_python_dash_m_judge_train_is_the_same_command(tmp_path):
    # what `accelerate launch -m judge train orpo ...` runs on every rank
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    bad = subprocess.run([sys.executable, "-m", "judge", "train", "orpo", "--max-stepz", "1"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert Ran(bad.returncode, bad.stdout, bad.stderr).error_line(2).endswith(
        "did you mean 'max_steps'?)")


def test_list_fields_shows_every_orpoconfig_field():
    from judge.train.fields import config_fields

    result = CliRunner().invoke(cli, ["train", "orpo", "--list-fields"])
    assert result.exit_code == 0, result.output
    shown = [line.split()[0] for line in result.output.splitlines() if line.startswith("--")]
    assert shown == [f"--{name.replace('_', '-')}" for name in config_fields()]
    assert "--beta" in shown and "--max-length" in shown
