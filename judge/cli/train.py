"""`judge train orpo`: train a tuned model with ORPO from a recipe plus command-line settings.

    judge train orpo --recipe smollm2-cpu              # a shipped recipe, by name
    judge train orpo --recipe my-recipe.yaml --max-steps 5 --output-dir /tmp/orpo
    judge train orpo --model smollm2 --dataset builtin --lora 16,32,0.05 --merge-lora
    judge train orpo --list-fields
    accelerate launch --config_file recipes/accelerate/multi_gpu.yaml -m judge train orpo \
        --recipe R.yaml
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from judge.cli.common import default_cache
from judge.errors import InputError


def parse_datasets(values: tuple[str, ...]) -> dict[str, float] | None:
    """`NAME=FRACTION` or `NAME` (all rows); an '=' not followed by a number belongs to the name."""
    if not values:
        return None
    out = {}
    for value in values:
        name, sep, tail = value.rpartition("=")
        try:
            fraction = float(tail) if sep and name else None
        except ValueError:
            fraction = None
        if fraction is None:
            out[value] = 1.0
        else:
            out[name] = fraction
    return out


def list_fields() -> None:
    from judge.train.fields import config_fields, describe, field_defaults
    from judge.train.recipe import OWN_KEYS

    defaults = field_defaults()
    click.echo("recipe keys: " + ", ".join(sorted(OWN_KEYS)))
    for name, annotation in config_fields().items():
        click.echo(f"--{name.replace('_', '-'):<40} {describe(annotation)} "
                   f"(default {defaults.get(name)!r})")


@click.group(invoke_without_command=True)
@click.pass_context
def train(ctx: click.Context) -> None:
    """Make a tuned model for `judge compare` (ORPO through trl)."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@train.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--recipe", default=None,
              help="A shipped recipe by name (smollm2-cpu, llama-3.2-1b-gpu) or a YAML file: "
              "model, datasets, dataset_splits, eval_fraction, lora and any "
              "ORPOConfig field.")
@click.option("--model", default=None,
              help="Model to tune: smollm2, a folder, a .gguf or a hub id.")
@click.option("--dataset", "datasets", multiple=True, metavar="NAME[=FRACTION]",
              help="Preference data ('builtin', a .jsonl/.json/.parquet/.csv file, or a hub id); "
              "repeat to mix. Replaces the recipe's datasets.")
@click.option("--split", "splits", multiple=True, help="Hub split(s) to read; repeatable.")
@click.option("--eval-fraction", type=click.FloatRange(0, 1, max_open=True), default=None,
              help="Share of the mixed rows held out for evaluation.")
@click.option("--lora", default=None, metavar="R,ALPHA,DROPOUT",
              help="Train a LoRA adapter (peft) instead of all weights, e.g. 16,32,0.05.")
@click.option("--merge-lora", is_flag=True, default=None,
              help="Also save the adapter merged into full weights (needed by judge compare).")
@click.option("--dtype", default=None, help="Weights dtype: auto, float32, bfloat16, float16.")
@click.option("--threads", type=click.IntRange(1), default=None, help="torch threads on CPU.")
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint in output_dir.")
@click.option("--cache-dir", default=default_cache, show_default="$JUDGE_CACHE_DIR or "
              "~/.cache/judge", help="Where converted GGUF models are kept.")
@click.option("--list-fields", "show_fields", is_flag=True,
              help="List every ORPOConfig field settable as --field-name VALUE, and exit.")
@click.argument("settings", nargs=-1, type=click.UNPROCESSED)
def orpo(recipe, model, datasets, splits, eval_fraction, lora, merge_lora, dtype, threads, resume,
         cache_dir, show_fields, settings) -> None:
    """Train with ORPO. Any ORPOConfig field is a setting: --max-steps 3 --learning-rate 8e-6.

    The output folder (output_dir) gets the model and tokenizer, training.json (recipe, versions,
    data fingerprint, final metrics) and metrics.jsonl (one line per logging step).
    """
    if show_fields:
        list_fields()
        return
    from judge.train.fields import config_fields, parse_overrides
    from judge.train.recipe import build_recipe, find_recipe, read_recipe_file
    from judge.train.run import run_orpo

    overrides = parse_overrides(settings, config_fields())
    file_values = read_recipe_file(find_recipe(recipe)) if recipe else {}
    options = {"model": model, "datasets": parse_datasets(datasets),
               "dataset_splits": list(splits) or None, "eval_fraction": eval_fraction,
               "lora": lora, "merge_lora": merge_lora, "dtype": dtype, "threads": threads}
    config = build_recipe(file_values, options, overrides, recipe or "(command line)")
    if config.merge_lora and config.lora is None:
        raise InputError("--merge-lora needs --lora R,ALPHA,DROPOUT (or lora: in the recipe)")
    record = run_orpo(config, resume, Path(cache_dir))
    if os.environ.get("RANK", "0") != "0":
        return  # under torchrun / accelerate launch, one summary is enough
    per_step = f"{record.seconds_per_step:.2f} s/step" if record.seconds_per_step else "no steps"
    loss = record.metrics.get("loss")
    click.echo(
        f"trained {record.steps_run} steps (global step {record.global_step}), {per_step}, "
        f"peak RSS {record.peak_rss_mb:.0f} MB" + (f", last loss {loss:.3f}" if loss else "")
    )
    if record.lora is not None and not record.merged:
        click.echo(f"LoRA adapter: {record.output}  (judge compare needs --merge-lora weights)")
    else:
        click.echo(f"model: {record.output}")
        click.echo(f"next:  judge compare {record.model.ref} {record.output}")
