"""`judge stats FILE`: the numbers of a judgments file you already have, in any format it reads.

    judge stats results/RUN/judgments/JUDGE__pairwise.jsonl          # same numbers as compare
    judge stats annotations.json                                     # alpaca_eval's annotations
    judge stats model_judgment/gpt-4-1106-preview/my-model.jsonl     # arena-hard judgments
    judge stats battles.jsonl --baseline smollm2 --json              # model_a/model_b lines
    judge stats results/LEADERBOARD --json                           # its Bradley–Terry table
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from judge.api.numbers import stats as aggregate
from judge.cli.common import BOOTSTRAP, FORMAT, SEED, Finite, check_format, err_console, print_grid
from judge.escape import term_text
from judge.report.export import fields_csv, records_csv
from judge.report.grid import Grid
from judge.report.mt_bench import mt_bench_grid
from judge.report.tables import lines_grid, models_grid, ratings_grid

FILE = click.Path(exists=True, path_type=Path)
GRIDS: dict[str, Callable[[Any, str], Grid]] = {"models": models_grid, "ratings": ratings_grid,
                                                "pairwise": lines_grid, "mt_bench": mt_bench_grid}


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
              "model in most battles).")
def stats(file: Path, as_json: bool, fmt: str, **options: Any) -> None:
    """Aggregate a judgments FILE (JSON Lines or a JSON array): judge's base-vs-tuned lines,
    alpaca_eval annotations, arena-hard judgments, named-model battles (Bradley–Terry, Chatbot
    Arena logs too) or pointwise ratings; the format is read from the content and named. With
    compare's --confidence/--bootstrap/--seed it reproduces that run's summary.json blocks. A
    leaderboard folder gives the Bradley–Terry table of the judgment lines in its run folders
    (its leaderboard.json's)."""
    check_format(as_json, fmt)
    found = aggregate(file, **options)
    data, shown, grid = found.numbers, found.table, GRIDS[found.kind]
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    if fmt == "csv" and found.kind == "models":
        click.echo(records_csv(data["models"], "model"), nl=False)
        return
    if fmt == "csv":
        click.echo(fields_csv(data), nl=False)
        return
    print_grid(grid(shown, f"{file}  (format: {found.format})"), fmt)
    warnings = list(data.get("warnings", [])) + list((data.get("bias") or {}).get("warnings", []))
    for warning in warnings:
        err_console.print(f"warning: {term_text(warning)}", markup=False, highlight=False,
                          emoji=False)
