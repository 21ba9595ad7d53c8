"""`judge agreement`: how well a judge agrees with human labels, and with itself across orders.

    judge agreement verdicts.jsonl                                    # judge vs human labels
    judge agreement --judge smollm2 --pairs labeled.jsonl --verdict logprob
    judge agreement --judge J1 --judge J2@graded --judge J3 --pairs labeled.jsonl   # a panel
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from judge.api.numbers import agreement as score
from judge.cli.common import (
    FORMAT,
    STRUCTURED,
    check_format,
    check_members,
    default_cache,
    engine_config,
    engine_options,
    print_grid,
    stage_progress,
)
from judge.pipeline.judging import VerdictMode
from judge.report.export import fields_csv
from judge.report.tables import agreement_grid, judge_run_grid

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.argument("file", type=FILE, required=False)
@click.option("--judge", "judge_ref", multiple=True, callback=check_members,
              help="Run this judge model on --pairs first (smollm2, a folder, .gguf, hub id; "
              "MODEL@TEMPLATE with a template of its own); repeat it for a panel.")
@click.option("--pairs", type=FILE, default=None,
              help="Labelled pairs (JSONL: id, instruction, output_a, output_b, label A|B|tie).")
@click.option("--template", default="pairwise", show_default=True, help="Judge template.")
@click.option("--verdict", type=click.Choice(["text", "logprob", "both"]), default="both",
              show_default=True, help="Read verdicts from text, label log-probs, or both.")
@STRUCTURED
@click.option("--judge-max-new-tokens", type=click.IntRange(1), default=48, show_default=True,
              help="Reply length budget for the judge (text verdicts).")
@click.option("--controls", type=click.IntRange(0), default=8, show_default=True,
              help="Control pairs per kind built from the preferred answers (see judge compare); "
              "0 skips them.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Folder for the judge's ledger and verdicts (default results/agreement-JUDGE).")
@click.option("--cache-dir", default=default_cache, show_default="$JUDGE_CACHE_DIR or "
              "~/.cache/judge", help="Where converted GGUF models are kept.")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
@FORMAT
@engine_options
def agreement(file: Path | None, judge_ref: tuple[str, ...], pairs: Path | None, template: str,
              verdict: VerdictMode, structured: bool | None, judge_max_new_tokens: int,
              controls: int, out: str | None, cache_dir: str, as_json: bool, fmt: str,
              **engine: Any) -> None:
    """Score a judge against human labels: FILE has id, label, verdict, verdict_swapped (or is an
    LLMBar result.json or JudgeBench outputs file); or give --judge MODEL --pairs LABELED.jsonl to
    judge the pairs in both orders first. Every rate counts all pairs, an invalid verdict as
    wrong; the `_valid` numbers count only pairs valid in both orders."""
    check_format(as_json, fmt)
    if judge_ref:
        with stage_progress() as progress:
            found = score(file, judge=list(judge_ref), pairs=pairs, template=template,
                          verdict=verdict, structured=structured,
                          judge_max_new_tokens=judge_max_new_tokens, controls=controls, out=out,
                          cache_dir=cache_dir, progress=progress,
                          engine=engine_config(engine, seed=0))  # the API key is read here
        grid = judge_run_grid(found.table, f"{', '.join(judge_ref)} on {pairs}  (verdicts: "
                              f"{found.verdicts})")
    else:
        found = score(file, pairs=pairs)
        grid = agreement_grid(found.table, f"{file}  (format: {found.format})")
    data = found.numbers
    if as_json:
        click.echo(json.dumps(data, indent=2))
    elif fmt == "csv":
        click.echo(fields_csv(data), nl=False)
    else:
        print_grid(grid, fmt)
