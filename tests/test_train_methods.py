"""ORPO, DPO and SFT side by side, without a model: each method's config class, its recipes, its
rows, and training.json read back across versions. (Real DPO and SFT steps:
test_train_dpo_sft.py.)
"""

from __future__ import annotations

import dataclasses
import json
import re
import warnings

import pytest
from helpers import RECIPES, device_settings
from judge.train.data import mix, normalise_sft
from judge.train.fields import config_class, config_fields
from judge.train.methods import METHODS, method
from judge.train.outputs import TrainingRecord, read_record, write_record
from judge.train.recipe import build_recipe, find_recipe, read_recipe_file
from judge.train.run import build_config

from judge.cli.train import judge_eval_options
from judge.errors import InputError
from judge.pipeline.demo import trained


def test_each_method_is_trls_own_trainer_and_config():
    import trl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # trl's notice on its experimental namespace
        from trl.experimental.orpo import ORPOConfig, ORPOTrainer

    assert set(METHODS) == {"orpo", "dpo", "sft"}
    pairs = {name: (m.config_class(), m.trainer_class()) for name, m in METHODS.items()}
    assert pairs == {"orpo": (ORPOConfig, ORPOTrainer), "dpo": (trl.DPOConfig, trl.DPOTrainer),
                     "sft": (trl.SFTConfig, trl.SFTTrainer)}
    with pytest.raises(InputError, match="unknown training method 'kto'"):
        method("kto")


def test_fields_come_from_the_methods_config_class():
    for name in METHODS:
        names = {f.name for f in dataclasses.fields(config_class(name)) if f.init}
        assert set(config_fields(name)) == names
    assert "max_completion_length" in config_fields("orpo")
    assert "max_completion_length" not in config_fields("dpo")  # ORPO's own
    assert {"loss_type", "precompute_ref_log_probs"} <= set(config_fields("dpo"))
    assert "beta" not in config_fields("sft") and "completion_only_loss" in config_fields("sft")
    assert config_fields() == config_fields("orpo")  # the default, as before DPO and SFT


@pytest.mark.parametrize(("name", "kind"), [("smollm2-dpo-cpu", "dpo"), ("smollm2-sft-cpu", "sft")])
def test_shipped_method_recipes_build_their_own_config(tmp_path, name, kind):
    recipe = build_recipe(read_recipe_file(find_recipe(name)), {}, {}, name, kind)
    assert recipe.method == kind
    args = build_config(recipe.model_copy(update={"training": {**recipe.training,
                                                               "output_dir": str(tmp_path)}}))
    assert type(args) is config_class(kind)
    numbers = {k: v for k, v in recipe.training.items() if type(v) in (int, float)}
    assert len(numbers) >= 8 and {k: getattr(args, k) for k in numbers} == numbers
    assert {"use_cpu": args.use_cpu, "bf16": args.bf16} == device_settings(recipe.training)
    assert args.remove_unused_columns is True  # trl's own default; only ORPO needs every column


def test_the_orpo_recipe_runs_as_dpo_and_its_default_folder_names_the_method():
    values = read_recipe_file(RECIPES / "smollm2-cpu.yaml")
    values.pop("output_dir")
    args = build_config(build_recipe(values, {}, {}, "smollm2-cpu", "dpo"))
    assert type(args).__name__ == "DPOConfig" and args.beta == 0.1
    assert args.output_dir == "results/smollm2-dpo"


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("max_completion_length: 64\n", "dpo",
         "unknown setting 'max_completion_length' (not a recipe key or DPOConfig field"),
        ("beta: 0.1\n", "sft", "unknown setting 'beta' (not a recipe key or SFTConfig field"),
        ("loss_type: [sigmoid]\n", "orpo", "ORPOConfig field"),
        ("method: dpo\n", "orpo", "is a dpo recipe (method: dpo): run it with `judge train dpo`"),
        ("method: kto\n", "orpo", "unknown training method 'kto'"),
        ("judge_eval: {every: 0}\n", "orpo", "judge_eval.every"),
        ("judge_eval: {every: 2, prompt: x}\n", "orpo", "judge_eval.prompt"),
    ],
)
def test_a_recipe_is_checked_against_its_methods_config(tmp_path, text, kind, message):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=re.escape(message)):
        build_recipe(read_recipe_file(path), {}, {}, "r.yaml", kind)


def test_judge_options_merge_into_the_recipes_judge_eval():
    file_values = {"judge_eval": {"every": 5, "prompts": "p.jsonl", "limit": 8}}
    values = {"judge_every": None, "judge_prompts": None, "judge_limit": 4, "judge_ref": None,
              "judge_template": None, "judge_answer_tokens": None}
    given = judge_eval_options(values, file_values)
    recipe = build_recipe(file_values, {"judge_eval": given}, {}, "r", "orpo")
    assert recipe.judge_eval is not None
    assert (recipe.judge_eval.every, recipe.judge_eval.prompts, recipe.judge_eval.limit) == \
        (5, "p.jsonl", 4)  # the option wins, the rest stays the recipe's
    assert build_recipe({}, {"judge_eval": None}, {}, "r", "orpo").judge_eval is None
    with pytest.raises(InputError, match="--judge-limit, --judge needs --judge-every N"):
        judge_eval_options({**values, "judge_ref": "smollm2"}, {})


def test_sft_rows_from_every_shape():
    user = {"role": "user", "content": "q?"}
    answer = {"role": "assistant", "content": "a."}
    want = {"prompt": [user], "completion": [answer]}
    assert normalise_sft({"prompt": "q?", "chosen": "a.", "rejected": "no."}, "x") == want
    assert normalise_sft({"chosen": [user, answer], "rejected": [user, answer]}, "x") == want
    assert normalise_sft({"prompt": "q?", "completion": "a."}, "x") == want
    assert normalise_sft({"messages": [user, answer]}, "x") == want
    system = {"role": "system", "content": "Be brief."}
    long = [system, user, answer, {"role": "user", "content": "more?"}, answer]
    assert normalise_sft({"messages": long}, "x") == {"prompt": long[:-1], "completion": [answer]}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"prompt": "q", "answer": "a"}, "no column 'messages', 'completion' or 'chosen'"),
        ({"messages": [{"role": "user", "content": "q"}]}, "must end with an assistant turn"),
        ({"chosen": "a"}, "no column 'prompt'"),
        ({"prompt": "q", "completion": ""}, "'completion' is empty"),
    ],
)
def test_a_bad_sft_row_names_the_problem(row, message):
    with pytest.raises(InputError, match=message):
        normalise_sft(row, "dataset d.jsonl row 1")


def test_the_mixer_shapes_rows_for_the_method():
    train, held_out, summary = mix({"builtin": 1.0}, ["train"], 0.1, 0, normalise_sft)
    assert all(set(row) == {"prompt", "completion"} for row in train + held_out)
    preference, _, same_rows = mix({"builtin": 1.0}, ["train"], 0.1, 0)
    # the same rows, in the same order, kept and held out alike: SFT reads the chosen side
    assert [r["completion"] for r in train] == [r["chosen"] for r in preference]
    assert summary.train_rows == same_rows.train_rows
    assert summary.fingerprint != same_rows.fingerprint  # the rows trained on differ


def record(method_name: str = "orpo", **extra) -> TrainingRecord:
    return TrainingRecord.model_validate({
        "method": method_name, "model": {"ref": "smollm2", "path": "/m", "fingerprint": "f",
                                         "dtype": "float32"},
        "output": "/out", "recipe": {}, f"{method_name}_config": {"max_steps": 2},
        "versions": {}, "data": {"fingerprint": "d", "train_rows": 1, "eval_rows": 0,
                                 "sources": []},
        "device": "cpu", "lora": None, "merged": False, "resumed_from": None, "global_step": 2,
        "steps_run": 2, "seconds": 1.0, "seconds_per_step": 0.5, "peak_rss_mb": 1.0,
        "peak_gpu_mb": None, "metrics": {}, "eval_metrics": {}, **extra,
    })


def test_training_json_keeps_its_old_shape_and_old_files_still_read(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    write_record(record("orpo"), tmp_path)
    written = json.loads((tmp_path / "training.json").read_text())
    assert "dpo_config" not in written and "sft_config" not in written
    assert list(written)[:6] == ["schema", "method", "model", "output", "recipe", "orpo_config"]
    assert trained(tmp_path, 2)  # the demo's check reads orpo_config, as it did

    # a record written before DPO and SFT: no method, reference or judged keys
    old = {k: v for k, v in written.items() if k not in ("method", "reference", "judged")}
    (tmp_path / "training.json").write_text(json.dumps(old))
    again = read_record(tmp_path)
    assert again.method == "orpo" and again.config == {"max_steps": 2} and again.judged == {}
    assert trained(tmp_path, 2)

    assert again.complete  # 2 of max_steps 2, read from the config as no planned_steps is on file
    assert not record(planned_steps=3).complete and record(planned_steps=2).complete

    write_record(record("dpo", reference="frozen copy"), tmp_path)
    dpo = read_record(tmp_path)
    assert (dpo.method, dpo.reference, dpo.config) == ("dpo", "frozen copy", {"max_steps": 2})
    assert not trained(tmp_path, 2)  # the ORPO demo does not take a DPO model for its own


def test_a_record_holds_the_config_of_its_own_method(tmp_path):
    with pytest.raises(ValueError, match="a dpo record holds dpo_config alone"):
        record("dpo", orpo_config={"max_steps": 2})
    (tmp_path / "training.json").write_text('{"schema": "judge.training/1"}')
    with pytest.raises(InputError, match="does not fit training.json"):
        read_record(tmp_path)
    with pytest.raises(InputError, match="cannot be read"):
        read_record(tmp_path / "nowhere")
