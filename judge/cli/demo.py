"""`judge demo`: the whole mission on the bundled model (what `make demo` runs)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from judge.cli.common import default_cache, stage_progress
from judge.cli.sweep import say
from judge.engines import EngineOptions
from judge.pipeline.demo import RECIPE, run_demo
from judge.report.tables import demo_table


@click.command()
@click.option("--steps", type=click.IntRange(1), default=30, show_default=True,
              help="ORPO steps on the shipped preference set.")
@click.option("--limit", type=click.IntRange(1), default=24, show_default=True,
              help="Built-in prompts to judge.")
@click.option("--bench-limit", type=click.IntRange(1), default=None,
              help="judge_mcq questions per model (default: all 60).")
@click.option("--recipe", default=None,
              help="Training recipe: a shipped name or a YAML file (default smollm2-cpu); its "
              "model is the base, and the judge.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results/demo"), show_default=True, help="Demo folder.")
@click.option("--engine", type=click.Choice(["auto", "vllm", "hf"]), default="auto",
              show_default=True, help="Engine for answers and verdicts.")
@click.option("--cache-dir", default=default_cache, show_default="$JUDGE_CACHE_DIR or "
              "~/.cache/judge", help="Where converted GGUF models are kept.")
def demo(steps, limit, bench_limit, recipe, out, engine, cache_dir) -> None:
    """Train, judge, benchmark and write the card, on the bundled model."""
    with stage_progress() as progress:
        summary = run_demo(out, steps, limit, bench_limit, EngineOptions(kind=engine), cache_dir,
                           recipe or RECIPE, progress, say)
    Console().print(demo_table(summary, str(out / "README.md")))
