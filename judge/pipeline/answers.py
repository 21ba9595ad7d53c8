"""Sides of a comparison that are answers files: their prompts, and their answers served through
the generation stage as if a model gave them (judge/models/answers.py has the formats).

A side that is an answers file loads no model. Its answers go through generate_stage with an
AnswersEngine, so they land in its generations ledger under the usual keys and the run folder,
the card's examples and a resumed run look exactly as if a model had answered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from judge.engines import Engine, EngineOptions
from judge.errors import InputError
from judge.models.answers import AnswersEngine, AnswerSet, is_answers_ref, read_answers
from judge.pipeline.generate import Engines
from judge.promptsets.align import Outputs, align
from judge.promptsets.load import load_prompts
from judge.records import ModelInfo, PromptItem


def read_sides(refs: Mapping[str, str]) -> dict[str, AnswerSet]:
    return {side: read_answers(ref) for side, ref in refs.items() if is_answers_ref(ref)}


def side_prompts(
    files: Mapping[str, AnswerSet], prompts: str | None, column: str | None, limit: int | None,
) -> tuple[list[PromptItem], dict[str, Outputs]]:
    """The prompts of a run and the answers of its file sides. With no answers file, the prompt
    set (builtin by default); with some, the prompts they answer (restricted by --prompts)."""
    if limit is not None and limit < 1:
        raise InputError(f"--limit must be a positive number of prompts, not {limit}")
    if not files:
        return load_prompts(prompts or "builtin", column, limit), {}
    given = load_prompts(prompts, column) if prompts else None
    sides = list(files)
    items, outputs = align([files[s] for s in sides], given, limit)
    return items, dict(zip(sides, outputs, strict=True))


def check_judge(ref: str) -> None:
    if is_answers_ref(ref):
        raise InputError(f"--judge {ref}: the judge must be a model; an answers file cannot judge")


class AnswersFirst:
    """Engines for the generation stage: an answers file side from its file, every model from
    the pool. The file never passes through the pool, so it never unloads a loaded model."""

    def __init__(self, pool: Engines, models: Mapping[str, ModelInfo],
                 items: Sequence[PromptItem], given: Mapping[str, Outputs]) -> None:
        self.pool = pool
        self.files = {models[side].fingerprint: AnswersEngine(models[side], items, outputs)
                      for side, outputs in given.items()}

    def get(self, model: ModelInfo, options: EngineOptions | None = None) -> Engine:
        if model.kind == "answers":
            return self.files[model.fingerprint]
        return self.pool.get(model, options)
