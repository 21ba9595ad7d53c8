"""`judge bench MODEL`: lm-eval benchmarks for one model, cached in a run folder.

    judge bench smollm2 --tasks judge_mcq --limit 10 --out results/smollm2
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from judge.api.defaults import default_cache, slug
from judge.benchmarks.lmeval import run_bench
from judge.errors import InputError
from judge.models.refs import resolve_model


def split_tasks(value: str) -> list[str]:
    tasks = [t.strip() for t in value.split(",") if t.strip()]
    if not tasks:
        raise InputError("--tasks needs at least one task name, e.g. --tasks judge_mcq")
    return tasks


@click.command()
@click.argument("model")
@click.option("--tasks", required=True,
              help="Comma-separated lm-eval task names. judge_mcq ships with judge and runs "
              "offline; lm-eval's own tasks (hellaswag, arc_easy, eq_bench, ...) need the hub.")
@click.option("--limit", type=click.IntRange(1), default=None,
              help="Use only the first N questions of each task.")
@click.option("--num-fewshot", type=click.IntRange(0), default=None,
              help="Few-shot examples per question (default: the task's own).")
@click.option("--include-path", type=click.Path(file_okay=False, exists=True), multiple=True,
              help="A folder of your own lm-eval task YAMLs (repeatable).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Run folder; results are cached in OUT/bench/. Default results/MODEL.")
@click.option("--batch-size", type=click.IntRange(1), default=8, show_default=True,
              help="Requests per forward batch.")
@click.option("--threads", type=click.IntRange(1), default=1, show_default=True,
              help="torch threads on CPU.")
@click.option("--cache-dir", default=None, help="Where converted GGUF models are kept "
              "(default $JUDGE_CACHE_DIR or ~/.cache/judge).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def bench(model, tasks, limit, num_fewshot, include_path, out, batch_size, threads, cache_dir,
          as_json) -> None:
    """Run lm-eval TASKS on MODEL (smollm2, a model folder, a .gguf file or a hub id)."""
    names = split_tasks(tasks)
    info = resolve_model(model, Path(cache_dir or default_cache()))
    out_dir = Path(out) if out else Path("results") / slug(model)
    result = run_bench(info, names, out_dir, limit, num_fewshot, [Path(p) for p in include_path],
                       batch_size=batch_size, threads=threads)
    if as_json:
        slim = {n: {k: v for k, v in e.items() if k != "samples"}
                for n, e in result["tasks"].items()}
        click.echo(json.dumps({"model": result["model"], "tasks": slim}, indent=2))
        return
    for name, entry in result["tasks"].items():
        se = entry["stderr"]
        spread = f" ± {100 * se:.1f}" if se is not None else ""
        click.echo(f"{name:<24} {entry['metric']:<12} {100 * entry['value']:5.1f}%{spread}  "
                   f"(n={entry['n']})")
    click.echo(f"results: {out_dir}/bench/")
