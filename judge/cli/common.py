"""Pieces every command shares: the judging flags, the progress bars, defaults read from the
environment (the engine flags: judge/cli/engine_flags.py, re-exported here).

Only the CLI layer (judge/cli/) reads environment variables.
"""

from __future__ import annotations

import functools
import logging
import os
import time
import warnings
from contextlib import contextmanager

import click
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from judge.api.defaults import default_cache, slug
from judge.cli.engine_flags import engine_config, engine_options, role_engine_options
from judge.cli.params import BOOTSTRAP, SEED, Finite, OneLine, field_option
from judge.errors import InputError
from judge.escape import term_text
from judge.pipeline.panel import split_member
from judge.pipeline.settings import CompareConfig
from judge.report.export import markdown_table
from judge.report.grid import Grid
from judge.report.tables import rich_table

__all__ = ["BOOTSTRAP", "SEED", "Finite", "OneLine", "default_cache", "engine_config",
           "engine_options", "role_engine_options", "slug"]

err_console = Console(stderr=True)


def quiet_backends(verbose: bool = False) -> None:
    """Set up logging once, at the CLI's entry, for every command.

    judge's own log lines always show. The engines' and libraries' own output does not, unless
    --verbose: vLLM's start-up banners and CPU notices, Triton and NUMA warnings (torch's C++
    log), weight-loading bars, lm-eval's and the trainer's tqdm bars, deprecation chatter. None of
    it tells a user of judge something they can act on, and errors reach them as judge's one line.
    Environment defaults are set here, before any of those libraries is imported; the user's own
    values win.
    """
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    handler = RichHandler(console=err_console, show_path=verbose, markup=False)
    handler.addFilter(literal_record)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(message)s", handlers=[handler], force=True)
    logging.getLogger("judge").setLevel(logging.INFO)
    if verbose:
        return
    handler.addFilter(lambda record: record.name.split(".")[0] == "judge")
    os.environ.setdefault("VLLM_CONFIGURE_LOGGING", "0")  # its records reach our filter instead
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
    os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")  # "[W ...] NUMA binding" and the like
    # torch logs through a handler of its own that "Triton not available" when it looks for
    # kernels; a CPU install has no triton (make setup removes it)
    logging.getLogger("torch._library.triton").setLevel(logging.ERROR)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    warnings.filterwarnings("ignore")


def literal_record(record: logging.LogRecord) -> bool:
    """A log line as text: its arguments (paths, names: data) lose terminal escape sequences."""
    if record.args:
        record.msg, record.args = term_text(record.getMessage()), ()
    return True


@contextmanager
def hidden_progress_bars():
    """For the length of one command, every tqdm bar is created disabled. TQDM_DISABLE is not
    enough: vLLM's weight loading and lm-eval pass `disable=` themselves, which overrides it.
    The patch is the CLI's alone and is undone when the command ends, so judge used as a
    library (judge/api/) never touches other libraries' bars."""
    import tqdm.std

    # restored as it was found: the class's own entry (tqdm's is a partialmethod descriptor)
    entry = vars(tqdm.std.tqdm)["__init__"]
    original = tqdm.std.tqdm.__init__
    if getattr(original, "judge_quiet", False):  # a command inside a command: already hidden
        yield
        return

    @functools.wraps(original)
    def quiet(self, *args, **kwargs):
        kwargs["disable"] = True
        original(self, *args, **kwargs)

    quiet.judge_quiet = True  # type: ignore[attr-defined]
    tqdm.std.tqdm.__init__ = quiet  # type: ignore[method-assign]
    try:
        yield
    finally:
        tqdm.std.tqdm.__init__ = entry  # type: ignore[method-assign]


FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "markdown"]), default="table",
    show_default=True, help="table: for the terminal; csv: every number, one per row (a "
    "leaderboard or battles file: one row per model); markdown: the table, for pasting.")


EXPORT = click.option(
    "--export", multiple=True, type=click.Choice(["alpaca_eval"]),
    help="Also write the run in another tool's files, beside its own: alpaca_eval writes "
    "alpaca_eval/annotations.json and alpaca_eval/leaderboard.csv (a leaderboard: one row per "
    "model), which alpaca_eval's own scripts and `judge stats` read.")


def check_format(as_json: bool, fmt: str) -> None:
    if as_json and fmt != "table":
        raise InputError(f"--json and --format {fmt} ask for two outputs; give one")


def print_grid(grid: Grid, fmt: str) -> None:
    """A table of `judge stats` or `judge agreement` as the terminal's or as Markdown."""
    if fmt == "markdown":
        click.echo(markdown_table(grid.title, grid.columns, grid.rows))
    else:
        Console().print(rich_table(grid))


STRUCTURED = field_option(CompareConfig, "structured")


def judging_options(f):
    """How answers are made and judged: the options compare and leaderboard share, each derived
    from its CompareConfig field (judge/pipeline/settings.py: default, range, help)."""
    record = CompareConfig
    options = [
        field_option(record, "judge", "--judge", "judge_ref", multiple=True,
                     default=["smollm2"], show_default=True, callback=check_members),
        *(field_option(record, name) for name in (
            "controls", "flow_metric", "prompts", "prompt_column", "limit", "template",
            "verdict")),
        STRUCTURED,
        *(field_option(record, name) for name in (
            "max_new_tokens", "judge_max_new_tokens", "temperature", "seed", "confidence",
            "bootstrap")),
        field_option(record, "chunk", "--window", "--chunk", "chunk"),
        field_option(record, "cache_dir", default=default_cache,
                     show_default="$JUDGE_CACHE_DIR or ~/.cache/judge"),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def check_members(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]):
    """Each --judge value is MODEL or MODEL@TEMPLATE; a malformed one is one line, exit 2."""
    for spec in value:
        split_member(spec)
    return value


def progress_callback(bars: Progress):
    def start(name: str, total: int):
        task = bars.add_task(name, total=total, rate="")
        began, tokens = time.perf_counter(), [0]

        def advance(done: int, new_tokens: int) -> None:
            tokens[0] += new_tokens
            elapsed = time.perf_counter() - began
            rate = f"{tokens[0] / elapsed:.1f} tok/s" if tokens[0] and elapsed > 0 else ""
            bars.update(task, advance=done, rate=rate)

        return advance

    return start


@contextmanager
def stage_progress(eta: bool = False):
    """Rich bars on stderr, one per stage, with counts and tokens/s (and with `eta`, the time
    left at the pace so far); yields the callback the pipelines take as `progress`."""
    left = [TimeRemainingColumn()] if eta else []
    with Progress(
        TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), *left, console=err_console,
    ) as bars:
        yield progress_callback(bars)
