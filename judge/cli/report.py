"""`judge report FOLDER`: a run's or a leaderboard's pages again, from the folder alone.

    judge report results/base-vs-tuned --open   # report.html .md, winrate.png, verdicts.csv
    judge report results/leaderboard-vs-smollm2 # leaderboard.html .md .png, each run folder's
    judge report results/sweep-smollm2-cpu      # sweep.md .png, its leaderboard's and trials'
    judge report results/base-vs-tuned --report-template my_report.html.j2
    judge report results/leaderboard-vs-smollm2 --export alpaca_eval   # alpaca_eval's files
"""

from __future__ import annotations

import webbrowser
from pathlib import Path

import click

from judge.api.runs import report as rewrite
from judge.cli.common import EXPORT


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--open", "open_page", is_flag=True,
              help="Open report.html (leaderboard.html) in a web browser; where there is none, "
              "print its path.")
@click.option("--report-template", type=click.Path(dir_okay=False), default=None,
              help="Your own Jinja2 template for report.html (it may extend report.html.j2).")
@click.option("--leaderboard-template", type=click.Path(dir_okay=False), default=None,
              help="Your own Jinja2 template for leaderboard.html.")
@EXPORT
def report(folder: Path, open_page: bool, report_template: str | None,
           leaderboard_template: str | None, export: tuple[str, ...]) -> None:
    """Write FOLDER's report.html, report.md, winrate.png and verdicts.csv again from its
    summary.json, run.json and ledgers (any run folder, older ones too), or for a leaderboard
    folder its leaderboard.html, .md and .png and every run folder's, or for a sweep folder its
    sweep.md and sweep.png and all of its leaderboard's. No model is loaded. --export writes a
    run's or a leaderboard's files for other tools from its ledgers."""
    written = rewrite(folder, report_template, leaderboard_template, export)
    for path in written:
        click.echo(str(path))
    if open_page:
        page = written[0].resolve()
        try:
            opened = webbrowser.open(page.as_uri())
        except webbrowser.Error:
            opened = False
        if not opened:
            click.echo(f"no web browser to open it with here; open {page} yourself")
