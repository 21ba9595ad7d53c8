"""The real engines on the bundled SmolLM2: vLLM (in-process, CPU build here) and transformers.

The bundled model, not the tiny one: these check what a real instruct model answers (Paris),
that the two engines agree greedily and on label probabilities, and vLLM reads the labels from
its top 20 log-probs, where only a real judge puts them.
"""

from __future__ import annotations

import json

import pytest

from judge.engines import EngineOptions
from judge.pipeline.compare import CompareConfig, run_compare
from judge.records import Message, SamplingParams
from judge.templates.template import load_template

pytestmark = pytest.mark.slow
KINDS = ["vllm", "hf"]
CHATS = [[Message(role="user", content="What is the capital of France?")],
         [Message(role="user", content="Write one word that rhymes with cat.")]]


@pytest.mark.parametrize("kind", KINDS)
def test_generate_returns_text_within_budget(engines, kind):
    done = engines(kind).generate(CHATS, SamplingParams(max_new_tokens=16))
    assert len(done) == 2
    assert all(c.text and 0 < c.tokens <= 16 for c in done)
    assert "Paris" in done[0].text


def test_greedy_answers_agree_across_engines(engines):
    params = SamplingParams(max_new_tokens=12)
    vllm = engines("vllm").generate(CHATS[:1], params)[0].text
    hf = engines("hf").generate(CHATS[:1], params)[0].text
    assert vllm.split()[:5] == hf.split()[:5]


@pytest.mark.parametrize("kind", KINDS)
def test_label_probabilities_cover_the_declared_labels(engines, kind):
    template = load_template("pairwise")
    chat = template.render(instruction="Capital of France?", answer_a="Paris.", answer_b="Rome.")
    (probs,) = engines(kind).label_probs([chat], template.labels)
    assert set(probs) == {"A", "B", "tie"}
    assert sum(probs.values()) == pytest.approx(1.0)
    assert all(0.0 <= p <= 1.0 for p in probs.values())


def test_label_probabilities_agree_across_engines(engines):
    template = load_template("pairwise")
    chat = template.render(instruction="2+2?", answer_a="5", answer_b="4")
    (v,) = engines("vllm").label_probs([chat], template.labels)
    (h,) = engines("hf").label_probs([chat], template.labels)
    assert set(v) == set(h) == {"A", "B", "tie"}
    for label in h:
        assert v[label] == pytest.approx(h[label], abs=0.02), label


def test_vllm_on_cpu_keeps_kv_blocks_of_32(engines):
    """Chosen by bench/block_size.py: 128-token blocks never let the two orders share a block."""
    from judge.engines import is_cuda

    if is_cuda():
        pytest.skip("GPUs keep vLLM's own default block size")
    assert engines("vllm").llm.llm_engine.vllm_config.cache_config.block_size == 32


def test_compare_end_to_end_on_vllm(real_loader, cache_dir, tmp_path):
    """The session's vLLM engine, which is the bundled model's (tests/conftest.py)."""
    config = CompareConfig(base="smollm2", tuned="smollm2", limit=2, max_new_tokens=24,
                           temperature=0.8, out=str(tmp_path / "run"), cache_dir=str(cache_dir),
                           engine=EngineOptions(kind="vllm"), bootstrap=200)
    summary = run_compare(config, lambda name, total: lambda done, tokens: None,
                          real_loader).as_json()
    pw = summary["pairwise"]
    assert pw["n"] + pw["n_invalid"] >= 2 and pw["n"] >= 1
    assert pw["ci"]["low"] <= pw["discrete_win_rate"] <= pw["ci"]["high"]
    assert summary["timing"]["judge"]["tokens"] > 0
    sources = summary["verdict_sources"]
    # structured verdicts are on by default on vLLM: every reply is one of the labels
    assert sources == {"text": 4} and pw["n_invalid"] == 0
    (ledger,) = (tmp_path / "run" / "judgments").glob("*.jsonl")
    assert all(json.loads(line)["constrained"] for line in ledger.read_text().splitlines())
