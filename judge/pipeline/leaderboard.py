"""`judge leaderboard --reference REF MODEL...`: every model judged against one reference, in both
orders, on the same prompts; one compare run folder per model, ranked at the top.

The folder (leaderboard.json .md .png .html, prompts.jsonl, the reference's generations, the
shared control verdicts, one run folder per model) is laid out in judge/runs/boards.py.

Everything is checked before any model loads. Then every model that has to answer does so, each
loaded once (the judge's own model last, so it stays loaded), the reference's answers are copied
into each folder, and every pair is judged by one judge loaded once (a panel: each judge in
turn). The control pairs are built from the reference's answers, so they are the same for every
pair: judged for the first, copied into the others' ledgers. Everything is cached as in `judge
compare`: listing one more model judges only that model.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, NamedTuple

from judge.card.write import check_card, write_card
from judge.engines import EngineOptions, load_engine
from judge.engines.pool import EnginePool, Loader
from judge.errors import InputError
from judge.files import check_targets, check_writable, read_jsonl, write_atomic
from judge.models.answers import AnswerSet, is_answers_ref, read_answers
from judge.models.refs import display_name
from judge.pipeline.compare import CompareConfig, Outcome, Plan, Progress, compare_outcome, plan_run
from judge.pipeline.export import write_board
from judge.pipeline.fill import Advance
from judge.pipeline.generate import generate_stage
from judge.pipeline.timing import stage_time
from judge.promptsets.align import align
from judge.promptsets.load import load_prompts
from judge.records import Generation, Judgment, ModelInfo, PromptItem, Record, SamplingParams
from judge.report.html import BOARD_PAGE, leaderboard_page, page_template
from judge.report.leaderboard import leaderboard_markdown, plot_leaderboard
from judge.report.views import render_views, write_views
from judge.runs.boards import LeaderboardFolder, folder_name
from judge.runs.folder import RunFolder, prompts_text, read_json
from judge.runs.ledger import Ledger
from judge.runs.lock import folder_lock
from judge.runs.reader import load_records, read_run
from judge.runs.summary import StageTime
from judge.stats.bradley_terry import bradley_terry
from judge.stats.leaderboard import (
    Entry,
    Leaderboard,
    battle_rows,
    category_rates,
    in_order,
    rank,
    read_leaderboard,
)


class LeaderboardConfig(Record):
    reference: str  # "REF" or "NAME=REF"
    models: list[str]  # likewise
    out: str
    settings: CompareConfig  # what every pair shares; base, tuned, out and card are set per pair
    cards: dict[str, str] = {}  # a model (as given, or its name) -> the card to write its result in
    card_folders: bool = False  # --card: every model that is a folder gets <folder>/README.md
    leaderboard_template: str | None = None  # your own leaderboard.html template


class Entrant(NamedTuple):
    name: str
    ref: str
    answers: AnswerSet | None


def entrant(given: str) -> Entrant:
    """`NAME=REF` names a model; a bare REF goes by the name its answers file gives, else by its
    display name (a folder by its last part, a hub id as is)."""
    name, ref = None, given
    if "=" in given and not Path(given).exists():
        name, ref = given.split("=", 1)
    answers = read_answers(ref) if is_answers_ref(ref) else None
    if not name:
        name = (answers.name or Path(ref).stem) if answers else display_name(ref)
    return Entrant(name, ref, answers)


class LeaderboardPlan(NamedTuple):
    folder: LeaderboardFolder
    reference: Entrant
    models: list[Entrant]
    items: list[PromptItem]
    cards: dict[str, Path]  # model name -> card


def plan_leaderboard(config: LeaderboardConfig) -> LeaderboardPlan:
    """Read and check every input, each pair included, before anything is written."""
    folder = LeaderboardFolder(config.out)
    check_writable(folder.root, "--out")
    check_targets([folder.json_file, folder.md_file, folder.plot_file, folder.html_file,
                   folder.prompts_file])
    reference, models = entrant(config.reference), [entrant(m) for m in config.models]
    check_names(reference, models)
    items = leaderboard_prompts(config.settings, [reference, *models])
    cards = card_targets(config, models)
    if config.leaderboard_template:
        page_template(config.leaderboard_template, BOARD_PAGE)
    for model in models:  # every pair's own checks: template, judge, models, cards
        plan_run(pair_config(config, folder, reference, model, checking=True))
    return LeaderboardPlan(folder, reference, models, items, cards)


def check_names(reference: Entrant, models: list[Entrant]) -> None:
    seen: dict[str, str] = {}
    for e in [reference, *models]:
        key = folder_name(e.name).lower()
        if key in seen:
            raise InputError(f"{seen[key]} and {e.ref} would both be called '{e.name}': name them "
                             f"NAME=REF (e.g. {e.name}-2={e.ref})")
        seen[key] = e.ref


def leaderboard_prompts(settings: CompareConfig, entrants: list[Entrant]) -> list[PromptItem]:
    """The prompts of the answers files (reference first), or the prompt set when there are none."""
    files = [e.answers for e in entrants if e.answers is not None]
    if not files:
        return load_prompts(settings.prompts or "builtin", settings.prompt_column, settings.limit)
    given = (load_prompts(settings.prompts, settings.prompt_column) if settings.prompts
             else None)
    return align(files, given, settings.limit)[0]


def card_targets(config: LeaderboardConfig, models: list[Entrant]) -> dict[str, Path]:
    targets = {m.name: Path(m.ref) / "README.md" for m in models
               if config.card_folders and Path(m.ref).is_dir()}
    for given, card in config.cards.items():
        match = [m for m in models if given in (m.name, m.ref)]
        if not match:
            raise InputError(f"--card-for {given}: no such model in this leaderboard "
                             f"({', '.join(m.name for m in models)})")
        targets[match[0].name] = Path(card)
    for path in targets.values():
        check_card(path, config.settings.card_template)
    return targets


def pair_config(config: LeaderboardConfig, folder: LeaderboardFolder, reference: Entrant,
                model: Entrant, checking: bool = False) -> CompareConfig:
    """One pair's compare settings. Its prompts are the leaderboard's prompts.jsonl; while
    checking (before that file exists) the user's own prompt options stand in."""
    update: dict[str, Any] = {"base": reference.ref, "tuned": model.ref, "card": None,
                              "out": str(folder.pair(model.name).root)}
    if not checking:
        update |= {"prompts": str(folder.prompts_file), "prompt_column": None, "limit": None}
    return config.settings.model_copy(update=update)


def write_prompts(folder: LeaderboardFolder, items: list[PromptItem]) -> None:
    write_atomic(folder.prompts_file, prompts_text(items))


class Bars:
    """One progress bar per model (its answers and its verdicts), one for the reference's answers
    and one for everything, so that each shows its own estimate of the time left."""

    def __init__(self, progress: Progress, plans: dict[str, Plan], reference_answers: bool) -> None:
        n = len(next(iter(plans.values())).items)
        totals = {name: 2 * n * len(plan.judges) + (n if plan.models["tuned"].kind == "model"
                                                    else 0)
                  for name, plan in plans.items()}
        everything = sum(totals.values()) + (n if reference_answers else 0)
        self.total = progress("all models", everything)
        self.bars = {name: progress(name, total) for name, total in totals.items()}
        self.reference = progress("reference", n) if reference_answers else None

    def advance(self, name: str | None) -> Advance:
        bar = self.reference if name is None else self.bars[name]

        def step(done: int, tokens: int) -> None:
            assert bar is not None
            bar(done, tokens)
            self.total(done, 0)

        return step

    def judging(self, name: str) -> Progress:
        """A pair's stage callback: its judging (every judge of a panel) moves the model's bar;
        its answers are all cached by then (the first phase made them) and its control pairs
        are not counted, so they move nothing."""
        return lambda stage, total: (self.advance(name) if stage.startswith("judge")
                                     else (lambda d, t: None))


def answer_first(folder: LeaderboardFolder, plans: dict[str, Plan], pool: EnginePool,
                 bars: Bars, chunk: int) -> dict[str, StageTime]:
    """Every answer a model has to give, each model loaded once, the judge's model last; then the
    reference's answers copied into every pair's folder. Returns each model's answering time."""
    first = next(iter(plans.values()))
    reference, judge = first.models["base"], first.models["judge"]
    jobs: list[tuple[ModelInfo, SamplingParams, Path, str | None, EngineOptions | None]] = []
    if reference.kind == "model":
        shared = RunFolder(folder.root).generations(reference)  # beside the pairs, not in one
        jobs.append((reference, first.sampling["base"], shared, None, first.engines.get("base")))
    for pair, plan in plans.items():
        model = plan.models["tuned"]
        if model.kind == "model":
            jobs.append((model, plan.sampling["tuned"], RunFolder(plan.out).generations(model),
                         pair, plan.engines.get("tuned")))
    jobs.sort(key=lambda job: job[0].fingerprint == judge.fingerprint)  # stable: else in order
    made: dict[str, Generation] = {}
    timing: dict[str, StageTime] = {}
    for model, params, path, bar, engine in jobs:
        found, stage = generate_stage(pool, model, first.items, params, Ledger(path, Generation),
                                      chunk, bars.advance(bar), engine)
        timing[f"generate_{bar or 'reference'}"] = stage.as_time()
        if bar is None:
            made = found
    for plan in plans.values():
        if made:
            Ledger(RunFolder(plan.out).generations(reference), Generation).append(made.values())
    return timing


def share_controls(folder: LeaderboardFolder, plan: Plan, into_pair: bool) -> None:
    """Copy the control lines of every judge from the leaderboard's ledgers into a pair's
    (before it runs: it finds them cached) or back (after: the next pair does). The pairs are
    built from the reference's answers, so their keys are the same in every pair."""
    shared, own = RunFolder(folder.root), RunFolder(plan.out)
    for judge in plan.judges.values():
        paths = (shared.controls(judge.model, judge.template["name"]),
                 own.controls(judge.model, judge.template["name"]))
        source, target = paths if into_pair else paths[::-1]
        if source.is_file():
            Ledger(target, Judgment).append(Ledger(source, Judgment).records.values())


def run_leaderboard(
    config: LeaderboardConfig, progress: Progress, loader: Loader = load_engine
) -> Leaderboard:
    """Run (or extend, or resume) a leaderboard; return what leaderboard.json holds."""
    started = time.perf_counter()
    plan = plan_leaderboard(config)
    with folder_lock(plan.folder.root, "leaderboard folder"):
        return board_run(config, plan, progress, loader, started)


def board_run(config: LeaderboardConfig, plan: LeaderboardPlan, progress: Progress,
              loader: Loader, started: float) -> Leaderboard:
    """run_leaderboard's work, with the plan made and the leaderboard folder locked."""
    folder = plan.folder
    write_prompts(folder, plan.items)
    pairs = {m.name: pair_config(config, folder, plan.reference, m) for m in plan.models}
    plans = {name: plan_run(pair)[0] for name, pair in pairs.items()}
    bars = Bars(progress, plans, plans[plan.models[0].name].models["base"].kind == "model")
    pool = EnginePool(config.settings.engine, loader)
    outcomes: dict[str, Outcome] = {}
    try:
        timing = answer_first(folder, plans, pool, bars, config.settings.chunk)
        for name, pair in pairs.items():
            start = time.perf_counter()
            share_controls(folder, plans[name], into_pair=True)
            outcomes[name] = compare_outcome(pair, bars.judging(name), loader, pool)
            share_controls(folder, plans[name], into_pair=False)
            timing[f"judge_{name}"] = stage_time(time.perf_counter() - start, 0)
    finally:
        pool.close()
    timing["load_models"] = stage_time(pool.load_seconds, 0)
    timing["total"] = stage_time(time.perf_counter() - started, 0)
    board = tabulate(config, plan, outcomes).model_copy(
        update={"timing": timing, "models_loaded": list(pool.loads)})
    write_leaderboard(folder, board, config.leaderboard_template)
    if config.settings.export:
        write_board(folder.root, board)
    if plan.cards:
        for model in plan.models:
            if model.name in plan.cards:
                write_card(folder.pair(model.name).root, plan.cards[model.name],
                           config.settings.card_template)
    return board


def tabulate(config: LeaderboardConfig, plan: LeaderboardPlan,
             outcomes: dict[str, Outcome]) -> Leaderboard:
    s, ref = config.settings, plan.reference.name
    common = (s.confidence, s.bootstrap, s.seed)
    rows = [row for name, o in outcomes.items() for row in battle_rows(o.judgments, ref, name)]
    table = bradley_terry(in_order(rows), ref, *common)
    entries = [
        Entry(m.name, m.ref, "answers" if m.answers else "model", folder_name(m.name),
              outcomes[m.name].summary.pairwise,
              category_rates(outcomes[m.name].items, outcomes[m.name].judgments, *common,
                             panel=outcomes[m.name].by_judge),
              outcomes[m.name].summary.verdict)
        for m in plan.models
    ]
    any_summary = next(iter(outcomes.values())).summary
    return Leaderboard(reference=ref, reference_ref=plan.reference.ref, judge=any_summary.judge,
                       template=any_summary.template, n_prompts=len(plan.items),
                       standings=rank(entries, table), bradley_terry=table,
                       controls=any_summary.controls,
                       smoke_test=any_summary.verdict.smoke_test if any_summary.verdict else [])


def write_leaderboard(folder: LeaderboardFolder, board: Leaderboard,
                      template: str | None = None) -> None:
    page = leaderboard_page(board, template)  # rendered first: a failing template writes nothing
    write_atomic(folder.json_file, json.dumps(board.as_json(), indent=2) + "\n")
    write_board_views(folder, board, page)


def write_board_views(folder: LeaderboardFolder, board: Leaderboard, page: str) -> list[Path]:
    write_atomic(folder.md_file, leaderboard_markdown(board) + "\n")
    write_atomic(folder.html_file, page)
    plot_leaderboard(board, folder.plot_file)
    return [folder.html_file, folder.md_file, folder.plot_file]


def rewrite_board(root: Path, page_template: str | None = None,
                  board_template: str | None = None) -> list[Path]:
    """`judge report LEADERBOARD`: leaderboard.md, .png and .html from leaderboard.json, and
    every view of each of its run folders; all rendered before any is written."""
    board, folder = read_board(root), LeaderboardFolder(root)
    page = leaderboard_page(board, board_template)
    runs = []
    for standing in board.standings:
        run_folder = RunFolder(folder.root / standing.folder)
        data = read_run(run_folder)
        runs.append((run_folder, data, render_views(run_folder, data, page_template)))
    written = write_board_views(folder, board, page)
    for run_folder, data, texts in runs:
        written += write_views(run_folder, data, texts)
    return written


def read_board(root: Path) -> Leaderboard:
    path = LeaderboardFolder(root).json_file
    if not path.is_file():
        raise InputError(f"{root} is not a leaderboard folder (it has no leaderboard.json); "
                         "for one run, give its judgments file")
    return read_leaderboard(read_json(path), str(path))


def folder_battles(root: Path) -> tuple[list[dict[str, Any]], str]:
    """The named battles of a leaderboard folder, read back from its judgment lines (the ones
    naming the reference and the model, on the leaderboard's prompts; the latest line of a prompt
    and order wins, as in the card), and the reference's name: what `judge stats FOLDER` fits."""
    board, folder = read_board(root), LeaderboardFolder(root)
    if not folder.prompts_file.is_file():
        raise InputError(f"{folder.prompts_file} is missing: is {root} a leaderboard folder?")
    prompts = {str(row.get("prompt_id")) for row in read_jsonl(folder.prompts_file)[0]}
    rows: list[dict[str, Any]] = []
    for standing in board.standings:
        run_folder = RunFolder(folder.root / standing.folder)
        run = run_folder.read_run()
        for judge, template in run.judge_ledgers():  # a panel: every judge's lines are battles
            latest: dict[tuple[str, str | None], Judgment] = {}
            for j in load_records(run_folder.judgments(judge, template), Judgment):
                named = (j.base_model, j.tuned_model) == (board.reference, standing.name)
                if named and j.prompt_id in prompts:
                    latest[(j.prompt_id, j.order)] = j
            rows += battle_rows(list(latest.values()), board.reference, standing.name)
    return in_order(rows), board.reference
