"""`judge agreement`: how well a judge agrees with human labels, and with itself across orders.

    judge agreement verdicts.jsonl                                    # judge vs human labels
    judge agreement --judge smollm2 --pairs labeled.jsonl --verdict logprob
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from judge.cli.common import (
    FORMAT,
    check_format,
    default_cache,
    engine_config,
    engine_options,
    print_grid,
    slug,
    stage_progress,
)
from judge.errors import InputError
from judge.report.export import fields_csv
from judge.report.tables import agreement_grid

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.argument("file", type=FILE, required=False)
@click.option("--judge", "judge_ref", default=None,
              help="Run this judge model on --pairs first (smollm2, a folder, .gguf, hub id).")
@click.option("--pairs", type=FILE, default=None,
              help="Labelled pairs (JSONL: id, instruction, output_a, output_b, label A|B|tie).")
@click.option("--template", default="pairwise", show_default=True, help="Judge template.")
@click.option("--verdict", type=click.Choice(["text", "logprob", "both"]), default="both",
              show_default=True, help="Read verdicts from text, label log-probs, or both.")
@click.option("--judge-max-new-tokens", type=click.IntRange(1), default=48, show_default=True,
              help="Reply length budget for the judge (text verdicts).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Folder for the judge's ledger and verdicts (default results/agreement-JUDGE).")
@click.option("--cache-dir", default=default_cache, show_default="$JUDGE_CACHE_DIR or "
              "~/.cache/judge", help="Where converted GGUF models are kept.")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
@FORMAT
@engine_options
def agreement(file: Path | None, judge_ref: str | None, pairs: Path | None, template: str,
              verdict: str, judge_max_new_tokens: int, out: str | None, cache_dir: str,
              as_json: bool, fmt: str, **engine: Any) -> None:
    """Score a judge against human labels: FILE has id, label, verdict, verdict_swapped (or is an
    LLMBar result.json or JudgeBench outputs file); or give --judge MODEL --pairs LABELED.jsonl to
    judge the pairs in both orders first. Every rate counts all pairs, an invalid verdict as
    wrong; the `_valid` numbers count only pairs valid in both orders."""
    from judge.stats.agreement import agreement as score
    from judge.stats.agreement import read_agreement

    if (judge_ref is None) != (pairs is None):
        raise InputError("--judge and --pairs go together")
    if (file is None) == (judge_ref is None):
        raise InputError("give either a verdicts FILE or --judge MODEL --pairs LABELED.jsonl")
    check_format(as_json, fmt)
    if file is not None:
        lines, kind = read_agreement(file)
        result, title = score(lines), f"{file}  (format: {kind})"
    else:
        kind = "agreement"
        result, title = run_judge(judge_ref, pairs, template, verdict, judge_max_new_tokens, out,
                                  cache_dir, engine)
    data = {"format": kind, **result.model_dump()}
    if as_json:
        click.echo(json.dumps(data, indent=2))
    elif fmt == "csv":
        click.echo(fields_csv(data), nl=False)
    else:
        print_grid(agreement_grid(result, title), fmt)


def run_judge(judge_ref, pairs, template, verdict, max_new_tokens, out, cache_dir, engine):
    from judge.pipeline.agreement import AgreementConfig, run_agreement

    out = out or str(Path("results") / f"agreement-{slug(judge_ref)}")
    config = AgreementConfig(
        judge=judge_ref, pairs=str(pairs), template=template, verdict=verdict,
        judge_max_new_tokens=max_new_tokens, out=out, cache_dir=cache_dir,
        engine=engine_config(engine, seed=0),  # where engine flags and the API key are read
    )
    with stage_progress() as progress:
        result = run_agreement(config, progress)
    return result, f"{judge_ref} on {pairs}  (verdicts: {out}/verdicts.jsonl)"
