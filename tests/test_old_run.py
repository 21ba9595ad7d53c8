"""A run folder written by judge 0.1.0 before the packages moved (tests/data/run-0.1.0, made by the
scripted engine with that release) is read and resumed by today's code: its card renders, a rerun
of the same command makes no model call, and every number in summary.json stays as it was."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import NO_PROGRESS, snapshot
from scenes import ScriptedEngine

from judge.card.write import write_card
from judge.engines import EngineOptions
from judge.errors import InputError
from judge.pipeline.compare import CompareConfig, run_compare

OLD = Path(__file__).parent / "data" / "run-0.1.0"


def old_folder(tmp_path: Path, monkeypatch) -> Path:
    """A copy of the old run, with the model folders its references name (relative paths: the
    ledgers' file names carry the reference, their keys the folders' content fingerprints)."""
    work = tmp_path / "work"
    shutil.copytree(OLD, work)
    monkeypatch.chdir(work)
    return work


def keeps(new, old) -> bool:
    """Whether `new` holds every field of `old` with the same value, in the same key order."""
    if isinstance(old, dict):
        return (isinstance(new, dict) and [k for k in new if k in old] == list(old)
                and all(keeps(new[k], v) for k, v in old.items()))
    return new == old


def test_the_old_folder_gives_its_card(tmp_path, monkeypatch):
    work = old_folder(tmp_path, monkeypatch)
    write_card(Path("run"), Path("card/README.md"))
    text = (work / "card" / "README.md").read_text()
    # run.json of 0.1.0 recorded no per-side sampling: the tuned side's seed + 1 is derived, and
    # the examples still find both answers
    assert "base says: Name a colour." in text and "tuned says: Name a colour." in text
    pairwise = json.loads((work / "run" / "summary.json").read_text())["pairwise"]
    low, high = pairwise["ci"]["low"], pairwise["ci"]["high"]
    assert f"{100 * low:.1f}% – {100 * high:.1f}% (Wilson)" in text  # the headline's Wilson row


def test_the_old_folder_resumes_without_a_model_call_and_keeps_its_numbers(tmp_path, monkeypatch):
    old_folder(tmp_path, monkeypatch)
    before = json.loads(Path("run/summary.json").read_text())
    loaded: list[str] = []

    def load(model, options):
        loaded.append(model.ref)
        return ScriptedEngine(model)

    # the command of 0.1.0, which had no control pairs: --controls 0
    config = CompareConfig(base="base", tuned="tuned", judge="judge", prompts="p.jsonl",
                           out="run", cache_dir="cache", engine=EngineOptions(kind="hf"),
                           bootstrap=200, temperature=0.7, seed=3, max_new_tokens=32, controls=0)
    after = run_compare(config, lambda name, total: lambda done, tokens: None, load).as_json()
    assert loaded == []  # every answer and verdict came from the 0.1.0 ledgers
    before.pop("timing")
    assert keeps(after, before)  # later releases may add fields, never change one
    # no control pair was judged, but the old verdicts flip with the order on 2 of 3 prompts
    assert "controls" not in after and after["verdict"]["status"] == "inconclusive"
    assert after["verdict"]["reasons"] == ["it gave the same winner in both answer orders on only "
                                           "33.3% of prompts (under 50%)"]
    run = json.loads(Path("run/run.json").read_text())
    assert run["models_loaded"] == []
    assert run["sampling"]["tuned"]["seed"] == 4  # recorded from now on

    # with today's default the judge is asked about the control pairs only: the old verdicts
    # stay as they are, byte for byte, and so do their numbers
    (ledger,) = Path("run/judgments").glob("*.jsonl")
    lines = ledger.read_bytes()
    with_controls = run_compare(config.model_copy(update={"controls": 8}),
                                lambda name, total: lambda done, tokens: None, load).as_json()
    assert loaded == ["judge"] and ledger.read_bytes() == lines
    assert with_controls["pairwise"] == after["pairwise"]
    assert with_controls["controls"]["n"] == len(Path("run/controls/pairs.jsonl").read_text()
                                                 .splitlines()) > 0


def test_the_old_folder_resumes_unconstrained_on_an_engine_that_could_constrain(tmp_path,
                                                                                monkeypatch):
    """Structured verdicts are on by default with vLLM, but 0.1.0 judged this folder without
    them: it goes on unconstrained, so its keys, its verdicts and its numbers stay the same."""
    old_folder(tmp_path, monkeypatch)
    before = json.loads(Path("run/summary.json").read_text())
    loaded: list[str] = []

    def load(model, options):
        loaded.append(model.ref)
        return ScriptedEngine(model)

    config = CompareConfig(base="base", tuned="tuned", judge="judge", prompts="p.jsonl",
                           out="run", cache_dir="cache", engine=EngineOptions(kind="vllm"),
                           bootstrap=200, temperature=0.7, seed=3, max_new_tokens=32, controls=0)
    after = run_compare(config, lambda name, total: lambda done, tokens: None, load).as_json()
    assert loaded == []
    before.pop("timing")
    assert keeps(after, before)
    assert json.loads(Path("run/run.json").read_text())["config"]["structured"] is False


def test_the_old_folder_refuses_structured_verdicts_it_was_not_judged_with(tmp_path,
                                                                          monkeypatch):
    """Its run.json predates the setting, which means unconstrained: an explicit --structured
    would judge every pair again into its ledgers, so it is refused like any other record
    setting, nothing changed."""
    work = old_folder(tmp_path, monkeypatch)
    before = snapshot(work)
    config = CompareConfig(base="base", tuned="tuned", judge="judge", prompts="p.jsonl",
                           out="run", cache_dir="cache", engine=EngineOptions(kind="vllm"),
                           bootstrap=200, temperature=0.7, seed=3, max_new_tokens=32, controls=0,
                           structured=True)
    with pytest.raises(InputError, match="structured: False there, True now"):
        run_compare(config, NO_PROGRESS, lambda model, options: ScriptedEngine(model))
    assert snapshot(work) == before
