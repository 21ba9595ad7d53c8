"""The `judge` command line, as a table of contents: each command lives in its own module.

    judge compare BASE TUNED            judge/cli/compare.py
    judge leaderboard --reference R M.. judge/cli/leaderboard.py
    judge sweep --recipe R --grid F=A,B judge/cli/sweep.py
    judge demo                          judge/cli/demo.py
    judge train orpo|dpo|sft           judge/cli/train.py
    judge bench MODEL / judge card RUN  judge/cli/bench.py, judge/cli/card.py
    judge report RUN_OR_LEADERBOARD     judge/cli/report.py
    judge stats FILE                    judge/cli/stats.py
    judge agreement FILE                judge/cli/agreement.py
    judge templates list|show|check     judge/cli/templates.py

Errors become one line here and nowhere else: bad input exits 2, a service that does not answer 1.
"""

from __future__ import annotations

import sys

import click

from judge.cli.agreement import agreement
from judge.cli.bench import bench
from judge.cli.card import card
from judge.cli.common import err_console, hidden_progress_bars, quiet_backends
from judge.cli.compare import compare
from judge.cli.demo import demo
from judge.cli.leaderboard import leaderboard
from judge.cli.report import report
from judge.cli.stats import stats
from judge.cli.sweep import sweep
from judge.cli.templates import templates
from judge.cli.train import train
from judge.errors import InputError, ServiceError
from judge.escape import term_text


@click.group(invoke_without_command=True)
@click.version_option(package_name="judge")
@click.option("--verbose", is_flag=True, help="Show the engines' and libraries' own logs, "
              "warnings and progress bars (hidden by default).")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Is the tuned model better than its base, and how sure are we?"""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        ctx.exit(0)
    quiet_backends(verbose)
    if not verbose:  # undone when the command ends (click closes the context)
        ctx.with_resource(hidden_progress_bars())


for command in (compare, leaderboard, report, sweep, demo, train, bench, card, stats, agreement,
                templates):
    cli.add_command(command)


def say_error(text: str) -> None:
    """The one error line: literal (no rich markup, no emoji codes, no terminal escapes)."""
    err_console.print(f"judge: error: {term_text(text)}", markup=False, highlight=False,
                      emoji=False, soft_wrap=True)


def main() -> None:
    """Entry point: input errors print one line and exit 2, never a traceback."""
    try:
        cli.main(standalone_mode=False)
    except InputError as err:
        say_error(str(err))
        sys.exit(2)
    except ServiceError as err:
        say_error(str(err))
        sys.exit(1)
    except click.exceptions.Abort:
        err_console.print("judge: aborted")
        sys.exit(130)
    except click.ClickException as err:
        say_error(err.format_message())
        sys.exit(err.exit_code)


if __name__ == "__main__":
    main()
