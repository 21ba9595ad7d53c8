"""`judge agreement --judge MODEL --pairs LABELED.jsonl`: judge human-labelled pairs, then score.

The pairs go through the very stage `judge compare` uses (judge.stages.judge_stage): output_a plays
"base" and output_b "tuned", each pair is judged in both orders, and every call lands in the same
kind of append-only ledger under --out, so a rerun costs nothing it already paid for. The
base-first line gives `verdict`, the tuned-first line (already mapped back) `verdict_swapped`.
"""

from __future__ import annotations

import json
from pathlib import Path

from judge.engines import EngineOptions, load_engine
from judge.engines.pool import EnginePool, Loader
from judge.errors import InputError
from judge.files import check_writable, write_atomic
from judge.models.refs import resolve_model
from judge.pipeline.compare import Progress
from judge.pipeline.judging import Judge, VerdictMode, judge_stage
from judge.pipeline.ledger import Ledger
from judge.pipeline.run_folder import RunFolder
from judge.records import Judgment, PromptItem, Record, SamplingParams, Winner
from judge.stats.agreement import (
    AgreementLine,
    AgreementStats,
    IdLine,
    Label,
    Verdict,
    agreement,
    parse_lines,
)
from judge.stats.lines import read_lines
from judge.templates.template import load_template

AS_LABEL: dict[Winner, Verdict] = {"base": "A", "tuned": "B", "tie": "tie", "invalid": "invalid"}


class LabeledPair(IdLine):
    instruction: str
    output_a: str
    output_b: str
    label: Label
    category: str | None = None


class AgreementConfig(Record):
    judge: str
    pairs: str
    template: str = "pairwise"
    verdict: VerdictMode = "both"
    judge_max_new_tokens: int = 48
    chunk: int = 16
    out: str
    cache_dir: str
    engine: EngineOptions = EngineOptions()


def verdict_lines(pairs: list[LabeledPair], judgments: list[Judgment]) -> list[AgreementLine]:
    """One agreement line per pair from its two judgment lines."""
    found = {(j.prompt_id, j.order): AS_LABEL[j.winner] for j in judgments}
    return [
        AgreementLine(id=p.id, label=p.label, verdict=found[(p.id, "base_first")],
                      verdict_swapped=found[(p.id, "tuned_first")], category=p.category)
        for p in pairs
    ]


def run_agreement(
    config: AgreementConfig, progress: Progress, loader: Loader = load_engine
) -> AgreementStats:
    """Judge every pair in both orders (cached under --out), write verdicts.jsonl and
    agreement.json there, and return the agreement metrics."""
    pairs = parse_lines(read_lines(Path(config.pairs)), config.pairs, LabeledPair)
    template = load_template(config.template)
    if template.kind != "pairwise":
        raise InputError(f"template {template.name} is {template.kind}; agreement needs a pairwise "
                         "template (its labels are compared with the human A/B/tie labels)")
    if config.verdict != "text" and not template.labels:
        raise InputError(f"template {template.name} declares no labels for --verdict logprob")
    out = Path(config.out)
    check_writable(out, "--out")
    judge = resolve_model(config.judge, Path(config.cache_dir), config.engine.dtype)
    items = [PromptItem(prompt_id=p.id, prompt=p.instruction) for p in pairs]
    answers = {p.id: (p.output_a, p.output_b) for p in pairs}
    params = SamplingParams(max_new_tokens=config.judge_max_new_tokens, temperature=0.0)
    ledger = Ledger(RunFolder(out).judgments(judge, template.name), Judgment)
    pool = EnginePool(config.engine, loader)
    try:
        judgments, timing = judge_stage(
            pool, Judge(judge, template, config.verdict, params), items, answers, ledger,
            config.chunk, progress("judge", 2 * len(items)),
        )
    finally:
        pool.close()
    lines = verdict_lines(pairs, judgments)
    metrics = agreement(lines)
    write_atomic(out / "verdicts.jsonl", "".join(line.model_dump_json() + "\n" for line in lines))
    report = {"schema": "judge.agreement/1", "judge": judge.model_dump(), "template":
              {"name": template.name, "sha": template.sha}, "verdict": config.verdict,
              "agreement": metrics.model_dump(), "timing": {"judge": timing.as_time().model_dump(),
                                                "load_models": round(pool.load_seconds, 3)}}
    write_atomic(out / "agreement.json", json.dumps(report, indent=2) + "\n")
    return metrics
