"""`judge sweep`: train one model per trial of a grid (or of seeded random draws), judge every
trial against the base as one leaderboard, and rank the checkpoints by the judged result.

The folder (sweep.json .md .png, trials/, recipes/, logs/, leaderboard/) is laid out in
judge/runs/boards.py.

A model folder goes by its name (in judgment lines, leaderboards and its card), so each trial's
model is the folder named after the trial, and its recipe and log sit beside, not in it.

Everything is checked before anything is written: every trial's recipe (fields, types, the trl
config, the data, the model), the accelerate config, the GPUs for --parallel, the judge, template
and prompts. Then the trials that need it train (judge/sweep/launch.py), and every trained
trial is judged through the leaderboard's own API, so a rerun trains and judges only what is
missing and a trial added to a sweep costs only that trial.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import Field

from judge.card.write import check_card, write_card
from judge.engines import load_engine
from judge.engines.pool import Loader
from judge.errors import InputError
from judge.files import check_targets, check_writable, read_text, write_atomic
from judge.models.refs import resolve_model
from judge.pipeline.compare import CompareConfig, Progress, plan_run
from judge.pipeline.leaderboard import (
    LeaderboardConfig,
    folder_battles,
    run_leaderboard,
)
from judge.pipeline.timing import stage_time
from judge.records import Record
from judge.report.sweep import card_table, write_sweep_views
from judge.runs.boards import SweepFolder
from judge.runs.folder import RunFolder, read_json
from judge.runs.lock import folder_lock
from judge.runs.summary import StageTime
from judge.stats.leaderboard import Leaderboard
from judge.stats.sweep import (
    Sweep,
    ThisRun,
    Trained,
    TrialResult,
    rank_trials,
    separation,
)
from judge.sweep.launch import Done, Job, gpu_groups, next_action, run_jobs
from judge.sweep.trials import (
    Trial,
    build_trial,
    grid_points,
    parse_grid,
    parse_space,
    random_points,
    recipe_text,
    with_output,
)
from judge.train.data import mix
from judge.train.methods import MethodName, method
from judge.train.outputs import read_record
from judge.train.recipe import find_accelerate_config, find_recipe, read_recipe_file
from judge.train.run import build_config

Say = Callable[[str], None]
DONE: dict[str, ThisRun] = {"skip": "skipped", "resume": "resumed", "fresh": "trained"}


class SweepConfig(Record):
    recipe: str | None = None  # a shipped recipe's name or a YAML file; None: judge's defaults
    method: MethodName | None = None  # None: the recipe's `method:`, else orpo
    grid: list[str] = []  # FIELD=V1,V2
    random: int | None = Field(default=None, gt=0)
    space: list[str] = []  # FIELD=LOW:HIGH[:log]
    space_seed: int = 0
    settings: list[str] = []  # `--FIELD VALUE` tokens that every trial gets
    out: str
    judging: CompareConfig  # base, tuned and out are the sweep's to set
    parallel: int = Field(default=1, gt=0)
    accelerate_config: str | None = None
    gpus: list[str] = []  # the GPUs the sweep may use (the CLI reads them)
    card: str | None = None  # write the best trial's card here, with the sweep table in it


class SweepPlan(NamedTuple):
    folder: SweepFolder
    trials: list[Trial]
    base: str  # the base model's reference: every trial's recipe model
    space: dict[str, Any]
    launcher: Path | None  # the accelerate config every trial runs under, found and checked


def trial_points(config: SweepConfig, method_name: str) -> tuple[list[dict[str, str]], dict]:
    if config.grid and config.random:
        raise InputError("--grid and --random exclude each other: give one")
    if config.random:
        ranges = parse_space(config.space, method_name)
        space = {"kind": "random", "n": config.random, "seed": config.space_seed,
                 "ranges": dict(s.split("=", 1) for s in config.space)}
        return random_points(ranges, config.random, config.space_seed), space
    if config.space:
        raise InputError("--space needs --random N (a grid is --grid FIELD=V1,V2)")
    axes = parse_grid(config.grid)
    return grid_points(axes), {"kind": "grid", "axes": {a.field: a.values for a in axes}}


def plan_sweep(config: SweepConfig) -> SweepPlan:
    """Read and check everything, every trial's whole recipe included, before anything is
    written or trained."""
    folder = SweepFolder(config.out)
    check_writable(folder.root, "--out")
    check_targets([folder.json_file, folder.md_file, folder.plot_file])
    file_values = read_recipe_file(find_recipe(config.recipe)) if config.recipe else {}
    method_name = config.method or str(file_values.get("method", "orpo"))
    method(method_name)
    points, space = trial_points(config, method_name)
    origin, option = config.recipe or "(defaults)", "--space" if config.random else "--grid"
    trials: dict[str, Trial] = {}
    for point in points:
        trial = build_trial(point, file_values, config.settings, method_name, origin, option)
        if trial.name in trials and not config.random:
            raise InputError(f"--grid gives the same trial twice ({trial.name}): drop the repeat")
        trials.setdefault(trial.name, with_output(trial, folder.model(trial.name)))
    check_trials(list(trials.values()), config)
    launcher = check_accelerate(config) if config.accelerate_config else None
    base = next(iter(trials.values())).recipe.model
    judging = config.judging.model_copy(update={
        "base": base, "tuned": base, "out": str(folder.leaderboard / ".check"), "card": None})
    plan_run(judging)  # the judge, its template and the prompts, checked on the base alone
    if config.card:
        check_card(Path(config.card), config.judging.card_template)
    return SweepPlan(folder, list(trials.values()), base, space, launcher)


def check_trials(trials: list[Trial], config: SweepConfig) -> None:
    """What the child would refuse, refused now: the trl config, the data, the model."""
    seen: set[str] = set()
    for trial in trials:
        recipe = trial.recipe
        recipe_text(recipe)
        args = build_config(recipe)
        key = json.dumps([recipe.datasets, recipe.dataset_splits, recipe.eval_fraction,
                          args.seed, recipe.method])
        if key not in seen:
            mix(recipe.datasets, recipe.dataset_splits, recipe.eval_fraction, args.seed,
                method(recipe.method).shape)
            seen.add(key)
    resolve_model(trials[0].recipe.model, Path(config.judging.cache_dir))
    gpu_groups(config.gpus, config.parallel)


def check_accelerate(config: SweepConfig) -> Path:
    """The --accelerate-config file (a path or a shipped name), read and fitted to --parallel."""
    path = find_accelerate_config(config.accelerate_config or "")
    try:
        data = yaml.safe_load(read_text(path, "--accelerate-config", 1 << 20))
    except (yaml.YAMLError, RecursionError):
        raise InputError(f"--accelerate-config {path} is not a readable YAML file") from None
    if not isinstance(data, dict):
        raise InputError(f"--accelerate-config {path} is not an accelerate config (a mapping)")
    share = len(config.gpus) // config.parallel if config.gpus else None
    wanted = int(data.get("num_processes", 1))
    if share is not None and config.parallel > 1 and wanted > share:
        raise InputError(f"--accelerate-config {path} starts {wanted} processes per trial; with "
                         f"--parallel {config.parallel} on {len(config.gpus)} GPUs each trial "
                         f"has {share}")
    return path


def train_trials(plan: SweepPlan, config: SweepConfig, environ: Mapping[str, str],
                 say: Say) -> tuple[dict[str, ThisRun], dict[str, str]]:
    """Write every trial's recipe.yaml and train what needs it: (each trial's action this run,
    trained, resumed or skipped; the error of each trial whose child failed)."""
    actions: dict[str, ThisRun] = {}
    jobs = []
    for trial in plan.trials:
        recipe_file = plan.folder.recipe(trial.name)
        text = recipe_text(trial.recipe)
        if not recipe_file.is_file() or recipe_file.read_text(encoding="utf-8") != text:
            write_atomic(recipe_file, text)
        action = next_action(plan.folder.model(trial.name))
        actions[trial.name] = DONE[action]
        if action != "skip":
            jobs.append(Job(trial.name, trial.recipe.method, recipe_file,
                            plan.folder.model(trial.name), plan.folder.log(trial.name),
                            action == "resume"))
    skipped = len(plan.trials) - len(jobs)
    say(f"{len(plan.trials)} trials: {len(jobs)} to train, {skipped} already trained")

    def started(job: Job) -> None:
        say(f"training {job.name} ({'resumed' if job.resume else 'fresh'})")

    def finished(done: Done) -> None:
        if done.error:
            say(f"{done.name} failed after {done.seconds:.0f} s: {done.error} "
                f"(log: {plan.folder.log(done.name)})")
        else:
            say(f"{done.name} trained in {done.seconds:.0f} s")

    launcher = str(plan.launcher) if plan.launcher else None
    outcomes = run_jobs(jobs, config.parallel, config.gpus, config.judging.cache_dir,
                        launcher, environ, finished, started)
    return actions, {d.name: d.error for d in outcomes if d.error}


def trained(model_dir: Path) -> Trained | None:
    try:
        record = read_record(model_dir)
    except InputError:
        return None
    if not record.complete:
        return None
    return Trained(
        steps=record.global_step, planned_steps=record.planned_steps,
        train_loss=record.metrics.get("loss"), eval_loss=record.eval_metrics.get("eval_loss"),
        reward_accuracy=record.metrics.get("rewards/accuracies"),
        eval_reward_accuracy=record.eval_metrics.get("eval_rewards/accuracies"),
        seconds=record.seconds, resumed_from=record.resumed_from)


def judge_trials(plan: SweepPlan, config: SweepConfig, names: list[str], progress: Progress,
                 loader: Loader) -> Leaderboard:
    board = LeaderboardConfig(
        reference=plan.base, out=str(plan.folder.leaderboard), settings=config.judging,
        models=[str(plan.folder.model(name).resolve()) for name in names])
    return run_leaderboard(board, progress, loader)


def judge_check(folder: Path) -> tuple[str | None, list[str]]:
    """The pair's verdict on its judge, where its summary.json has one (issue 16's `verdict`)."""
    data = read_json(RunFolder(folder).summary_file).get("verdict")
    if not isinstance(data, dict):
        return None, []
    return data.get("status"), list(data.get("reasons", []))


def run_sweep(config: SweepConfig, progress: Progress, say: Say, environ: Mapping[str, str],
              loader: Loader = load_engine) -> Sweep:
    """Run (or resume, or extend) a sweep; return what sweep.json holds."""
    started = time.perf_counter()
    plan = plan_sweep(config)
    with folder_lock(plan.folder.root, "sweep folder"):
        return sweep_run(config, plan, progress, say, environ, loader, started)


def sweep_run(config: SweepConfig, plan: SweepPlan, progress: Progress, say: Say,
              environ: Mapping[str, str], loader: Loader, started: float) -> Sweep:
    """run_sweep's work, with the plan made and the sweep folder locked."""
    actions, errors = train_trials(plan, config, environ, say)
    train_seconds = time.perf_counter() - started
    results = {}
    for trial in plan.trials:
        record = None if trial.name in errors else trained(plan.folder.model(trial.name))
        error = errors.get(trial.name)
        if record is None and error is None:
            error = "the child exited without a complete training.json"
        results[trial.name] = TrialResult(
            name=trial.name, method=trial.recipe.method, settings=trial.settings,
            folder=str(plan.folder.model(trial.name).relative_to(plan.folder.root)),
            status="trained" if record else "failed",
            this_run=actions[trial.name] if record else "failed", error=error, training=record)
    names = [name for name, r in results.items() if r.status == "trained"]
    board: Leaderboard | None = None
    rows: dict[str, list[dict[str, Any]]] = {}
    if names:
        say(f"judging {len(names)} trials against {plan.base}")
        board = judge_trials(plan, config, names, progress, loader)
        battles, _ = folder_battles(plan.folder.leaderboard)
        for row in battles:
            rows.setdefault(row["model_b"], []).append(row)
        for standing in board.standings:
            status, reasons = judge_check(plan.folder.leaderboard / standing.folder)
            results[standing.name] = results[standing.name].model_copy(update={
                "judged": standing, "judge_check": status, "judge_check_reasons": reasons})
    ranked = rank_trials(list(results.values()))
    judged = [t for t in ranked if t.rank is not None]
    s = config.judging
    split = (separation(judged[0], judged[1], rows, s.confidence, s.bootstrap, s.seed)
             if len(judged) > 1 else None)
    timing: dict[str, StageTime] = {"train": stage_time(train_seconds, 0)}
    if board is not None:
        timing["judge"] = stage_time(board.timing["total"].seconds, 0)
    timing["total"] = stage_time(time.perf_counter() - started, 0)
    sweep = Sweep(
        recipe=config.recipe or "(defaults)", base=board.reference if board else plan.base,
        base_ref=plan.base, judge=board.judge if board else None,
        template=board.template if board else None,
        n_prompts=board.n_prompts if board else None, space=plan.space, trials=ranked,
        best=judged[0].name if judged else None, separation=split,
        leaderboard="leaderboard" if board else None,
        trained=[n for n, a in actions.items() if a != "skipped"],
        models_loaded=board.models_loaded if board else [], timing=timing)
    write_sweep(plan.folder, sweep)
    if config.card and sweep.best is not None:
        write_best_card(plan.folder, sweep, Path(config.card), s.card_template)
    return sweep


def write_sweep(folder: SweepFolder, sweep: Sweep) -> None:
    write_atomic(folder.json_file, json.dumps(sweep.as_json(), indent=2) + "\n")
    write_sweep_views(folder, sweep)


def write_best_card(folder: SweepFolder, sweep: Sweep, card: Path, template: str | None) -> None:
    """The best trial's card, from its run folder in the leaderboard, with the sweep table."""
    best = next(t for t in sweep.trials if t.name == sweep.best)
    assert best.judged is not None
    write_card(folder.leaderboard / best.judged.folder, card, template,
               {"sweep": card_table(sweep)})
