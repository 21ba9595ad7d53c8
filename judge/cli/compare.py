"""`judge compare BASE TUNED`: the options of one comparison, handed to judge.api.compare.

    judge compare smollm2 path/to/tuned --limit 20
    judge compare BASE TUNED --judge JUDGE --prompts prompts.jsonl --engine vllm --json
    judge compare BASE TUNED --judge J1 --judge J2@graded --judge J3      # a panel of three
"""

from __future__ import annotations

import json

import click
from rich.console import Console

from judge.api.runs import compare as run
from judge.cli.common import EXPORT, judging_options, role_engine_options, stage_progress
from judge.cli.params import OneLine, field_option
from judge.cli.settings import compare_values, config_option
from judge.cli.trackers import report_to_trackers, tracker_options
from judge.errors import InputError
from judge.pipeline.settings import CompareConfig
from judge.report import blocks
from judge.report.tables import rich_table, summary_table


@click.command()
@click.argument("base", required=False)
@click.argument("tuned", required=False)
@judging_options
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Run folder (default results/BASE-vs-TUNED). Rerunning resumes from its cache.")
@field_option(CompareConfig, "bench", default="", type=OneLine(), multiple=False,
              help=f"{CompareConfig.model_fields['bench'].description} Comma-separated.")
@field_option(CompareConfig, "bench_limit")
@field_option(CompareConfig, "num_fewshot")
@field_option(CompareConfig, "include_path")
@field_option(CompareConfig, "card", type=click.Path(dir_okay=False))
@field_option(CompareConfig, "card_template")
@field_option(CompareConfig, "report_template", type=click.Path(dir_okay=False))
@EXPORT
@click.option("--json", "as_json", is_flag=True, help="Print summary.json to stdout.")
@config_option
@role_engine_options
@tracker_options
@click.pass_context
def compare(ctx: click.Context, **values) -> None:
    """Judge TUNED against BASE on a prompt set, in both answer orders (or, with --template
    mt-bench or a FastChat judge_prompts.jsonl#single-v1, grade each turn of each answer 1-10).

    BASE and TUNED are model references: smollm2 (the bundled SmolLM2-135M-Instruct), a Hugging
    Face model folder, a .gguf file, or a hub id; or a .json/.jsonl file of the answers a model
    already gave (alpaca_eval model_outputs, arena-hard model_answer lines, a run folder's
    generations file), which loads no model: the prompts are then the ones the files answer
    (--prompts restricts them). Results, cache and report land in --out. With --config, BASE
    and TUNED may come from the file; each role may run on its own engine (--judge-engine,
    --base-base-url, --judge-engine-args, or the file's `engines:`).
    """
    as_json = values.pop("as_json")
    settings = compare_values(ctx, values, {"base": "base", "tuned": "tuned"},
                              CompareConfig.model_fields)
    for side in ("base", "tuned"):
        if not settings.get(side):
            raise InputError(f"compare needs {side.upper()}: give it as an argument or as "
                             f"`{side}:` in --config")
    base, tuned = settings.pop("base"), settings.pop("tuned")
    with stage_progress() as progress:  # judge.api owns the defaults (the run folder's name)
        result = run(base, tuned, progress=progress, **settings)
    summary = result.summary
    if as_json:
        click.echo(json.dumps(summary.as_json(), indent=2))
    else:
        Console().print(summary_table(summary))
        for grid in blocks.grids(summary):  # a block's own table (MT-Bench's, with intervals)
            Console().print(rich_table(grid))
        plots = "".join(f"{name}, " for name, _, _ in blocks.plots(summary))
        click.echo(f"results: {result.folder}/ (summary.json, report.html, report.md, "
                   f"winrate.png, {plots}verdicts.csv)")
        if settings.get("card"):
            click.echo(f"card: {settings['card']}")
    report_to_trackers("compare", str(result.folder))
