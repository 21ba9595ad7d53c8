"""`judge bench` and `judge card`: lm-eval benchmarks for one model, and the model card round trip.

    judge bench smollm2 --tasks judge_mcq --limit 10 --out results/smollm2
    judge card results/base-vs-tuned --card path/to/tuned/README.md
    judge card results/base-vs-tuned --card path/to/tuned/README.md --push me/model --dry-run
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from judge.errors import InputError


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
    from judge.bench import run_bench
    from judge.cli_common import default_cache, quiet_backends, slug
    from judge.models import resolve_model

    quiet_backends()
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


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True))
@click.option("--card", "card_path", type=click.Path(dir_okay=False), default=None,
              help="The card (README.md) to create or update. Default RUN_DIR/card/README.md.")
@click.option("--template", default=None, type=click.Path(dir_okay=False),
              help="Your own Jinja2 template for the eval section (see docs/cards.md).")
@click.option("--push", "repo_id", default=None,
              help="Also upload the tuned model folder and the card to this hub repo.")
@click.option("--model-dir", type=click.Path(file_okay=False), default=None,
              help="Folder to upload with --push (default: the tuned model of the run).")
@click.option("--dry-run", is_flag=True, help="With --push: list what would be uploaded, "
              "write and send nothing.")
def card(run_dir, card_path, template, repo_id, model_dir, dry_run) -> None:
    """Write RUN_DIR's results into a model card, between markers, idempotently."""
    from judge.card import write_card
    from judge.card_push import push_card

    run = Path(run_dir)
    target = Path(card_path) if card_path else run / "card" / "README.md"
    if dry_run and not repo_id:
        raise InputError("--dry-run only applies to --push REPO_ID")
    if not repo_id:
        write_card(run, target, template)
        click.echo(f"card: {target}")
        return
    uploads = push_card(run, target, repo_id, template=template, dry_run=dry_run,
                        model_dir=Path(model_dir) if model_dir else None)
    verb = "would upload" if dry_run else "uploaded"
    click.echo(f"{verb} {len(uploads)} files to {repo_id}:")
    for u in uploads:
        click.echo(f"  {u.path_in_repo}\t{u.size}\t{u.what}\t{u.source}")
