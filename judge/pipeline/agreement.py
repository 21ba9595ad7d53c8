"""`judge agreement --judge MODEL --pairs LABELED.jsonl`: judge human-labelled pairs, then score.

The pairs go through the very stage `judge compare` uses (judge_stage, through judge_members):
output_a plays "base" and output_b "tuned", each pair is judged in both orders, and every call
lands in the same kind of append-only ledger under --out, so a rerun costs nothing it already paid
for. The base-first line gives `verdict`, the tuned-first line (already mapped back)
`verdict_swapped`. Control pairs are built from the answer each label prefers (output_a for a
tie), exactly as compare builds them from BASE's answers. `--judge` repeated is a panel: every
judge judges every pair, and the panel's verdict per pair and order is the majority of theirs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import Field

from judge.engines import EngineOptions, load_engine
from judge.engines.pool import EnginePool, Loader
from judge.errors import InputError
from judge.files import check_writable, write_atomic
from judge.models.refs import is_bundled, resolve_model
from judge.pipeline.compare import Progress
from judge.pipeline.controls import Controls, build_controls
from judge.pipeline.fill import WINDOW
from judge.pipeline.judging import VerdictMode
from judge.pipeline.panel import Judged, Member, judge_members, make_members, member_templates
from judge.pipeline.structured import resolve_structured
from judge.records import Judgment, PromptItem, Record, SamplingParams
from judge.runs.folder import RunFolder
from judge.stats.agreement import (
    AgreementLine,
    AgreementRun,
    AgreementStats,
    IdLine,
    Label,
    MemberAgreement,
    agreement,
    parse_lines,
)
from judge.stats.blocks import judgment_rows
from judge.stats.controls import LETTER, control_lines, control_stats, judge_verdict
from judge.stats.lines import read_lines
from judge.stats.pairwise import position_stats
from judge.stats.panel import majority_lines, order_lines, panel_stats


class LabeledPair(IdLine):
    instruction: str
    output_a: str
    output_b: str
    label: Label
    category: str | None = None


class AgreementConfig(Record):
    judge: str  # MODEL or MODEL@TEMPLATE (judge/pipeline/panel.py)
    panel: list[str] = []  # further judges: with them, `judge` is the first of a panel
    pairs: str
    template: str = "pairwise"
    verdict: VerdictMode = "both"
    structured: bool | None = None  # as in compare (judge/pipeline/structured.py)
    judge_max_new_tokens: int = 48
    chunk: int = WINDOW  # the in-flight window (judge/pipeline/fill.py)
    controls: int = Field(default=8, ge=0)  # control pairs per kind (judge/pipeline/controls.py)
    seed: int = 0  # which prompts give the control pairs
    out: str
    cache_dir: str
    engine: EngineOptions = EngineOptions()


def verdict_lines(pairs: list[LabeledPair], judgments: list[Judgment]) -> list[AgreementLine]:
    """One agreement line per pair from its two judgment lines."""
    found = {(j.prompt_id, j.order): LETTER[j.winner] for j in judgments}
    return [
        AgreementLine(id=p.id, label=p.label, verdict=found[(p.id, "base_first")],
                      verdict_swapped=found[(p.id, "tuned_first")], category=p.category)
        for p in pairs
    ]


def run_agreement(
    config: AgreementConfig, progress: Progress, loader: Loader = load_engine
) -> AgreementStats:
    """Judge every pair in both orders (cached under --out), write verdicts.jsonl and
    agreement.json there, and return the agreement metrics (a panel's for a panel)."""
    return agreement_run(config, progress, loader).agreement


def agreement_run(
    config: AgreementConfig, progress: Progress, loader: Loader = load_engine
) -> AgreementRun:
    """run_agreement with the controls, the verdict on the judge and a panel's members."""
    pairs = parse_lines(read_lines(Path(config.pairs)), config.pairs, LabeledPair)
    items = [PromptItem(prompt_id=p.id, prompt=p.instruction) for p in pairs]
    templates = member_templates([config.judge, *config.panel], config.template, items, None)
    for _, template in templates:
        if template.kind != "pairwise":
            raise InputError(f"template {template.name} is {template.kind}; agreement needs a "
                             "pairwise template (its labels are compared with the human A/B/tie "
                             "labels)")
        if config.verdict != "text" and not template.labels:
            raise InputError(f"template {template.name} declares no labels for --verdict "
                             "logprob")
    out = Path(config.out)
    check_writable(out, "--out")
    params = SamplingParams(max_new_tokens=config.judge_max_new_tokens, temperature=0.0)
    cache = Path(config.cache_dir)
    structured = resolve_structured(config.structured, out / "agreement.json", config.engine)
    members = make_members(templates, lambda ref: resolve_model(ref, cache, config.engine.dtype),
                           config.verdict, params, structured)
    answers = {p.id: (p.output_a, p.output_b) for p in pairs}
    preferred = {p.id: p.output_b if p.label == "B" else p.output_a for p in pairs}
    folder = RunFolder(out)
    controls = None
    if config.controls:
        controls = build_controls(items, preferred, preferred, config.controls, config.seed)
        controls.write(folder.control_pairs_file)
    pool = EnginePool(config.engine, loader)
    try:
        judged, timing = judge_members(pool, members, items, answers, controls, folder,
                                       config.chunk, progress, None, None)
    finally:
        pool.close()
    found = score(pairs, members, judged, controls)
    lines = (verdict_lines(pairs, judged[members[0].label].judgments) if len(members) == 1
             else majority_lines([verdict_lines(pairs, judged[m.label].judgments)
                                  for m in members]))
    write_atomic(out / "verdicts.jsonl", "".join(line.model_dump_json() + "\n" for line in lines))
    first = members[0].judge
    report = {"schema": "judge.agreement/1", "judge": first.model.model_dump(),
              "template": {"name": first.template.name, "sha": first.template.sha},
              "verdict": config.verdict, "structured": structured,
              "agreement": found.agreement.model_dump(),
              **extra_blocks(found),
              "timing": {stage: t.model_dump() for stage, t in timing.items()}
              | {"load_models": round(pool.load_seconds, 3)}}
    write_atomic(out / "agreement.json", json.dumps(report, indent=2) + "\n")
    return found


def extra_blocks(found: AgreementRun) -> dict[str, Any]:
    """agreement.json's and `--json`'s blocks beside the agreement numbers, absent ones left
    out: judge_check, controls, and for a panel panel and members."""
    data = found.model_dump(exclude={"agreement"})
    return {name: value for name, value in data.items() if value not in (None, {})}


def member_agreement(
    pairs: list[LabeledPair], member: Member, judged: Judged, controls: Controls | None,
) -> MemberAgreement:
    lines = verdict_lines(pairs, judged.judgments)
    stats = None
    if controls is not None:
        found, ordered = control_lines(judged.controls)
        stats = control_stats(found, ordered, controls.requested, controls.skipped)
    smoke = [member.label] if is_bundled(member.judge.model) else []
    return MemberAgreement(agreement=agreement(lines), controls=stats, judge_check=judge_verdict(
        stats, position_stats(judgment_rows(judged.judgments)), smoke))


def score(pairs: list[LabeledPair], members: list[Member], judged: dict[str, Judged],
          controls: Controls | None) -> AgreementRun:
    """One judge's numbers; a panel's from the majority of its members' verdicts per pair and
    order, with each member's own."""
    own = {m.label: member_agreement(pairs, m, judged[m.label], controls) for m in members}
    if len(members) == 1:
        (only,) = own.values()
        return AgreementRun(agreement=only.agreement, controls=only.controls,
                            judge_check=only.judge_check)
    lines = majority_lines([verdict_lines(pairs, judged[m.label].judgments) for m in members])
    stats = None
    if controls is not None:
        per_member = [control_lines(judged[m.label].controls) for m in members]
        stats = control_stats(majority_lines([found for found, _ in per_member]),
                              any(ordered for _, ordered in per_member), controls.requested,
                              controls.skipped)
    rows = {m.label: judgment_rows(judged[m.label].judgments) for m in members}
    smoke = [label for label, m in own.items() if m.judge_check.smoke_test]
    return AgreementRun(agreement=agreement(lines), controls=stats,
                        judge_check=judge_verdict(stats, position_stats(order_lines(rows)),
                                                  smoke),
                        panel=panel_stats(rows), members=own)
