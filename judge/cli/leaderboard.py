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
from judge.cli.common import EXPORT, judging_options, role_engine_options, stage_progress
from judge.cli.settings import compare_values, config_option
from judge.cli.trackers import report_to_trackers, tracker_options
from judge.errors import InputError
from judge.pipeline.settings import CompareConfig
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
@click.argument("models", nargs=-1)
@click.option("--reference", default=None,
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
@config_option
@role_engine_options
@tracker_options
@click.pass_context
def leaderboard(ctx: click.Context, **values) -> None:
    """Judge every MODEL against --reference on the same prompts, in both answer orders, and rank
    them by Bradley–Terry strength with intervals.

    Each MODEL (and the reference) is a model reference as in `judge compare`, or an answers file;
    NAME=REF names it. The reference answers once; each model gets its own compare run folder
    inside --out, and leaderboard.html, .json, .md and .png sit at the top. In a run config file
    and in the engine flags the reference is the `base` role and every MODEL `tuned`; a section
    named by a model reference gives that model its own engine.
    """
    own = {key: values.pop(key) for key in ("card_folders", "card_for", "leaderboard_template",
                                            "as_json")}
    settings = compare_values(ctx, values, {"reference": "base", "models": "tuned"},
                              CompareConfig.model_fields)
    reference, models = values.get("reference"), list(values.get("models") or ())
    if not reference or not models:
        raise InputError("leaderboard needs --reference and at least one MODEL (as arguments, "
                         "or `reference:` and `models:` in --config)")
    out = settings.get("out") or str(Path("results") /
                                     f"leaderboard-vs-{slug(reference.split('=')[-1])}")
    config = CompareConfig(**settings | {"base": reference, "tuned": reference, "out": out})
    with stage_progress(eta=True) as progress:
        board = run(reference, models, settings=config, progress=progress,
                    cards=card_pairs(own["card_for"]), card_folders=own["card_folders"],
                    leaderboard_template=own["leaderboard_template"])
    if own["as_json"]:
        click.echo(json.dumps(board.as_json(), indent=2))
    else:
        Console().print(leaderboard_table(board))
        click.echo(f"results: {out}/ (leaderboard.html, leaderboard.json, leaderboard.md, "
                   "leaderboard.png; one run folder per model)")
    report_to_trackers("leaderboard", out)
