"""Who judges a run: one judge, or a panel (`--judge` given several times), and what each found.

    --judge MODEL             MODEL with --template (default pairwise)
    --judge MODEL@TEMPLATE    MODEL with a template of its own: a shipped name or a .j2 file
    --judge flow[:REF]        Flow-Judge-v0.1 with the `flow` template (unless @TEMPLATE)

MODEL is any model reference. "@" splits off a template at its last occurrence, and only when the
whole reference is not an existing file or folder (hub ids cannot hold "@"; a local path that does
keeps it). A member is its model and template: the same pair twice is an input error.

Each member judges every pair in both orders into its own ledger (judgments/<model>__<template>),
and the control pairs into controls/<model>__<template>. Members take turns on the one loaded
model: a member whose model is loaded already goes first, members sharing a model run together,
otherwise in the order given. judge/stats/panel.py combines their outcomes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from judge.engines import EngineOptions
from judge.engines.pool import EnginePool
from judge.errors import InputError
from judge.models.refs import is_bundled
from judge.pipeline.answers import check_judge
from judge.pipeline.controls import Controls
from judge.pipeline.fill import Advance
from judge.pipeline.judging import Judge, Names, judge_stage
from judge.pipeline.settings import VerdictMode
from judge.pipeline.structured import judge_grammar
from judge.pipeline.timing import StageTiming
from judge.records import Judgment, ModelInfo, PromptItem, SamplingParams
from judge.runs.folder import JudgeRecord, RunFolder
from judge.runs.ledger import Ledger
from judge.runs.reader import Answers
from judge.runs.summary import (
    ControlStats,
    MemberSummary,
    PairwiseStats,
    StageTime,
)
from judge.stats.blocks import judgment_rows, verdict_blocks
from judge.stats.controls import control_lines, control_stats, judge_verdict
from judge.stats.panel import majority_lines, panel_blocks
from judge.templates.flow import flow_judge_ref, prepare_template
from judge.templates.template import JudgeTemplate, load_template
from judge.templates.turns import is_family, load_family

Progress = Callable[[str, int], Advance]


@dataclass(frozen=True)
class Member:
    label: str  # "MODEL@TEMPLATE", the member's name in summary.json
    judge: Judge

    def record(self) -> JudgeRecord:
        t, grammar = self.judge.template, self.judge.grammar
        return JudgeRecord(model=self.judge.model,
                           template={"name": t.name, "sha": t.sha, "origin": t.origin},
                           grammar=grammar.model_dump(by_alias=True, exclude_none=True)
                           if grammar is not None else None)


class Judged(NamedTuple):
    """One member's lines: the real pairs' and the control pairs'."""

    judgments: list[Judgment]
    controls: list[Judgment]


def split_member(spec: str) -> tuple[str, str | None]:
    """(model reference, its own template or None) of one --judge value."""
    if "@" not in spec or Path(spec).expanduser().exists():
        return spec, None
    model, _, template = spec.rpartition("@")
    if not model or not template:
        raise InputError(f"--judge {spec}: expected MODEL or MODEL@TEMPLATE")
    return model, template


def member_templates(
    specs: Sequence[str], default: str, items: Sequence[PromptItem], flow_metric: str | None,
) -> list[tuple[str, JudgeTemplate]]:
    """(model reference to resolve, loaded template) per --judge value, checked before any model
    is resolved."""
    found = []
    for spec in specs:
        model_ref, own = split_member(spec)
        check_judge(model_ref)
        flow_ref = flow_judge_ref(model_ref)  # `flow[:REF]`: Flow-Judge's format and model
        ref = own or ("flow" if flow_ref and default == "pairwise" else default)
        loaded = load_family(ref) if is_family(ref) else load_template(ref)  # MT-Bench: per turn
        found.append((flow_ref or model_ref, prepare_template(loaded, items, flow_metric)))
    return found


def make_members(
    templates: Sequence[tuple[str, JudgeTemplate]], resolve: Callable[[str], ModelInfo],
    mode: VerdictMode, params: SamplingParams, structured: bool = False,
    engines: Callable[[str], EngineOptions | None] = lambda ref: None,
) -> list[Member]:
    """One member per (model, template); with `structured`, each held to its template's grammar
    wherever it reads verdicts from text; `engines`: a judge's own engine options by its model
    reference (None: the pool's)."""
    members: list[Member] = []
    for ref, template in templates:
        model = resolve(ref)
        label = f"{model.ref}@{template.name}"
        if any(m.label == label for m in members):
            raise InputError(f"--judge {label} is in the panel twice")
        reads_text = mode != "logprob" or not template.spec.logprob
        grammar = judge_grammar(template, reads_text, params.max_new_tokens, structured)
        members.append(Member(label, Judge(model, template, mode, params, grammar,
                                           engines(ref))))
    return members


def run_order(members: Sequence[Member], loaded: str | None) -> list[Member]:
    """The loaded model's members first, then each model's members together, else as given."""
    first: dict[str, int] = {}
    for i, m in enumerate(members):
        first.setdefault(m.judge.model.fingerprint, i)
    return sorted(members, key=lambda m: (m.judge.model.fingerprint != loaded,
                                          first[m.judge.model.fingerprint]))


def judge_members(
    pool: EnginePool, members: Sequence[Member], requests: Sequence[PromptItem], answers: Answers,
    controls: Controls | None, folder: RunFolder, window: int, progress: Progress,
    names: Names | None, control_names: Names | None,
) -> tuple[dict[str, Judged], dict[str, StageTime]]:
    """Every member on every pair (both orders) and on every control pair, one member at a time;
    (each member's lines in panel order, the stages' cost summed over members)."""
    panel = len(members) > 1
    judging, checking = StageTiming(), StageTiming()
    found: dict[str, Judged] = {}
    loaded = pool.current.model.fingerprint if pool.current is not None else None
    for member in run_order(members, loaded):
        model, template = member.judge.model, member.judge.template
        suffix = f" {member.label}" if panel else ""
        judgments, stage = judge_stage(
            pool, member.judge, requests, answers,
            Ledger(folder.judgments(model, template.name), Judgment), window,
            progress("judge" + suffix, 2 * len(requests)), names)
        judging.add(stage)
        checked: list[Judgment] = []
        if controls is not None and controls.pairs:
            checked, stage = judge_stage(
                pool, member.judge, controls.items, controls.answers,
                Ledger(folder.controls(model, template.name), Judgment), window,
                progress("controls" + suffix, 2 * len(controls.items)), control_names)
            checking.add(stage)
        found[member.label] = Judged(judgments, checked)
    timing = {"judge": judging.as_time()}
    if controls is not None:
        timing["controls"] = checking.as_time()
    return {m.label: found[m.label] for m in members}, timing


def position(pw: PairwiseStats) -> tuple[float | None, float | None]:
    return pw.position_consistency, pw.first_position_rate


def count_sources(judgments: Sequence[Judgment]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for j in judgments:
        counts[j.source] = counts.get(j.source, 0) + 1
    return counts


class Settings(NamedTuple):
    confidence: float
    resamples: int
    seed: int


def member_summary(
    member: Member, judged: Judged, controls: Controls | None, settings: Settings,
    answers: Answers | None, categories: Mapping[str, str | None] | None,
) -> MemberSummary:
    """One judge's numbers: verdict blocks, controls, the verdict on the judge."""
    try:
        blocks = verdict_blocks(judged.judgments, *settings, answers, categories)
    except InputError as err:
        raise InputError(f"judge {member.label}: {err}") from None
    stats: ControlStats | None = None
    if controls is not None:
        lines, ordered = control_lines(judged.controls)
        stats = control_stats(lines, ordered, controls.requested, controls.skipped,
                              settings.confidence)
    smoke = [member.label] if is_bundled(member.judge.model) else []
    return MemberSummary(judge=member.judge.model.ref, template=member.judge.template.name,
                         verdict=judge_verdict(stats, position(blocks["pairwise"]), smoke),
                         **blocks,
                         controls=stats, verdict_sources=count_sources(judged.judgments))


def judge_blocks(
    members: Sequence[Member], judged: Mapping[str, Judged], controls: Controls | None,
    settings: Settings, answers: Answers | None = None,
    categories: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """summary.json's judge fields: for one judge its own numbers; for a panel the panel's
    numbers, its agreement block and each member's own under `members`."""
    own = {m.label: member_summary(m, judged[m.label], controls, settings, answers, categories)
           for m in members}
    if len(members) == 1:
        return dict(next(iter(own.values())))
    rows = {label: judgment_rows(judged[label].judgments, categories) for label in own}
    blocks = panel_blocks(rows, answers, *settings)
    stats: ControlStats | None = None
    if controls is not None:
        per_member = [control_lines(judged[label].controls) for label in own]
        lines = majority_lines([found for found, _ in per_member])
        stats = control_stats(lines, any(ordered for _, ordered in per_member),
                              controls.requested, controls.skipped, settings.confidence)
    smoke = [label for label, s in own.items() if s.verdict and s.verdict.smoke_test]
    sources = count_sources([j for m in members for j in judged[m.label].judgments])
    return {"judge": "panel: " + ", ".join(own),
            "template": ", ".join(dict.fromkeys(m.judge.template.name for m in members)),
            "verdict": judge_verdict(stats, position(blocks["pairwise"]), smoke), **blocks,
            "controls": stats, "members": own, "verdict_sources": sources}
