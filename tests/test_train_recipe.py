"""Recipes and settings for `judge train orpo`: YAML files, command-line overrides, type checks.

The field table comes from the installed trl's ORPOConfig, so these tests also notice when a trl
upgrade renames a field the shipped recipes use.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import pytest
from helpers import RECIPES, device_settings
from judge.train.fields import config_class, config_fields, parse_overrides
from judge.train.recipe import LoraSpec, build_recipe, read_recipe_file
from judge.train.run import build_config, find_checkpoint

from judge.cli.train import parse_datasets
from judge.errors import InputError


@pytest.fixture(scope="module")
def fields():
    return config_fields()


def test_every_orpoconfig_field_is_settable(fields):
    """The table is trl's own ORPOConfig (imported here from trl, not through judge), and every
    field whose default is a plain value takes that value back from the command line."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # trl's notice on its experimental namespace
        from trl.experimental.orpo import ORPOConfig

    names = {f.name for f in dataclasses.fields(ORPOConfig) if f.init}
    assert set(fields) == names and config_class() is ORPOConfig
    assert {"beta", "max_length", "max_steps", "learning_rate", "output_dir"} <= names
    # "no" is YAML's false, and this field takes a bool as well as its words
    read_as = {"include_num_input_tokens_seen": False}
    plain = [f for f in dataclasses.fields(ORPOConfig) if f.init and f.default is not None
             and type(f.default) in (int, float, bool, str)]
    for f in plain:
        token = str(f.default).lower() if isinstance(f.default, bool) else str(f.default)
        got = parse_overrides([f"--{f.name.replace('_', '-')}", token], fields)
        assert got == {f.name: read_as.get(f.name, f.default)}, f.name
    assert len(plain) >= 60


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        (["--max-steps", "3"], {"max_steps": 3}),
        (["--max_steps=3"], {"max_steps": 3}),
        (["--learning-rate", "8e-6"], {"learning_rate": 8e-6}),
        (["--beta", "1"], {"beta": 1.0}),
        (["--bf16"], {"bf16": True}),
        (["--no-bf16"], {"bf16": False}),
        (["--gradient-checkpointing", "false"], {"gradient_checkpointing": False}),
        (["--max-length", "null"], {"max_length": None}),
        (["--run-name", "007"], {"run_name": "007"}),
        (["--report-to", "none"], {"report_to": "none"}),
        (["--include-for-metrics", "inputs,loss"], {"include_for_metrics": ["inputs", "loss"]}),
        (["--lr-scheduler-type", "cosine"], {"lr_scheduler_type": "cosine"}),
        (["--model-init-kwargs", "{dtype: float32}"], {"model_init_kwargs": {"dtype": "float32"}}),
        (["--warmup-steps", "-1", "--seed", "7"], {"warmup_steps": -1.0, "seed": 7}),
    ],
)
def test_command_line_settings_are_typed_from_the_field(fields, tokens, expected):
    got = parse_overrides(tokens, fields)
    assert got == expected
    assert all(type(got[k]) is type(v) for k, v in expected.items())


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        (["--max-stepz", "3"], "unknown setting 'max_stepz'.*did you mean 'max_steps'"),
        (["--max-steps", "three"], "--max-steps expects int, got three"),
        (["--learning-rate", "fast"], "--learning-rate expects float, got fast"),
        (["--bf16", "maybe"], "--bf16 expects bool or null, got maybe"),
        (["--max-steps"], "--max-steps needs a value"),
        (["3"], "unexpected argument '3'"),
    ],
)
def test_bad_command_line_settings_name_the_field(fields, tokens, message):
    with pytest.raises(InputError, match=message):
        parse_overrides(tokens, fields)


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text(text)
    return path


def test_recipe_file_then_options_then_settings(tmp_path, fields):
    path = write(tmp_path, "model: smollm2\nmax-steps: 30\nlearning_rate: 5e-6\n"
                           "datasets: {builtin: 0.5}\nlora: 8,16,0.1\neval_fraction: 0.1\n")
    recipe = build_recipe(
        read_recipe_file(path),
        {"model": "some/model", "eval_fraction": None, "lora": None},
        parse_overrides(["--max-steps", "3"], fields),
        str(path),
    )
    assert recipe.model == "some/model"  # the option wins over the file
    assert recipe.eval_fraction == 0.1  # an option left unset keeps the file's value
    assert recipe.training == {"max_steps": 3, "learning_rate": 5e-6}
    assert recipe.datasets == {"builtin": 0.5}
    assert recipe.lora == LoraSpec(r=8, alpha=16, dropout=0.1)


@pytest.mark.parametrize("name", ["smollm2-cpu.yaml", "llama-3.2-1b-gpu.yaml"])
def test_shipped_recipes_build_a_config(tmp_path, name):
    recipe = build_recipe(read_recipe_file(RECIPES / name), {}, {}, name)
    args = build_config(recipe.model_copy(update={"training": {**recipe.training,
                                                               "output_dir": str(tmp_path)}}))
    numbers = {k: v for k, v in recipe.training.items() if type(v) in (int, float)}
    assert len(numbers) >= 8
    assert {k: getattr(args, k) for k in numbers} == numbers
    assert {"use_cpu": args.use_cpu, "bf16": args.bf16} == device_settings(recipe.training)


def test_cpu_defaults_yield_to_explicit_settings(tmp_path):
    settings = {"gradient_checkpointing": True, "output_dir": str(tmp_path)}
    recipe = build_recipe({}, {}, settings, "x")
    args = build_config(recipe)
    assert args.gradient_checkpointing is True
    assert args.report_to == [] or args.report_to in ("none", ["none"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max_stepz: 3\n", "unknown setting 'max_stepz'"),
        ("max_steps: three\n", "recipe key 'max_steps' expects int"),
        ("- a\n- b\n", "must be a mapping"),
        ("model: [unclosed\n", "not valid YAML"),
        ("datasets: {builtin: 1.5}\n", "fraction for 'builtin' must be in"),
        ("eval_fraction: 1\n", "eval_fraction"),
        ("lora: {r: 8, alpha: 16, dropout: 0.1, rank: 3}\n", "lora.rank"),
        ("dtype: float8\n", "dtype: must be auto"),
        ("lr_scheduler_type: sometimes\n", "training settings:.*sometimes"),
    ],
)
def test_bad_recipes_are_input_errors(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        recipe = build_recipe(read_recipe_file(write(tmp_path, text)), {}, {}, "r.yaml")
        build_config(recipe)


def test_output_folder_rules(tmp_path):
    assert find_checkpoint(tmp_path / "new", resume=False, explicit=None) is None
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty: pass --resume"):
        find_checkpoint(tmp_path / "used", resume=False, explicit=None)
    with pytest.raises(InputError, match="no checkpoint-N folder"):
        find_checkpoint(tmp_path / "used", resume=True, explicit=None)
    (tmp_path / "used" / "checkpoint-2").mkdir()
    (tmp_path / "used" / "checkpoint-10").mkdir()
    found = find_checkpoint(tmp_path / "used", resume=True, explicit=None)
    assert found is not None and found.endswith("checkpoint-10")


def test_dataset_options():
    assert parse_datasets(()) is None
    assert parse_datasets(("builtin", "a.jsonl=0.25", "org/name:cfg@train=1")) == {
        "builtin": 1.0, "a.jsonl": 0.25, "org/name:cfg@train": 1.0,
    }
    assert parse_datasets(("odd=name.jsonl",)) == {"odd=name.jsonl": 1.0}


def test_lora_text():
    assert LoraSpec.parse("16, 32, 0.05") == LoraSpec(r=16, alpha=32, dropout=0.05)
    for bad in ("16,32", "a,b,c", "0,32,0.1", "16,32,1.5"):
        with pytest.raises(InputError, match="--lora expects R,ALPHA,DROPOUT"):
            LoraSpec.parse(bad)
