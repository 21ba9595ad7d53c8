"""`judge stats` and `judge agreement`: numbers from files you already have.

    judge stats results/RUN/judgments/JUDGE__pairwise.jsonl          # same numbers as compare
    judge stats battles.jsonl --baseline smollm2 --json              # model_a/model_b lines
    judge agreement verdicts.jsonl                                    # judge vs human labels
    judge agreement --judge smollm2 --pairs labeled.jsonl --verdict logprob

Registered by judge/cli.py's registration block.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from judge.cli_common import (
    default_cache,
    engine_config,
    engine_options,
    err_console,
    quiet_backends,
    stage_progress,
)
from judge.errors import InputError
from judge.report import headline, pct

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
F = TypeVar("F", bound=Callable[..., Any])


def engine_flags(f: F) -> F:
    """compare's engine options."""
    return engine_options(f)


def pairwise_table(result: dict[str, Any], title: str) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    for name, value in headline(result):
        table.add_row(name, value)
    table.add_row("discrete win rate (ties half)", pct(result["discrete_win_rate"]))
    table.add_row("length-controlled win rate", pct(result.get("lc_win_rate")))
    return table


def models_table(result: dict[str, Any], title: str) -> Table:
    level = result["ci"]["level"]
    table = Table(title=f"{title}  (baseline {result['baseline']}, {result['n']} battles, "
                  f"{result['n_invalid']} invalid)")
    for column in ("model", "Elo-style", f"win rate vs baseline [{level:.0%} interval]",
                   "battles", "W / T / L"):
        table.add_column(column)
    for name, m in result["models"].items():
        table.add_row(name, f"{m['elo']:.0f}",
                      f"{pct(m['win_rate'])}  [{pct(m['ci']['low'])} – {pct(m['ci']['high'])}]",
                      str(m["battles"]), f"{m['wins']} / {m['ties']} / {m['losses']}")
    return table


def ratings_table(result: dict[str, Any], title: str) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    ci, se = result["ci"], result["standard_error"]
    rows = [
        ("mean rating base / tuned", f"{result['mean_base']:.3f} / {result['mean_tuned']:.3f}"),
        ("mean difference (tuned − base)",
         f"{result['mean_difference']:+.3f}" + ("" if se is None else f" ± {se:.3f} s.e.")),
        (f"{ci['level']:.0%} interval (paired bootstrap)", f"{ci['low']:+.3f} – {ci['high']:+.3f}"),
        ("tuned higher / equal / lower",
         f"{result['higher']} / {result['equal']} / {result['lower']}"),
        ("prompts rated (invalid lines)", f"{result['n']} ({result['n_invalid']})"),
        ("Wilcoxon signed-rank p-value", f"{result['p_value']:.3g}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def aggregate(rows: list[dict], fmt: str, options: dict[str, Any]) -> tuple[dict, Callable]:
    """The statistics for one file format, and the table that shows them."""
    from judge.bradley_terry import bradley_terry
    from judge.ratings import summarize_ratings
    from judge.stats import summarize

    common = (options["confidence"], options["bootstrap"], options["seed"])
    baseline = options["baseline"]
    if baseline is not None and fmt != "models":
        raise InputError("--baseline applies to files whose lines name model_a and model_b")
    by_format: dict[str, Callable[[], tuple[dict, Callable]]] = {
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
    reproduces that run's summary.json pairwise block exactly."""
    from judge.lines import detect_format, read_lines

    rows = read_lines(file)
    result, table = aggregate(rows, detect_format(rows), options)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    Console().print(table(result, str(file)))
    for warning in result.get("warnings", []):
        err_console.print(f"warning: {warning}", markup=False, highlight=False)


def agreement_table(result: dict[str, Any], title: str) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")

    def kappa(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    rows = [
        ("items (invalid)", f"{result['n']} ({result['n_invalid']})"),
        ("accuracy, original / swapped order",
         f"{pct(result['accuracy_original'])} / {pct(result['accuracy_swapped'])}"),
        ("accuracy (mean of both orders)", pct(result["accuracy"])),
        ("position consistency", pct(result["position_consistency"])),
        ("correct in both orders", pct(result["both_correct"])),
        ("Cohen's kappa, original / swapped",
         f"{kappa(result['cohen_kappa_original'])} / {kappa(result['cohen_kappa_swapped'])}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


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
@engine_flags
def agreement(file: Path | None, judge_ref: str | None, pairs: Path | None, template: str,
              verdict: str, judge_max_new_tokens: int, out: str | None, cache_dir: str,
              as_json: bool, **engine: Any) -> None:
    """Score a judge against human labels: FILE has id, label, verdict, verdict_swapped; or give
    --judge MODEL --pairs LABELED.jsonl to judge the pairs in both orders first."""
    from judge.agreement import agreement as score
    from judge.agreement import read_agreement

    if (judge_ref is None) != (pairs is None):
        raise InputError("--judge and --pairs go together")
    if (file is None) == (judge_ref is None):
        raise InputError("give either a verdicts FILE or --judge MODEL --pairs LABELED.jsonl")
    if file is not None:
        result, title = score(read_agreement(file)), str(file)
    else:
        result, title = run_judge(judge_ref, pairs, template, verdict, judge_max_new_tokens, out,
                                  cache_dir, engine)
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        Console().print(agreement_table(result, title))


def run_judge(judge_ref, pairs, template, verdict, max_new_tokens, out, cache_dir, engine):
    from judge.agreement_run import AgreementConfig, run_agreement
    from judge.cli_common import slug as ref_slug

    quiet_backends()
    out = out or str(Path("results") / f"agreement-{ref_slug(judge_ref)}")
    config = AgreementConfig(
        judge=judge_ref, pairs=str(pairs), template=template, verdict=verdict,
        judge_max_new_tokens=max_new_tokens, out=out, cache_dir=cache_dir,
        engine=engine_config(engine, seed=0),  # where engine flags and the API key are read
    )
    with stage_progress() as progress:
        result = run_agreement(config, progress)
    return result, f"{judge_ref} on {pairs}  (verdicts: {out}/verdicts.jsonl)"
