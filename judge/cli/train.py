"""`judge train orpo|dpo|sft`: train a tuned model from a recipe plus command-line settings.

    judge train orpo --recipe smollm2-cpu              # a shipped recipe, by name
    judge train dpo --recipe smollm2-dpo-cpu --max-steps 5 --output-dir /tmp/dpo
    judge train sft --model smollm2 --dataset builtin --lora 16,32,0.05 --merge-lora
    judge train orpo --recipe smollm2-cpu --judge-every 10 --judge-limit 16   # judged win rate
    judge train dpo --list-fields
    accelerate launch --config_file recipes/accelerate/multi_gpu.yaml -m judge train orpo \
        --recipe R.yaml

The three commands share every option; what differs between methods is in train/methods.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from judge.cli.common import Finite, default_cache
from judge.errors import InputError
from judge.train.fields import (
    config_class,
    config_fields,
    describe,
    field_defaults,
    parse_overrides,
)
from judge.train.recipe import OWN_KEYS, build_recipe, find_recipe, read_recipe_file

# --judge-* option -> the recipe's judge_eval key it sets
JUDGE_OPTIONS = {"judge_every": "every", "judge_prompts": "prompts", "judge_limit": "limit",
                 "judge_ref": "judge", "judge_template": "template",
                 "judge_answer_tokens": "max_new_tokens"}


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


def list_fields(method: str) -> None:
    defaults = field_defaults(method)
    click.echo("recipe keys: " + ", ".join(sorted(OWN_KEYS)))
    for name, annotation in config_fields(method).items():
        click.echo(f"--{name.replace('_', '-'):<40} {describe(annotation)} "
                   f"(default {defaults.get(name)!r})")


@click.group(invoke_without_command=True)
@click.pass_context
def train(ctx: click.Context) -> None:
    """Make a tuned model for `judge compare` (ORPO, DPO or SFT through trl)."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


def training_options(f):
    options = [
        click.option("--recipe", default=None,
                     help="A shipped recipe by name (smollm2-cpu, smollm2-dpo-cpu, "
                     "smollm2-sft-cpu, llama-3.2-1b-gpu) or a YAML file: model, datasets, "
                     "dataset_splits, eval_fraction, lora, judge_eval and any field of the "
                     "method's trl config."),
        click.option("--model", default=None,
                     help="Model to tune: smollm2, a folder, a .gguf or a hub id."),
        click.option("--dataset", "datasets", multiple=True, metavar="NAME[=FRACTION]",
                     help="Training data ('builtin', a .jsonl/.json/.parquet/.csv file, or a hub "
                     "id); repeat to mix. Replaces the recipe's datasets."),
        click.option("--split", "splits", multiple=True, help="Hub split(s) to read; repeatable."),
        click.option("--eval-fraction", type=Finite(0, 1, max_open=True), default=None,
                     help="Share of the mixed rows held out for evaluation."),
        click.option("--lora", default=None, metavar="R,ALPHA,DROPOUT",
                     help="Train a LoRA adapter (peft) instead of all weights, e.g. 16,32,0.05."),
        click.option("--merge-lora", is_flag=True, default=None,
                     help="Also save the adapter merged into full weights (judge compare needs "
                     "them)."),
        click.option("--dtype", default=None,
                     help="Weights dtype: auto, float32, bfloat16, float16."),
        click.option("--threads", type=click.IntRange(1), default=None,
                     help="torch threads on CPU."),
        click.option("--resume", is_flag=True,
                     help="Continue from the last checkpoint in output_dir."),
        click.option("--judge-every", type=click.IntRange(1), default=None, metavar="N",
                     help="Every N steps and at the last, judge the model's answers against "
                     "the base's in both orders and log eval_judge_win_rate with its interval."),
        click.option("--judge-prompts", default=None,
                     help="Prompts for --judge-every, as judge compare's --prompts takes them "
                     "(default builtin)."),
        click.option("--judge-limit", type=click.IntRange(1), default=None,
                     help="Only the first N of --judge-prompts."),
        click.option("--judge", "judge_ref", default=None,
                     help="Judge model for --judge-every (default smollm2), loaded once with "
                     "the transformers engine."),
        click.option("--judge-template", default=None,
                     help="Judge template for --judge-every (default pairwise)."),
        click.option("--judge-answer-tokens", type=click.IntRange(1), default=None,
                     help="Answer length budget for --judge-every (default 256)."),
        click.option("--cache-dir", default=default_cache, show_default="$JUDGE_CACHE_DIR or "
                     "~/.cache/judge", help="Where converted GGUF models are kept."),
        click.option("--list-fields", "show_fields", is_flag=True,
                     help="List every field of the method's trl config, settable as "
                     "--field-name VALUE, and exit."),
        click.argument("settings", nargs=-1, type=click.UNPROCESSED),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def judge_eval_options(values: dict, file_values: dict) -> dict | None:
    """The --judge-* options as a partial judge_eval mapping; they need N from somewhere."""
    given = {JUDGE_OPTIONS[k]: v for k, v in values.items() if v is not None}
    recipe_eval = file_values.get("judge_eval")
    has_every = "every" in given or (isinstance(recipe_eval, dict) and "every" in recipe_eval)
    if given and not has_every:
        named = ", ".join(f"--{k.replace('_ref', '').replace('_', '-')}"
                          for k, v in values.items() if v is not None)
        raise InputError(f"{named} needs --judge-every N (or judge_eval: {{every: N}} in the "
                         "recipe)")
    return given or None


def run(method: str, recipe, model, datasets, splits, eval_fraction, lora, merge_lora, dtype,
        threads, resume, cache_dir, show_fields, settings, judge) -> None:
    if show_fields:
        list_fields(method)
        return

    overrides = parse_overrides(settings, config_fields(method), config_class(method).__name__)
    file_values = read_recipe_file(find_recipe(recipe)) if recipe else {}
    options = {"model": model, "datasets": parse_datasets(datasets),
               "dataset_splits": list(splits) or None, "eval_fraction": eval_fraction,
               "lora": lora, "merge_lora": merge_lora, "dtype": dtype, "threads": threads,
               "judge_eval": judge_eval_options(judge, file_values)}
    config = build_recipe(file_values, options, overrides, recipe or "(command line)", method)
    if config.merge_lora and config.lora is None:
        raise InputError("--merge-lora needs --lora R,ALPHA,DROPOUT (or lora: in the recipe)")
    # judge.train.run imports transformers and torch (seconds): only a training pays for them
    from judge.train.run import run_training

    record = run_training(config, resume, Path(cache_dir))
    if os.environ.get("RANK", "0") != "0":
        return  # under torchrun / accelerate launch, one summary is enough
    per_step = f"{record.seconds_per_step:.2f} s/step" if record.seconds_per_step else "no steps"
    loss = record.metrics.get("loss")
    click.echo(
        f"trained {record.steps_run} steps (global step {record.global_step}), {per_step}, "
        f"peak RSS {record.peak_rss_mb:.0f} MB" + (f", last loss {loss:.3f}" if loss else "")
    )
    rate = record.judged.get("eval_judge_win_rate")
    if rate is not None:
        judged = record.judged
        click.echo(f"judged win rate vs base at step {record.global_step}: {rate:.1%} "
                   f"[{judged['eval_judge_win_rate_low']:.1%}, "
                   f"{judged['eval_judge_win_rate_high']:.1%}] over "
                   f"{judged['eval_judge_n']:.0f} prompts")
    if record.lora is not None and not record.merged:
        click.echo(f"LoRA adapter: {record.output}  (judge compare needs --merge-lora weights)")
    else:
        click.echo(f"model: {record.output}")
        click.echo(f"next:  judge compare {record.model.ref} {record.output}")


def method_command(method: str, summary: str, details: str) -> click.Command:
    @training_options
    def command(**values) -> None:
        judge = {k: values.pop(k) for k in JUDGE_OPTIONS}
        run(method, judge=judge, **values)

    command.__doc__ = f"{summary}\n\n{details}"
    context = {"ignore_unknown_options": True, "allow_extra_args": True}
    return click.command(method, context_settings=context)(command)


OUTPUTS = ("The output folder (output_dir) gets the model and tokenizer, training.json (recipe, "
           "versions, data fingerprint, final metrics) and metrics.jsonl (one line per logging "
           "step).")
orpo = method_command(
    "orpo", "Train with ORPO. Any ORPOConfig field is a setting: --max-steps 3 --beta 0.1.",
    OUTPUTS)
dpo = method_command(
    "dpo", "Train with DPO. Any DPOConfig field is a setting: --max-steps 3 --beta 0.1.",
    "Preference rows as for orpo. The reference model is trl's: with --lora, the same weights "
    "with the adapter off; otherwise a frozen copy of the model. " + OUTPUTS)
sft = method_command(
    "sft", "Train with SFT. Any SFTConfig field is a setting: --max-steps 3 --max-length 512.",
    "Trains on the chosen answer of preference rows, or on messages / prompt+completion rows; "
    "the loss is on the completion only. " + OUTPUTS)
for each in (orpo, dpo, sft):
    train.add_command(each)
