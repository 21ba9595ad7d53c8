"""`judge stats FILE`: the numbers of a judgments file you already have.

    judge stats results/RUN/judgments/JUDGE__pairwise.jsonl          # same numbers as compare
    judge stats battles.jsonl --baseline smollm2 --json              # model_a/model_b lines
    judge stats results/LEADERBOARD --json                           # its Bradley–Terry table
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from judge.cli.common import err_console
from judge.errors import InputError
from judge.report.tables import models_table, pairwise_table, ratings_table

FILE = click.Path(exists=True, path_type=Path)


def aggregate(rows: list[dict], fmt: str, options: dict[str, Any]) -> tuple[Any, Callable]:
    """The statistics for one file format, and the table that shows them."""
    from judge.stats.bradley_terry import bradley_terry
    from judge.stats.pairwise import summarize
    from judge.stats.ratings import summarize_ratings

    common = (options["confidence"], options["bootstrap"], options["seed"])
    baseline = options["baseline"]
    if baseline is not None and fmt != "models":
        raise InputError("--baseline applies to files whose lines name model_a and model_b")
    by_format: dict[str, Callable[[], tuple[Any, Callable]]] = {
        "pairwise": lambda: (summarize(rows, *common), pairwise_table),
        "models": lambda: (bradley_terry(rows, baseline, *common), models_table),
        "ratings": lambda: (summarize_ratings(rows, *common), ratings_table),
    }
    return by_format[fmt]()


@click.command()
@click.argument("file", type=FILE)
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True,
              help="Interval level.")
@click.option("--bootstrap", type=click.IntRange(100), default=2000, show_default=True,
              help="Bootstrap resamples.")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--baseline", default=None,
              help="Model the others are compared with (model_a/model_b files; default: the "
              "model in most battles).")
def stats(file: Path, as_json: bool, **options: Any) -> None:
    """Aggregate a judgments FILE (JSON Lines): base-vs-tuned verdicts, named model battles
    (Bradley–Terry) or pointwise ratings. With compare's --confidence/--bootstrap/--seed it
    reproduces that run's summary.json pairwise block exactly. A leaderboard folder gives the
    Bradley–Terry table of the judgment lines in its run folders (its leaderboard.json's)."""
    from judge.stats.lines import detect_format, read_lines

    if file.is_dir():
        from judge.pipeline.leaderboard import folder_battles

        rows, reference = folder_battles(file)
        options["baseline"] = options["baseline"] or reference
        fmt = "models"
    else:
        rows = read_lines(file)
        fmt = detect_format(rows)
    result, table = aggregate(rows, fmt, options)
    data = result if isinstance(result, dict) else result.model_dump()
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    Console().print(table(result, str(file)))
    for warning in data.get("warnings", []):
        err_console.print(f"warning: {warning}", markup=False, highlight=False)
