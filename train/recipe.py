"""Recipes: one flat YAML file with the model, the data mix and any field of the method's config.

    method: orpo                    # optional; when given, `judge train METHOD` must match it
    model: smollm2                  # judge model reference: alias, folder, .gguf or hub id
    datasets: {builtin: 1.0}        # name or path -> fraction of its rows to use
    dataset_splits: [train]         # hub splits to read (a local file is one split)
    eval_fraction: 0.1              # held out from the mix for evaluation
    lora: 16,32,0.05                # or {r: 16, alpha: 32, dropout: 0.05, target_modules: [...]}
    judge_eval: {every: 10, limit: 16}   # a judged win rate during training (JudgedEval below)
    max_steps: 30                   # ... and any other ORPOConfig / DPOConfig / SFTConfig field

Keys may be spelled with dashes or underscores. Command-line settings override the file. Which
config fields exist depends on the method: a DPO recipe is checked against DPOConfig.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator

from judge.errors import InputError
from judge.files import read_text
from judge.records import Record
from judge.resources import resource, shipped_files

from .fields import coerce, config_class, config_fields, unknown
from .methods import MethodName, method


class LoraSpec(Record):
    r: int = Field(gt=0)
    alpha: int = Field(gt=0)  # peft's lora_alpha is an int
    dropout: float = Field(ge=0, lt=1)
    target_modules: str | list[str] = "all-linear"

    @classmethod
    def parse(cls, text: str) -> LoraSpec:
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 3:
            raise InputError(f"--lora expects R,ALPHA,DROPOUT (e.g. 16,32,0.05), got '{text}'")
        try:
            return cls(r=int(parts[0]), alpha=int(parts[1]), dropout=float(parts[2]))
        except (ValueError, ValidationError):
            raise InputError(
                f"--lora expects R,ALPHA,DROPOUT (e.g. 16,32,0.05), got '{text}'"
            ) from None


class JudgedEval(Record):
    """A judged win rate during training: every `every` steps (and at the last) the policy answers
    the prompts, `judge` compares each answer with the base's in both orders, and the trainer logs
    the win rate with its interval. Prompts, limit and template mean what `judge compare` means."""

    every: int = Field(gt=0)
    prompts: str = "builtin"
    prompt_column: str | None = None
    limit: int | None = Field(default=None, gt=0)
    judge: str = "smollm2"
    template: str = "pairwise"
    verdict: Literal["text", "logprob", "both"] = "both"
    max_new_tokens: int = Field(default=256, gt=0)  # each answer's budget, compare's default
    judge_max_new_tokens: int = Field(default=48, gt=0)
    batch_size: int = Field(default=8, gt=0)  # prompts per generate call on the training model
    confidence: float = Field(default=0.95, gt=0, lt=1)


class Recipe(Record):
    """Everything one training run needs; `training` holds typed values of the method's config."""

    method: MethodName = "orpo"
    model: str = "smollm2"
    datasets: dict[str, float] = Field(default_factory=lambda: {"builtin": 1.0}, min_length=1)
    dataset_splits: list[str] = Field(default_factory=lambda: ["train"], min_length=1)
    eval_fraction: float = Field(default=0.0, ge=0, lt=1)
    lora: LoraSpec | None = None
    merge_lora: bool = False
    dtype: str = "auto"
    threads: int = Field(default=1, ge=1)
    judge_eval: JudgedEval | None = None
    training: dict[str, Any] = Field(default_factory=dict)

    @field_validator("lora", mode="before")
    @classmethod
    def _lora_text(cls, value: Any) -> Any:
        return LoraSpec.parse(value) if isinstance(value, str) else value

    @field_validator("datasets")
    @classmethod
    def _fractions(cls, value: dict[str, float]) -> dict[str, float]:
        for name, fraction in value.items():
            if not 0 < fraction <= 1:
                raise ValueError(f"fraction for '{name}' must be in (0, 1], got {fraction}")
        return value

    @field_validator("dtype")
    @classmethod
    def _dtype(cls, value: str) -> str:
        if value not in ("auto", "float32", "bfloat16", "float16"):
            raise ValueError("must be auto, float32, bfloat16 or float16")
        return value


OWN_KEYS = set(Recipe.model_fields) - {"training"}
RECIPE_BYTES = 1 << 20  # a recipe is a page of settings


def shipped_recipes() -> dict[str, Path]:
    """The recipes that come with judge (the repo's recipes/ folder), by name."""
    return shipped_files("judge.train.recipes", ".yaml", recursive=False)


def find_recipe(ref: str) -> Path:
    """A recipe file given by path, or a shipped recipe given by name (`smollm2-cpu`)."""
    return find_yaml(ref, shipped_recipes(), "recipe")


def find_accelerate_config(ref: str) -> Path:
    """An accelerate config given by path, or a shipped one by name (`multi_gpu`,
    `deepspeed_zero3`: recipes/accelerate/ travels in the wheel)."""
    folder = resource("judge.train.recipes", "accelerate")  # data only: a namespace package
    return find_yaml(ref, {p.stem: p for p in sorted(folder.glob("*.yaml"))},
                     "--accelerate-config")


def find_yaml(ref: str, shipped: dict[str, Path], what: str) -> Path:
    """`ref` as an existing file, else as the name (no suffix) of one of `shipped`."""
    path = Path(ref).expanduser()
    if path.is_file():
        return path
    if ref in shipped and path.suffix == "":
        return shipped[ref]
    raise InputError(f"{what} {ref} does not exist (shipped: {', '.join(sorted(shipped))}; "
                     "or give a YAML file)")


def read_recipe_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(read_text(path, "recipe", RECIPE_BYTES))
    except RecursionError:
        raise InputError(f"recipe {path} nests too deeply") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InputError(f"recipe {path} is not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise InputError(f"recipe {path} must be a mapping of settings, not a {kind}")
    return {str(key).replace("-", "_"): value for key, value in data.items()}


def build_recipe(
    file_values: dict[str, Any], options: dict[str, Any], overrides: dict[str, Any], origin: str,
    method_name: str = "orpo",
) -> Recipe:
    """Merge file values, explicit CLI options and typed config overrides (later wins).

    The file's keys are checked against `method_name`'s config class; options["judge_eval"], a
    partial mapping, is merged into the file's judge_eval rather than replacing it."""
    config = config_class(method_name).__name__
    declared = file_values.get("method", method_name)
    if declared != method_name:
        method(str(declared))  # an unknown name says so first
        raise InputError(f"recipe {origin} is a {declared} recipe (method: {declared}): "
                         f"run it with `judge train {declared}`")
    fields = config_fields(method_name)
    own: dict[str, Any] = {}
    training: dict[str, Any] = {}
    for key, value in file_values.items():
        if key in OWN_KEYS:
            own[key] = value
        elif key in fields:
            training[key] = coerce(key, fields[key], value, None, f"recipe key '{key}'")
        else:
            raise unknown(key, OWN_KEYS | set(fields), f"recipe {origin}", config)
    options = dict(options)
    judge_options = {k: v for k, v in (options.pop("judge_eval", None) or {}).items()
                     if v is not None}
    own.update({key: value for key, value in options.items() if value is not None})
    if judge_options:
        given = own.get("judge_eval")
        own["judge_eval"] = {**(given if isinstance(given, dict) else {}), **judge_options}
    own["method"] = method_name
    training.update(overrides)
    try:
        return Recipe(**own, training=training)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "recipe"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InputError(f"recipe {origin}: {where}: {message}") from None
