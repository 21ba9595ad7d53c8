"""`judge stats FILE`: the numbers of a judgments file you already have, in any format it reads.

    judge stats results/RUN/judgments/JUDGE__pairwise.jsonl          # same numbers as compare
    judge stats annotations.json                                     # alpaca_eval's annotations
    judge stats model_judgment/gpt-4-1106-preview/my-model.jsonl     # arena-hard judgments
    judge stats battles.jsonl --baseline smollm2 --json              # model_a/model_b lines
    judge stats model_judgment/gpt-4_single.jsonl --baseline base    # FastChat MT-Bench scores
    judge stats results/LEADERBOARD --json                           # its Bradley–Terry table
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from judge.cli.common import BOOTSTRAP, FORMAT, SEED, Finite, check_format, err_console, print_grid
from judge.errors import InputError
from judge.escape import term_text
from judge.pipeline.leaderboard import folder_battles
from judge.report.export import fields_csv, records_csv
from judge.report.mt_bench import mt_bench_grid
from judge.report.tables import lines_grid, models_grid, ratings_grid
from judge.stats.anchors import StatsFile, read_stats_file
from judge.stats.blocks import blocks_json, line_blocks
from judge.stats.bradley_terry import bradley_terry
from judge.stats.mt_bench import is_turn_file, mt_bench_stats, turn_rows
from judge.stats.ratings import summarize_ratings

FILE = click.Path(exists=True, path_type=Path)
def aggregate(parsed: Any, options: dict[str, Any]) -> tuple[dict[str, Any], Any, Callable]:
    """(the numbers as JSON, what the table shows, the grid maker) for one translated file."""
    common = (options["confidence"], options["bootstrap"], options["seed"])
    baseline = options["baseline"]
    # FastChat's single judgments, or a per-turn run's lines: show_result, with intervals
    if parsed.kind == "mt_bench" or (parsed.kind == "ratings" and is_turn_file(parsed.rows)):
        rows = parsed.rows if parsed.kind == "mt_bench" else turn_rows(parsed.rows)
        turn_base = None if parsed.kind == "mt_bench" else "base"
        scores = mt_bench_stats(rows, baseline or turn_base, *common)
        return scores.model_dump(), scores, mt_bench_grid
    if baseline is not None and parsed.kind != "models":
        raise InputError("--baseline applies to files whose lines name model_a and model_b, "
                         "or FastChat MT-Bench judgments")
    if parsed.kind == "models":
        result = bradley_terry(parsed.rows, baseline, *common)
        return result, result, models_grid
    if parsed.kind == "ratings":
        ratings = summarize_ratings(parsed.rows, *common)
        return ratings.model_dump(), ratings, ratings_grid
    blocks = line_blocks(parsed.rows, parsed.texts, *common)
    return blocks_json(blocks), blocks, lines_grid


@click.command()
@click.argument("file", type=FILE)
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
@FORMAT
@click.option("--confidence", type=Finite(0.5, 0.999), default=0.95, show_default=True,
              help="Interval level.")
@click.option("--bootstrap", type=BOOTSTRAP, default=2000, show_default=True,
              help="Bootstrap resamples.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--baseline", default=None,
              help="Model the others are compared with (model_a/model_b files; default: the "
              "model in most battles; FastChat MT-Bench judgments: the paired difference of each "
              "other model to it, none without it).")
def stats(file: Path, as_json: bool, fmt: str, **options: Any) -> None:
    """Aggregate a judgments FILE (JSON Lines or a JSON array): judge's base-vs-tuned lines,
    alpaca_eval annotations, arena-hard judgments, named-model battles (Bradley–Terry, Chatbot
    Arena logs too) or pointwise ratings; the format is read from the content and named. With
    compare's --confidence/--bootstrap/--seed it reproduces that run's summary.json blocks. A
    leaderboard folder gives the Bradley–Terry table of the judgment lines in its run folders
    (its leaderboard.json's)."""
    check_format(as_json, fmt)
    if file.is_dir():
        rows, reference = folder_battles(file)
        options["baseline"] = options["baseline"] or reference
        parsed = StatsFile(format="leaderboard folder", kind="models", rows=rows)
    else:
        parsed = read_stats_file(file)
    data, shown, grid = aggregate(parsed, options)
    data = {"format": parsed.format, **data}
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    if fmt == "csv" and parsed.kind == "models":
        click.echo(records_csv(data["models"], "model"), nl=False)
        return
    if fmt == "csv":
        click.echo(fields_csv(data), nl=False)
        return
    print_grid(grid(shown, f"{file}  (format: {parsed.format})"), fmt)
    warnings = list(data.get("warnings", [])) + list((data.get("bias") or {}).get("warnings", []))
    for warning in warnings:
        err_console.print(f"warning: {term_text(warning)}", markup=False, highlight=False,
                          emoji=False)
