"""Stage order by model: a side whose model is also the judge generates last, so the judge runs on
the engine already loaded. run.json's models_loaded counts the loads (scripted engines)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scenes import ScriptedEngine, Setup

from judge.engines import EngineOptions
from judge.pipeline.compare import CompareConfig, generation_order, run_compare
from judge.records import ModelInfo


def info(name: str) -> ModelInfo:
    return ModelInfo(ref=name, path=f"/models/{name}", fingerprint=f"fp-{name}", dtype="auto")


@pytest.mark.parametrize(("base", "tuned", "judge", "order"), [
    ("b", "t", "j", ["base", "tuned"]),  # nobody shares: the usual order
    ("b", "t", "b", ["tuned", "base"]),  # judged by the base model: base goes last
    ("b", "t", "t", ["base", "tuned"]),  # judged by the tuned model: already last
    ("m", "m", "m", ["base", "tuned"]),  # A/A judged by the same model
])
def test_generation_order(base, tuned, judge, order):
    assert generation_order({"base": info(base), "tuned": info(tuned), "judge": info(judge)}) \
        == order


class AnyJudge(Setup):
    """Every model can judge: the judge prompts (and only they) get a verdict."""

    def load(self, model, options):
        engine = super().load(model, options)
        engine.replies = {"Answer A:": "tie"}
        return engine


@pytest.mark.parametrize(("judge_role", "loaded"), [
    ("judge", ["base", "tuned", "judge"]),
    ("base", ["tuned", "base"]),
    ("tuned", ["base", "tuned"]),
])
def test_models_loaded_when_the_judge_is_a_side(tmp_path, judge_role, loaded):
    s = AnyJudge(tmp_path)
    s.judge = getattr(s, judge_role)
    summary = s.run()
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert [Path(ref).name for ref in run["models_loaded"]] == loaded
    assert s.loaded == loaded
    # summary.json's timing keeps its key order whatever order the sides ran in
    assert list(summary["timing"])[:3] == ["generate_base", "generate_tuned", "judge"]
    assert (summary["pairwise"]["n"], summary["pairwise"]["ties"]) == (3, 3)


def test_an_aa_run_judged_by_its_model_loads_it_once(tmp_path):
    """Sampled, so the two draws differ and the judge is really asked."""
    s = Setup(tmp_path)
    engines: list[ScriptedEngine] = []

    def load(model, options):
        engines.append(ScriptedEngine(model, replies={"Answer A:\nanswer 0": "A"}))
        return engines[-1]

    config = CompareConfig(base=s.base, tuned=s.base, judge=s.base, prompts=str(s.prompts),
                           temperature=0.7, out=str(tmp_path / "run"),
                           cache_dir=str(tmp_path / "cache"), engine=EngineOptions(kind="hf"),
                           bootstrap=200, controls=0)  # the loads only: no control pairs
    summary = run_compare(config, lambda name, total: lambda done, tokens: None, load).as_json()
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert [Path(ref).name for ref in run["models_loaded"]] == ["base"]
    assert len(engines) == 1  # base, tuned, then the judge's 3 pairs x 2 orders, one engine
    assert engines[0].calls == [("generate", 3), ("generate", 3), ("generate", 6)]
    assert summary["pairwise"]["n"] == 3  # every pair judged, in both orders
