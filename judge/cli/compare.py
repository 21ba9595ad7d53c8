"""`judge compare BASE TUNED`: the options of one comparison, turned into a CompareConfig.

    judge compare smollm2 path/to/tuned --limit 20
    judge compare BASE TUNED --judge JUDGE --prompts prompts.jsonl --engine vllm --json
    judge compare BASE TUNED --judge J1 --judge J2@graded --judge J3      # a panel of three
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console

from judge.cli.common import engine_config, engine_options, judging_options, slug, stage_progress
from judge.cli.trackers import report_to_trackers, tracker_options


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
@click.option("--json", "as_json", is_flag=True, help="Print summary.json to stdout.")
@engine_options
@tracker_options
def compare(base, tuned, judge_ref, controls, flow_metric, prompts, prompt_column, limit, template,
            verdict, structured, max_new_tokens, judge_max_new_tokens, temperature, seed,
            confidence,
            bootstrap, chunk, out, cache_dir, bench, bench_limit, num_fewshot, include_path, card,
            card_template, report_template, as_json, **engine) -> None:
    """Judge TUNED against BASE on a prompt set, in both answer orders.

    BASE and TUNED are model references: smollm2 (the bundled SmolLM2-135M-Instruct), a Hugging
    Face model folder, a .gguf file, or a hub id; or a .json/.jsonl file of the answers a model
    already gave (alpaca_eval model_outputs, arena-hard model_answer lines, a run folder's
    generations file), which loads no model: the prompts are then the ones the files answer
    (--prompts restricts them). Results, cache and report land in --out.
    """
    from judge.pipeline.compare import CompareConfig, run_compare
    from judge.report.tables import summary_table

    if out is None:
        out = str(Path("results") / f"{slug(base)}-vs-{slug(tuned)}")
    config = CompareConfig(
        base=base, tuned=tuned, judge=judge_ref[0], panel=list(judge_ref[1:]),
        controls=controls, flow_metric=flow_metric, prompts=prompts,
        prompt_column=prompt_column,
        limit=limit, template=template, verdict=verdict, structured=structured,
        max_new_tokens=max_new_tokens,
        judge_max_new_tokens=judge_max_new_tokens, temperature=temperature, seed=seed,
        confidence=confidence, bootstrap=bootstrap, chunk=chunk, out=out, cache_dir=cache_dir,
        bench=[t.strip() for t in bench.split(",") if t.strip()], bench_limit=bench_limit,
        num_fewshot=num_fewshot, include_path=list(include_path), card=card,
        card_template=card_template, report_template=report_template,
        engine=engine_config(engine, seed),
    )
    with stage_progress() as progress:
        summary = run_compare(config, progress)
    if as_json:
        click.echo(json.dumps(summary.as_json(), indent=2))
    else:
        Console().print(summary_table(summary))
        click.echo(f"results: {out}/ (summary.json, report.html, report.md, winrate.png, "
                   "verdicts.csv)")
        if card:
            click.echo(f"card: {card}")
    report_to_trackers("compare", out)
