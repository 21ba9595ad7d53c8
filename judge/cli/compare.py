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
from judge.cli.common import (
    EXPORT,
    engine_config,
    engine_options,
    judging_options,
    stage_progress,
)
from judge.cli.trackers import report_to_trackers, tracker_options
from judge.report.mt_bench import mt_bench_grid
from judge.report.tables import rich_table, summary_table


@click.command()
@click.argument("base")
@click.argument("tuned")
@judging_options
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Run folder (default results/BASE-vs-TUNED). Rerunning resumes from its cache.")
@click.option("--bench", default="", help="lm-eval tasks to run on both models, comma-separated "
              "(judge_mcq ships offline; hub tasks such as arc_easy need the hub).")
@click.option("--bench-limit", type=click.IntRange(1), default=None,
              help="Questions per benchmark task.")
@click.option("--num-fewshot", type=click.IntRange(0), default=None, help="Benchmark shots.")
@click.option("--include-path", multiple=True, help="Folder of your own lm-eval task YAMLs.")
@click.option("--card", default=None, type=click.Path(dir_okay=False),
              help="Model card (README.md) to create or update with this run's results.")
@click.option("--card-template", default=None, help="Your own Jinja2 card-section template.")
@click.option("--report-template", type=click.Path(dir_okay=False), default=None,
              help="Your own Jinja2 template for report.html (it may extend report.html.j2).")
@EXPORT
@click.option("--json", "as_json", is_flag=True, help="Print summary.json to stdout.")
@engine_options
@tracker_options
def compare(base, tuned, judge_ref, controls, flow_metric, prompts, prompt_column, limit, template,
            verdict, structured, max_new_tokens, judge_max_new_tokens, temperature, seed,
            confidence,
            bootstrap, chunk, out, cache_dir, bench, bench_limit, num_fewshot, include_path, card,
            card_template, report_template, export, as_json, **engine) -> None:
    """Judge TUNED against BASE on a prompt set, in both answer orders (or, with --template
    mt-bench or a FastChat judge_prompts.jsonl#single-v1, grade each turn of each answer 1-10).

    BASE and TUNED are model references: smollm2 (the bundled SmolLM2-135M-Instruct), a Hugging
    Face model folder, a .gguf file, or a hub id; or a .json/.jsonl file of the answers a model
    already gave (alpaca_eval model_outputs, arena-hard model_answer lines, a run folder's
    generations file), which loads no model: the prompts are then the ones the files answer
    (--prompts restricts them). Results, cache and report land in --out.
    """
    with stage_progress() as progress:
        result = run(
            base, tuned, progress=progress, judge=list(judge_ref), controls=controls,
            flow_metric=flow_metric, prompts=prompts, prompt_column=prompt_column, limit=limit,
            template=template, verdict=verdict, structured=structured,
            max_new_tokens=max_new_tokens, judge_max_new_tokens=judge_max_new_tokens,
            temperature=temperature, seed=seed, confidence=confidence, bootstrap=bootstrap,
            chunk=chunk, out=out, cache_dir=cache_dir, bench=bench, bench_limit=bench_limit,
            num_fewshot=num_fewshot, include_path=list(include_path), card=card,
            card_template=card_template, report_template=report_template, export=list(export),
            engine=engine_config(engine, seed))
    summary = result.summary
    if as_json:
        click.echo(json.dumps(summary.as_json(), indent=2))
    else:
        Console().print(summary_table(summary))
        if summary.mt_bench is not None:  # per-turn grading: FastChat's table, with intervals
            grid = mt_bench_grid(summary.mt_bench, "MT-Bench scores (tuned − base paired)")
            Console().print(rich_table(grid))
        click.echo(f"results: {result.folder}/ (summary.json, report.html, report.md, "
                   f"winrate.png, {'mt_bench.png, ' if summary.mt_bench else ''}verdicts.csv)")
        if card:
            click.echo(f"card: {card}")
    report_to_trackers("compare", str(result.folder))
