"""Real DPO and SFT steps on the tiny model with the shipped recipes and preference set, on CPU:

1. DPO, all weights, 2 steps then --resume to 3: weights move, trl's frozen reference copy;
2. SFT, 2 steps with a judged evaluation at step 2: weights move, the judged line sits beside an
   intact training line (trl's SFT log merges metrics by the model's mode);
3. the reference model as trl builds it: a LoRA DPO trainer holds one model, a full one two.
"""

from __future__ import annotations

import gc

import pytest
from helpers import SMALL, metric_lines, moved, train
from judge.train.data import mix
from judge.train.methods import method
from judge.train.outputs import StepLog, read_record
from judge.train.recipe import LoraSpec, build_recipe, find_recipe, read_recipe_file
from judge.train.run import build_config, load_model, make_trainer

pytestmark = pytest.mark.slow


def test_dpo_trains_resumes_and_records_its_reference(tmp_path, cache_dir, tiny):
    out = tmp_path / "dpo"
    common = ["--recipe", "smollm2-dpo-cpu", "--model", tiny.ref, "--output-dir", str(out),
              "--save-steps", "2", *SMALL]
    first = train(cache_dir, "dpo", *common, "--max-steps", "2")
    second = train(cache_dir, "dpo", *common, "--max-steps", "3", "--resume")
    assert (first["global_step"], first["steps_run"], first["resumed_from"]) == (2, 2, None)
    assert second["resumed_from"].endswith("checkpoint-2")
    assert (second["global_step"], second["steps_run"]) == (3, 1)
    assert second["method"] == "dpo" and second["reference"] == "frozen copy"
    assert "orpo_config" not in second and second["dpo_config"]["loss_type"] == ["sigmoid"]
    assert second["dpo_config"]["max_length"] == 128 and second["recipe"]["method"] == "dpo"
    assert read_record(out).config["max_steps"] == 3
    steps = [row for row in metric_lines(out) if "loss" in row]
    assert [row["step"] for row in steps] == [1, 2, 3]  # across both runs, nothing twice
    for row in steps:
        for key in ("rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected"):
            assert isinstance(row[key], float), key
    assert "eval_loss" in second["eval_metrics"]
    changed, total = moved(tiny.path, out)
    assert changed > total // 2


def test_sft_trains_on_the_chosen_answers_with_a_judged_step(tmp_path, cache_dir, tiny):
    out = tmp_path / "sft"
    record = train(cache_dir, "sft", "--recipe", "smollm2-sft-cpu", "--model", tiny.ref,
                   "--output-dir", str(out), "--max-steps", "2", "--save-strategy", "no", *SMALL,
                   "--judge-every", "2", "--judge-limit", "2", "--judge-answer-tokens", "16",
                   "--judge", tiny.ref)
    assert record["method"] == "sft" and record["reference"] is None
    assert record["sft_config"]["completion_only_loss"] is None  # trl: on for prompt/completion
    assert record["data"]["train_rows"] + record["data"]["eval_rows"] == 75
    at_two = [row for row in metric_lines(out) if row["step"] == 2]
    judged = [row for row in at_two if "eval_judge_n" in row]
    trained = [row for row in at_two if "loss" in row]
    assert len(judged) == 1 and len(trained) == 1
    # the judged line took none of the step's training metrics, and the training line has all
    assert not any(key in judged[0] for key in ("loss", "mean_token_accuracy", "entropy"))
    assert isinstance(trained[0]["mean_token_accuracy"], float)
    assert isinstance(trained[0]["entropy"], float)
    assert {"eval_judge_win_rate", "eval_judge_n", "eval_judge_invalid"} <= set(judged[0])
    assert judged[0]["eval_judge_n"] <= 2
    assert record["judged"]["eval_judge_runtime"] > 0
    changed, total = moved(tiny.path, out)
    assert changed > total // 2


def causal_models() -> int:
    """Loaded causal LMs (each holds a full set of weights) alive in this process."""
    from transformers import PreTrainedModel

    gc.collect()
    return sum(issubclass(type(o), PreTrainedModel) and type(o).__name__.endswith("ForCausalLM")
               for o in gc.get_objects())


def dpo_trainer(tmp_path, model, lora: LoraSpec | None):
    values = read_recipe_file(find_recipe("smollm2-dpo-cpu"))
    recipe = build_recipe(values, {}, {"output_dir": str(tmp_path), "max_steps": 1,
                                       "max_length": 96, "save_strategy": "no"}, "r", "dpo")
    args = build_config(recipe)
    how = method("dpo")
    train_rows, _, _ = mix(recipe.datasets, recipe.dataset_splits, 0.0, 0, how.shape)
    tokenizer, net = load_model(model.model_copy(update={"dtype": "float32"}), args)
    log = StepLog(tmp_path / "metrics.jsonl")
    return make_trainer(how, net, tokenizer, args, train_rows[:4], [], lora, [log])


def test_lora_dpo_holds_one_model_and_full_dpo_a_frozen_copy(tmp_path, tiny):
    before = causal_models()
    trainer = dpo_trainer(tmp_path / "lora", tiny, LoraSpec(r=4, alpha=8, dropout=0.0))
    assert causal_models() - before == 1  # the model being trained and nothing else
    assert trainer.ref_model is None and method("dpo").reference(trainer) == "adapter disabled"
    trainer.train()  # the reference pass runs with the adapter off
    (row,) = [r for r in trainer.state.log_history if "loss" in r]
    assert row["loss"] == pytest.approx(0.6931, abs=1e-3)  # step 1: policy == reference, ln 2
    assert causal_models() - before == 1
    del trainer
    gc.collect()

    before = causal_models()
    full = dpo_trainer(tmp_path / "full", tiny, None)
    assert causal_models() - before == 2  # trl loaded a second copy from the model's path
    assert method("dpo").reference(full) == "frozen copy"
    assert full.ref_model is not full.model
