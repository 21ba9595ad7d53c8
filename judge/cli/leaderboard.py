"""`judge leaderboard --reference REF MODEL...`: every model judged against one reference, ranked.

    judge leaderboard --reference smollm2 out/checkpoint-100 out/checkpoint-200 out/final
    judge leaderboard --reference gpt4_turbo/model_outputs.json a/model_outputs.json \\
        b/model_outputs.json --judge path/to/judge --out results/lb        # no model but the judge
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console

from judge.api.defaults import slug
from judge.api.runs import leaderboard as run
from judge.cli.common import (
    EXPORT,
    engine_config,
    engine_options,
    judging_options,
    stage_progress,
)
from judge.cli.trackers import report_to_trackers, tracker_options
from judge.errors import InputError
from judge.report.leaderboard import leaderboard_table


def card_pairs(given: tuple[str, ...]) -> dict[str, str]:
    cards = {}
    for pair in given:
        model, sep, path = pair.rpartition("=")
        if not sep or not model or not path:
            raise InputError(f"--card-for {pair}: expected MODEL=PATH")
        cards[model] = path
    return cards


@click.command()
@click.argument("models", nargs=-1, required=True)
@click.option("--reference", required=True,
              help="The model every MODEL is judged against: a model reference or an answers "
              "file, like MODEL.")
@judging_options
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Leaderboard folder (default results/leaderboard-vs-REFERENCE). Rerunning with "
              "more models judges only the new ones.")
@click.option("--card", "card_folders", is_flag=True,
              help="Write each model's result into its card: MODEL/README.md for every MODEL "
              "that is a model folder.")
@click.option("--card-for", multiple=True, metavar="MODEL=PATH",
              help="Write MODEL's result (MODEL as given, or its name) into the card at PATH; "
              "repeat it for several.")
@click.option("--card-template", default=None, help="Your own Jinja2 card-section template.")
@click.option("--report-template", type=click.Path(dir_okay=False), default=None,
              help="Your own Jinja2 template for each model's report.html.")
@click.option("--leaderboard-template", type=click.Path(dir_okay=False), default=None,
              help="Your own Jinja2 template for leaderboard.html.")
@EXPORT
@click.option("--json", "as_json", is_flag=True, help="Print leaderboard.json to stdout.")
@engine_options
@tracker_options
def leaderboard(models, reference, judge_ref, controls, flow_metric, prompts, prompt_column, limit,
                template, verdict, structured, max_new_tokens, judge_max_new_tokens, temperature,
                seed,
                confidence, bootstrap, chunk, cache_dir, out, card_folders, card_for,
                card_template, report_template, leaderboard_template, export, as_json,
                **engine) -> None:
    """Judge every MODEL against --reference on the same prompts, in both answer orders, and rank
    them by Bradley–Terry strength with intervals.

    Each MODEL (and the reference) is a model reference as in `judge compare`, or an answers file;
    NAME=REF names it. The reference answers once; each model gets its own compare run folder
    inside --out, and leaderboard.html, .json, .md and .png sit at the top.
    """
    with stage_progress(eta=True) as progress:
        board = run(
            reference, list(models), progress=progress, cards=card_pairs(card_for),
            card_folders=card_folders, leaderboard_template=leaderboard_template,
            judge=list(judge_ref), controls=controls, flow_metric=flow_metric, prompts=prompts,
            prompt_column=prompt_column, limit=limit, template=template, verdict=verdict,
            structured=structured, max_new_tokens=max_new_tokens,
            judge_max_new_tokens=judge_max_new_tokens, temperature=temperature, seed=seed,
            confidence=confidence, bootstrap=bootstrap, chunk=chunk, out=out,
            cache_dir=cache_dir, card_template=card_template, report_template=report_template,
            export=list(export), engine=engine_config(engine, seed))
    out = out or str(Path("results") / f"leaderboard-vs-{slug(reference.split('=')[-1])}")
    if as_json:
        click.echo(json.dumps(board.as_json(), indent=2))
    else:
        Console().print(leaderboard_table(board))
        click.echo(f"results: {out}/ (leaderboard.html, leaderboard.json, leaderboard.md, "
                   "leaderboard.png; one run folder per model)")
    report_to_trackers("leaderboard", out)
