"""Flow Judge adapter: metrics (the suite's own and flow-judge's presets), the bound template, and
the Flow format run through our transformers engine on the tiny model. What is tested is parsing
and the ledger, not the model's grading."""

from __future__ import annotations

import json

import pytest
from scenes import ScriptedEngine

from judge.engines import EngineOptions
from judge.engines.pool import EnginePool
from judge.errors import InputError, ServiceError
from judge.models.refs import resolve_model
from judge.pipeline.judging import Judge, judge_stage
from judge.records import Judgment, PromptItem, SamplingParams
from judge.runs.ledger import Ledger
from judge.stats.blocks import verdict_blocks
from judge.templates import flow
from judge.templates.template import load_template

PLAIN = [PromptItem(prompt_id="a", prompt="Name a primary colour."),
         PromptItem(prompt_id="b", prompt="What is 2 + 2?")]
WITH_REF = [PromptItem(prompt_id="a", prompt="What is 2 + 2?", reference="4")]
ANSWERS = {"a": ("Red is one.", "Blue."), "b": ("Five.", "Four.")}


def stage(pool, model, template, tmp_path, items=PLAIN, mode="text", tokens=8):
    ledger = Ledger(tmp_path / "judgments.jsonl", Judgment)
    judge = Judge(model, template, mode, SamplingParams(max_new_tokens=tokens))
    return judge_stage(pool, judge, items, ANSWERS, ledger, 8, lambda d, t: None)


def test_default_metric_follows_the_prompts(monkeypatch):
    assert flow.default_metric(PLAIN) == "helpfulness-5"
    monkeypatch.setattr(flow, "flow_judge_installed", lambda: False)
    assert flow.default_metric(WITH_REF) == "correctness-5"
    with pytest.raises(InputError, match="pip install --no-deps flow-judge==0.1.2"):
        flow.find_metric("response_correctness_5point")


def test_bound_template_carries_the_metric(monkeypatch):
    monkeypatch.setattr(flow, "flow_judge_installed", lambda: False)
    template = flow.flow_template("correctness-binary", WITH_REF)
    assert (template.name, template.labels, template.kind) == ("flow-correctness-binary",
                                                               ["0", "1"], "flow")
    text = template.render(instruction="What is 2 + 2?", answer="4", reference="4")[0].content
    assert "<reference_answer>\n4\n</reference_answer>" in text
    assert text.index("- Score 0:") < text.index("- Score 1:") < text.index("<feedback>")
    assert template.parse("<feedback>Right.</feedback>\n<score>\n1\n</score>") == "1"
    assert template.parse("<feedback>?</feedback><score>3</score>") is None  # not on this scale
    assert template.sha != flow.flow_template("correctness-5", WITH_REF).sha
    helpful = flow.flow_template(None, PLAIN)
    assert "<reference_answer>" not in helpful.render(
        instruction="q", answer="x", reference="ignored by a metric that takes no reference"
    )[0].content


def test_metric_and_prompts_must_fit(monkeypatch):
    monkeypatch.setattr(flow, "flow_judge_installed", lambda: False)
    with pytest.raises(InputError, match="2 prompts have none"):
        flow.flow_template("correctness-5", PLAIN)
    with pytest.raises(InputError, match="not a flow template"):
        flow.bind_metric(load_template("rubric"), None, PLAIN)
    pairwise = load_template("pairwise")
    assert flow.prepare_template(pairwise, PLAIN) is pairwise
    assert flow.prepare_template(load_template("flow"), PLAIN).name == "flow-helpfulness-5"


def test_judge_reference_shape():
    assert flow.flow_judge_ref("flow") == flow.FLOW_MODEL
    assert flow.flow_judge_ref("flow:/models/flow-judge") == "/models/flow-judge"
    assert flow.flow_judge_ref("smollm2") is None


def test_hub_default_offline_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ServiceError, match="not local") as err:  # the hub is out of reach
        resolve_model(flow.FLOW_MODEL, tmp_path)
    assert "\n" not in str(err.value)


@pytest.mark.skipif(not flow.flow_judge_installed(), reason="flow-judge is an optional extra")
def test_flow_judge_presets_become_metrics():
    presets = flow.preset_metrics()
    assert len(presets) == 9 and {m.origin for m in presets.values()} == {"flow-judge"}
    five = presets["response_correctness_5point"]
    assert five.inputs == ["query", "reference_answer"] and len(five.rubric) == 5
    assert flow.default_metric(WITH_REF) == "response_correctness_5point"
    assert flow.flow_template(None, WITH_REF).labels == ["1", "2", "3", "4", "5"]
    with pytest.raises(InputError, match="needs context"):
        flow.flow_template("response_faithfulness_3point", WITH_REF)


def test_flow_replies_give_feedback_and_scores(fake_model, tmp_path):
    replies = {"<output>\nRed is one.": "<feedback>Names one.</feedback>\n<score>4</score>",
               "<output>\nBlue.": "<feedback>Terse.</feedback><score>3</score>",
               "<output>\nFive.": "<feedback>Wrong sum.</feedback><score>1</score>",
               "<output>\nFour.": "I would say 5."}
    engine = ScriptedEngine(fake_model, replies=replies)
    pool = EnginePool(EngineOptions(), lambda info, options: engine)
    judgments, _ = stage(pool, fake_model, flow.flow_template(None, PLAIN), tmp_path, mode="both")
    assert engine.calls == [("generate", 4)]  # Flow's score comes last: text only
    a, b = judgments
    assert (a.rating_base, a.rating_tuned, a.winner) == (4.0, 3.0, "base")
    assert (a.sides["base"].feedback, a.sides["tuned"].feedback) == ("Names one.", "Terse.")
    assert (b.rating_base, b.rating_tuned, b.winner, b.source) == (1.0, None, "invalid", "none")
    assert b.sides["tuned"].raw == "I would say 5." and b.sides["tuned"].feedback is None
    ratings = verdict_blocks(judgments, resamples=100)["ratings"].model_dump()
    assert (ratings["n"], ratings["n_invalid"], ratings["mean_base"]) == (1, 1, 4.0)


@pytest.mark.slow
def test_flow_format_on_a_real_engine(tiny, real_loader, tmp_path):
    loads: list[str] = []

    def load(model, options):
        loads.append(model.ref)
        return real_loader(model, options)

    template = flow.flow_template(None, PLAIN)
    pool = EnginePool(EngineOptions(kind="hf"), load)
    judgments, timing = stage(pool, tiny, template, tmp_path, tokens=48)
    assert len(judgments) == 2 and loads == [tiny.ref] and timing.requests == 4
    for j in judgments:
        assert j.order is None and set(j.sides) == {"base", "tuned"}
        for side in j.sides.values():
            assert side.raw  # the model said something; whether it parses is the next check
            assert side.label == template.parse(side.raw)
            assert side.rating == (None if side.label is None else float(side.label))
            assert side.feedback == template.feedback(side.raw)
        valid = j.rating_base is not None and j.rating_tuned is not None
        assert (j.winner != "invalid") == valid and (j.score is not None) == valid
    lines = [json.loads(line) for line in (tmp_path / "judgments.jsonl").read_text().splitlines()]
    # every line once; a ledger holds them in the order the engine finished them
    assert sorted(line["key"] for line in lines) == sorted(j.key for j in judgments)
    again, timing = stage(pool, tiny, template, tmp_path, tokens=48)
    assert again == judgments and timing.requests == 0 and loads == [tiny.ref]
