"""judge.compare, judge.leaderboard and judge.report: the runs a notebook starts or reads again.

    import judge
    result = judge.compare("smollm2", "out/final", limit=20)
    result.summary.pairwise.win_rate, result.to_pandas()          # the numbers, the verdicts
    board = judge.leaderboard("smollm2", ["out/ckpt-100", "out/final"], limit=20)
    board.to_pandas()                                             # the standings

Each takes the CLI's options as keyword arguments (judge/api/settings.py) and writes the same
folder as the command. Bad input raises InputError, a server that does not answer ServiceError.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from judge.api.defaults import slug
from judge.api.progress import ProgressArg, progress_for
from judge.api.results import Comparison, read_comparison
from judge.api.settings import compare_config
from judge.api.views import export_folder, regenerate
from judge.engines import load_engine
from judge.engines.pool import Loader
from judge.pipeline.compare import CompareConfig, run_compare
from judge.pipeline.export import check_export
from judge.pipeline.leaderboard import LeaderboardConfig, run_leaderboard
from judge.stats.leaderboard import Leaderboard


def compare(base: str, tuned: str, settings: CompareConfig | None = None, *,
            progress: ProgressArg = True, loader: Loader | None = None,
            **options: Any) -> Comparison:
    """Judge TUNED against BASE in both answer orders, as `judge compare BASE TUNED` does.

    `options` are the command's options by name (`limit=20`, `judge=[...]`, `engine="hf"`,
    `out=...`); `settings`, a CompareConfig, gives them all at once (options override it).
    `progress`: True for tqdm.auto bars, False for none, or a callback (stage, total) ->
    advance(done, tokens). `loader` replaces how engines are loaded (the engine seam).
    Returns the summary and every prompt's verdicts; the run folder holds the rest.
    """
    config = compare_config(base, tuned, settings, options)
    with progress_for(progress) as bars:
        run_compare(config, bars, loader or load_engine)
    return read_comparison(config.out)


def leaderboard(reference: str, models: Sequence[str], settings: CompareConfig | None = None, *,
                progress: ProgressArg = True, loader: Loader | None = None,
                cards: Mapping[str, str] | None = None, card_folders: bool = False,
                leaderboard_template: str | None = None, **options: Any) -> Leaderboard:
    """Judge every model against `reference`, as `judge leaderboard --reference REF MODEL...`;
    `cards` maps a model to the card to write its result in (--card-for), `card_folders` is
    --card. Returns leaderboard.json as a record (`.to_pandas()`: the standings)."""
    if isinstance(models, str):
        models = [models]
    if options.get("out") is None and settings is None:
        options["out"] = str(Path("results") / f"leaderboard-vs-{slug(reference.split('=')[-1])}")
    config = compare_config(reference, reference, settings, options)
    board = LeaderboardConfig(reference=reference, models=list(models), out=config.out,
                              settings=config, cards=dict(cards or {}),
                              card_folders=card_folders,
                              leaderboard_template=leaderboard_template)
    with progress_for(progress) as bars:
        return run_leaderboard(board, bars, loader or load_engine)


def report(folder: str | Path, report_template: str | None = None,
           leaderboard_template: str | None = None,
           export: Sequence[str] = ()) -> list[Path]:
    """Write a run's, a leaderboard's or a sweep's pages again from the folder alone, as `judge
    report FOLDER`; `export=["alpaca_eval"]` adds alpaca_eval's files (judge/pipeline/export.py).
    Returns the files written, the page to open first. `read_comparison(folder)` reads a run
    folder back as a Comparison."""
    for fmt in export:
        check_export(Path(folder), fmt)
    written = regenerate(Path(folder), report_template, leaderboard_template)
    for fmt in export:
        written += export_folder(Path(folder), fmt)
    return written
