"""Real ORPO on the tiny model with the shipped recipe and preference set, on CPU. Two runs in all:

1. all weights, 3 steps, interrupted after step 2 and finished with --resume; the folder must be a
   model that `judge compare` accepts and that generates through judge's transformers engine;
2. LoRA with --merge-lora, 2 steps: adapter and merged weights, only the adapted layers moved.
"""

from __future__ import annotations

import json

import pytest
from helpers import RECIPES, SMALL, device_settings, train, weights

from judge.engines import EngineOptions, load_engine
from judge.models.refs import resolve_model
from judge.records import Message, SamplingParams

pytestmark = pytest.mark.slow
RECIPE = RECIPES / "smollm2-cpu.yaml"


@pytest.fixture(scope="module")
def full_run(module_tmp, cache_dir, tiny):
    out = module_tmp / "tuned"
    common = ["--recipe", str(RECIPE), "--model", tiny.ref, "--output-dir", str(out), *SMALL]
    first = train(cache_dir, "orpo", *common, "--max-steps", "2", "--save-steps", "2")
    second = train(cache_dir, "orpo", *common, "--max-steps", "3", "--save-steps", "2", "--resume")
    return out, first, second


def test_resume_continues_from_the_last_checkpoint(full_run):
    out, first, second = full_run
    assert (first["global_step"], first["steps_run"], first["resumed_from"]) == (2, 2, None)
    assert second["resumed_from"].endswith("checkpoint-2")
    assert (second["global_step"], second["steps_run"]) == (3, 1)
    steps = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    logged = [row["step"] for row in steps if "loss" in row]
    assert logged == [1, 2, 3]  # appended across both invocations, nothing twice
    for row in steps:
        if "loss" in row:
            for key in ("nll_loss", "log_odds_ratio", "rewards/accuracies", "rewards/margins"):
                assert isinstance(row[key], float), key


def test_training_record(full_run, tiny):
    out, _, record = full_run
    assert record["schema"] == "judge.training/1"
    assert record["model"]["fingerprint"] == tiny.fingerprint
    assert record["recipe"]["training"]["max_steps"] == 3
    assert record["orpo_config"]["max_length"] == 128
    config = record["orpo_config"]
    assert {k: config[k] for k in ("use_cpu", "bf16")} == device_settings(
        record["recipe"]["training"])
    assert {"trl", "transformers", "torch", "peft"} <= set(record["versions"])
    data = record["data"]
    assert data["train_rows"] + data["eval_rows"] == data["sources"][0]["available"] >= 64
    assert data["eval_rows"] > 0 and len(data["fingerprint"]) == 16
    assert record["metrics"]["loss"] > 0 and "eval_loss" in record["eval_metrics"]
    assert record["seconds_per_step"] > 0 and record["peak_rss_mb"] > 0


def test_weights_changed_and_the_folder_is_a_tuned_model(full_run, tiny, cache_dir):
    out, _, _ = full_run
    before, after = weights(tiny.path), weights(out)
    assert before.keys() == after.keys()
    changed = [name for name in before if not before[name].equal(after[name])]
    assert len(changed) > len(before) // 2

    tuned = resolve_model(str(out), cache_dir)  # what `judge compare BASE OUT` does with OUT
    engine = load_engine(tuned, EngineOptions(kind="hf"))
    try:
        assert engine.tokenizer.chat_template
        chat = [Message(role="user", content="Name a primary colour.")]
        (completion,) = engine.generate([chat], SamplingParams(max_new_tokens=12))
    finally:
        engine.close()
    assert completion.tokens > 0 and completion.text.strip()


def test_lora_merge(tmp_path, cache_dir, tiny):
    out = tmp_path / "lora"
    record = train(
        cache_dir, "orpo", "--model", tiny.ref, "--dataset", "builtin=0.5", "--lora", "4,8,0.0",
        "--merge-lora", "--output-dir", str(out), "--max-steps", "2", "--learning-rate", "1e-3",
        "--per-device-train-batch-size", "2", "--save-strategy", "no", *SMALL,
    )
    assert record["lora"] == {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": "all-linear"}
    (source,) = record["data"]["sources"]
    assert record["merged"] is True and source["fraction"] == 0.5
    assert record["data"]["train_rows"] == source["used"] == round(source["available"] / 2)
    assert (out / "adapter" / "adapter_config.json").is_file()
    assert (out / "config.json").is_file() and (out / "chat_template.jinja").is_file()
    before, after = weights(tiny.path), weights(out)
    moved = {name for name in before if not before[name].equal(after[name])}
    assert any("q_proj" in name for name in moved) and any("down_proj" in name for name in moved)
    assert not any("embed_tokens" in name or "norm" in name for name in moved)
