"""Pieces every command shares: engine flags, the progress bars, defaults read from the environment.

Only the CLI layer (judge/cli/) reads environment variables.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

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

from judge.engines import EngineOptions
from judge.errors import InputError

if TYPE_CHECKING:
    from judge.report.tables import Grid

err_console = Console(stderr=True)


class Finite(click.FloatRange):
    """A FloatRange that also refuses nan and ±inf (a range check alone lets nan through)."""

    name = "finite float range"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


# Bounds on numbers that size work or memory: a seed numpy accepts, and a bootstrap that fits
# in memory (the paired bootstrap holds resamples x prompts counts).
SEED = click.IntRange(0, 2**32 - 1)
BOOTSTRAP = click.IntRange(100, 100_000)


def default_cache() -> str:
    return os.environ.get("JUDGE_CACHE_DIR", str(Path.home() / ".cache" / "judge"))


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
    hide_progress_bars()
    warnings.filterwarnings("ignore")


def literal_record(record: logging.LogRecord) -> bool:
    """A log line as text: its arguments (paths, names: data) lose terminal escape sequences."""
    from judge.escape import term_text

    if record.args:
        record.msg, record.args = term_text(record.getMessage()), ()
    return True


def hide_progress_bars() -> None:
    """Every tqdm bar is created disabled. TQDM_DISABLE is not enough: vLLM's weight loading and
    lm-eval pass `disable=` themselves, which overrides it."""
    import tqdm.std

    original = tqdm.std.tqdm.__init__
    if getattr(original, "judge_quiet", False):
        return

    @functools.wraps(original)
    def quiet(self, *args, **kwargs):
        kwargs["disable"] = True
        original(self, *args, **kwargs)

    quiet.judge_quiet = True  # type: ignore[attr-defined]
    tqdm.std.tqdm.__init__ = quiet  # type: ignore[method-assign]


FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "markdown"]), default="table",
    show_default=True, help="table: for the terminal; csv: every number, one per row (a "
    "leaderboard or battles file: one row per model); markdown: the table, for pasting.")


def check_format(as_json: bool, fmt: str) -> None:
    if as_json and fmt != "table":
        raise InputError(f"--json and --format {fmt} ask for two outputs; give one")


def print_grid(grid: Grid, fmt: str) -> None:
    """A table of `judge stats` or `judge agreement` as the terminal's or as Markdown."""
    from judge.report.export import markdown_table
    from judge.report.tables import rich_table

    if fmt == "markdown":
        click.echo(markdown_table(grid.title, grid.columns, grid.rows))
    else:
        Console().print(rich_table(grid))


STRUCTURED = click.option(
    "--structured/--no-structured", default=None, help="Constrain the judge's reply to what its "
    "template's parser reads (a choice of labels, reasoning then the verdict, or a JSON schema), "
    "so no verdict fails to parse. Default: on with vLLM (in-process or a vLLM server), off "
    "elsewhere; a run folder resumes as it was recorded.")


def engine_options(f):
    options = [
        click.option("--engine", type=click.Choice(["auto", "vllm", "hf", "openai", "ray"]),
                     default="auto", show_default=True, help="Model runtime: vLLM in-process, "
                     "transformers, an OpenAI-compatible server, vLLM engines on a Ray cluster "
                     "(pip install 'judge[ray]'), or auto (vLLM when installed, else "
                     "transformers)."),
        click.option("--replicas", type=click.IntRange(1), default=1, show_default=True,
                     help="ray engine: vLLM engines per model, each --tensor-parallel-size "
                     "devices wide; the work is spread over them."),
        click.option("--ray-address", default=None, help="ray engine: the cluster to join "
                     "('auto': the one `ray start` runs here; or HOST:PORT). Default: a local "
                     "cluster started for the run and stopped after it. The model path must be "
                     "readable on every node."),
        click.option("--base-url", "base_urls", multiple=True, help="openai engine: server URL "
                     "ending in /v1; repeat it for several servers (requests are spread over all "
                     "that serve a model)."),
        click.option("--api-key-env", default="OPENAI_API_KEY", show_default=True,
                     help="openai engine: environment variable holding the API key (if any)."),
        click.option("--concurrency", type=click.IntRange(1), default=8, show_default=True,
                     help="openai engine: requests in flight at once."),
        click.option("--request-timeout", type=Finite(0.1, 86_400.0), default=120.0,
                     show_default=True, help="openai engine: seconds per request."),
        click.option("--max-retries", type=click.IntRange(0), default=4, show_default=True,
                     help="openai engine: retries on 429/5xx/timeouts, with exponential backoff."),
        click.option("--dtype", default="auto", show_default=True,
                     help="Weights dtype; auto = float32 on CPU, the model's own on GPU."),
        click.option("--threads", type=click.IntRange(1), default=1, show_default=True,
                     help="torch threads on CPU (transformers engine)."),
        click.option("--batch-size", type=click.IntRange(1), default=16, show_default=True,
                     help="Prompts per forward batch (transformers engine); ray engine: "
                     "prompts sent to an engine together (their replies come back together)."),
        click.option("--gpu-memory-utilization", type=Finite(0.05, 1.0), default=0.4,
                     show_default=True, help="vLLM GPU memory share."),
        click.option("--kv-cache-gb", type=Finite(0.1), default=None,
                     help="vLLM KV cache size in GiB (default on CPU: 2; on GPU: what "
                     "--gpu-memory-utilization leaves)."),
        click.option("--max-model-len", type=click.IntRange(128), default=2048, show_default=True,
                     help="vLLM context length."),
        click.option("--tensor-parallel-size", type=click.IntRange(1), default=1,
                     show_default=True, help="vLLM tensor parallel GPUs per model."),
        click.option("--block-size", type=click.IntRange(1), default=None,
                     help="vLLM KV-cache block size (default on CPU: 32, chosen by measurement; "
                     "on GPU: vLLM's). Smaller blocks let the prefix cache reuse the opening "
                     "the two orders of a pair share."),
        click.option("--trust-remote-code", is_flag=True, help="Allow model repos to run code."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def judging_options(f):
    """How answers are made and judged: the options compare and leaderboard share."""
    options = [
        click.option("--judge", "judge_ref", multiple=True, default=["smollm2"],
                     show_default=True, callback=check_members,
                     help="Judge model: smollm2, a model folder, a .gguf file or a hub id; 'flow' "
                     "is Flow-Judge-v0.1 with its own format (template 'flow'), 'flow:PATH' a "
                     "local copy. MODEL@TEMPLATE gives it a template of its own. Repeat it for a "
                     "panel: each judge judges every pair, the panel decides by majority."),
        click.option("--controls", type=click.IntRange(0), default=8, show_default=True,
                     help="Control pairs per kind, built from the run's own answers (the real "
                     "answer against an answer to another prompt, and against itself cut short): "
                     "they check the judge and count in no win rate; 0 skips them."),
        click.option("--flow-metric", default=None, help="Flow judge: the rubric (a flow-judge "
                     "preset or helpfulness-5, correctness-5, correctness-binary); default picked "
                     "from the prompts."),
        click.option("--prompts", default=None,
                     help="Prompt set: 'builtin' (48 instructions; the default when no model is "
                     "an answers file), a .jsonl/.json/.csv/.parquet file, or a datasets hub id "
                     "ORG/NAME[:CONFIG][@SPLIT]. With answers files: only these prompts (default: "
                     "the prompts the files answer)."),
        click.option("--prompt-column", default=None,
                     help="Column with the prompt text (default: 'prompt', else 'instruction')."),
        click.option("--limit", type=int, default=None, help="Use only the first N prompts."),
        click.option("--template", default="pairwise", show_default=True,
                     help="Judge template: a name from prompts/ or a path to your own .j2 file."),
        click.option("--verdict", type=click.Choice(["text", "logprob", "both"]), default="both",
                     show_default=True, help="Read the verdict from the judge's text, from label "
                     "probabilities of its first token, or both (text where it parses, else "
                     "log-prob)."),
        STRUCTURED,
        click.option("--max-new-tokens", type=click.IntRange(1), default=256, show_default=True,
                     help="Answer length budget for the models that answer."),
        click.option("--judge-max-new-tokens", type=click.IntRange(1), default=48,
                     show_default=True, help="Reply length budget for the judge (text verdicts)."),
        click.option("--temperature", type=Finite(0.0), default=0.0, show_default=True,
                     help="Sampling temperature for answers (0 = greedy)."),
        click.option("--seed", type=SEED, default=0, show_default=True,
                     help="Seed for sampling and the bootstrap."),
        click.option("--confidence", type=Finite(0.5, 0.999), default=0.95,
                     show_default=True, help="Interval level."),
        click.option("--bootstrap", type=BOOTSTRAP, default=2000, show_default=True,
                     help="Bootstrap resamples for the paired interval."),
        click.option("--chunk", type=click.IntRange(1), default=16, show_default=True,
                     help="Prompts per engine call; each chunk is saved as soon as it is done, so "
                     "a crash loses at most one chunk."),
        click.option("--cache-dir", default=default_cache, show_default="$JUDGE_CACHE_DIR or "
                     "~/.cache/judge", help="Where converted GGUF models are kept."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def check_members(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]):
    """Each --judge value is MODEL or MODEL@TEMPLATE; a malformed one is one line, exit 2."""
    from judge.pipeline.panel import split_member

    for spec in value:
        split_member(spec)
    return value


def engine_config(engine: dict, seed: int) -> EngineOptions:
    """EngineOptions from the shared engine flags; the API key is read here, and only here."""
    key_env = engine.pop("api_key_env")
    api_key = os.environ.get(key_env) if key_env else None
    return EngineOptions(kind=engine.pop("engine"), seed=seed, api_key=api_key, **engine)


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


def slug(ref: str) -> str:
    """A folder-name-safe name for a reference; an answers file by its folder and name
    (alpaca_eval calls every file model_outputs.json and tells them apart by their folder)."""
    path = Path(ref.rstrip("/"))
    name = path.name or ref
    if path.suffix.lower() in (".json", ".jsonl"):
        name = f"{path.parent.name}-{path.stem}" if path.parent.name else path.stem
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name).removesuffix(".gguf")


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
