"""judge as a user gets it: a wheel installed where the checkout is not importable, run from a
folder that holds a `train.py` of its own; and `make setup`, which must stop at a failed step.

The wheel goes into a fresh virtual environment whose third-party packages come from this one
(a .pth file names its site-packages; .pth files there are not processed, so this checkout's
editable install does not come along), so nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from helpers import ROOT, recipe_on

# A user's own train.py: if anything ran it, the marker would appear.
USER_TRAIN = ("from pathlib import Path\nPath('RAN-USER-TRAIN').write_text('ran')\n"
              "raise SystemExit(7)\n")


def run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int = 600):
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd}: {done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin/ folder of a fresh venv with the wheel built from this checkout installed."""
    top = tmp_path_factory.mktemp("wheel")
    env = os.environ | {"PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    # built from a copy: setuptools writes build/ and *.egg-info beside the sources
    source = top / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "results", "build", "site", "*.egg-info", "__pycache__", ".*_cache"))
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
         str(top / "dist"), str(source)], top, env)
    (wheel,) = (top / "dist").glob("judge-*.whl")
    venv = top / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], top, env)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (site / "deps-from-test-venv.pth").write_text(sysconfig.get_path("purelib") + "\n")
    run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
         "--no-deps", str(wheel)], top, env)
    return venv / "bin"


@pytest.fixture
def user_folder(tmp_path) -> Path:
    folder = tmp_path / "my-project"
    folder.mkdir()
    (folder / "train.py").write_text(USER_TRAIN)
    return folder


def test_the_wheel_carries_its_files_and_no_bare_train_module(installed, user_folder):
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    python = str(installed / "python")
    where = run([python, "-c", "import judge, judge.train; print(judge.__file__); "
                 "print(judge.train.__file__)"], user_folder.parent, env).stdout.split()
    # the wheel's files, not the checkout's
    assert not any(Path(path).resolve().is_relative_to(ROOT) for path in where), where
    bare = subprocess.run([python, "-c", "import train"], cwd=user_folder.parent, env=env,
                          capture_output=True, text=True)
    assert bare.returncode == 1 and "No module named 'train'" in bare.stderr
    listed = run([str(installed / "judge"), "templates", "list"], user_folder, env).stdout
    assert {line.split()[0] for line in listed.splitlines()} >= {"pairwise", "graded", "rubric"}
    checked = run([str(installed / "judge"), "templates", "check", "pairwise"], user_folder, env)
    assert checked.stdout.startswith("ok: pairwise")
    source = ROOT / "tests" / "data" / "importers" / "fastchat" / "judge_prompts.jsonl"
    imported = run([str(installed / "judge"), "templates", "import", f"{source}#pair-v2", "--out",
                    "pair-v2.j2"], user_folder, env)  # the importers ship in the wheel
    assert imported.stdout.startswith("wrote pair-v2.j2: pairwise")
    lines = [{"prompt_id": "a", "winner": "tuned"}, {"prompt_id": "b", "winner": "base"},
             {"prompt_id": "c", "winner": "tuned"}]
    (user_folder / "j.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    stats = run([str(installed / "judge"), "stats", "j.jsonl", "--json"], user_folder, env)
    assert json.loads(stats.stdout)["wins"] == 2
    # report.html from the templates, style and script the wheel carries
    shutil.copytree(ROOT / "tests" / "data" / "run-0.1.0", user_folder / "old")
    run([str(installed / "judge"), "report", "run"], user_folder / "old", env)
    page = (user_folder / "old" / "run" / "report.html").read_text()
    assert page.count('<article class="prompt"') == 3 and "form#filters" in page
    assert "function update()" in page
    assert not (user_folder / "RAN-USER-TRAIN").exists()


@pytest.mark.slow
def test_a_one_step_demo_runs_from_a_folder_with_its_own_train_py(installed, user_folder,
                                                                   cache_dir, tiny):
    """The demo's wiring on the tiny model: the shipped recipe, its model swapped."""
    env = os.environ | {"HF_HUB_OFFLINE": "1", "JUDGE_CACHE_DIR": str(cache_dir)}
    recipe = recipe_on(tiny.ref, "smollm2-cpu", user_folder)
    run([str(installed / "judge"), "demo", "--recipe", recipe.name, "--steps", "1", "--limit",
         "2", "--bench-limit", "4", "--engine", "hf", "--out", "demo"], user_folder, env,
        timeout=1200)
    training = json.loads((user_folder / "demo" / "tuned" / "training.json").read_text())
    assert training["global_step"] == 1
    assert (user_folder / "demo" / "README.md").is_file()  # the card, from the wheel's template
    summary = json.loads((user_folder / "demo" / "run" / "summary.json").read_text())
    assert summary["benchmarks"]["judge_mcq"]["n"] == 4  # the task shipped in the wheel
    run_json = json.loads((user_folder / "demo" / "run" / "run.json").read_text())
    assert run_json["models"]["base"]["fingerprint"] == tiny.fingerprint  # the recipe's model
    assert run_json["models"]["judge"]["fingerprint"] == tiny.fingerprint
    assert not (user_folder / "RAN-USER-TRAIN").exists()


def test_make_setup_stops_at_a_failed_step_and_writes_no_stamp(tmp_path):
    venv = tmp_path / "venv"
    done = subprocess.run(["make", "-C", str(ROOT), "setup", f"VENV={venv}", "PIP=false"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert (venv / "bin" / "python").exists()  # the step before the failing one ran
    assert not (venv / ".judge-setup").exists()  # and nothing claims the set-up is done
