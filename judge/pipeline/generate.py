"""The generation stage: every prompt answered by one model, turn by turn, cached by content key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from judge.engines import Engine
from judge.pipeline.fill import Advance, Done, fill
from judge.pipeline.timing import StageTiming
from judge.records import Generation, Message, ModelInfo, PromptItem, SamplingParams
from judge.runs.ledger import Ledger, content_key, generation_key


class Engines(Protocol):
    """Where the stage gets a model's engine: the EnginePool, or AnswersFirst around it
    (judge/pipeline/answers.py), which serves an answers file from the file."""

    def get(self, model: ModelInfo) -> Engine: ...


def converse(
    engine: Engine, part: Sequence[PromptItem], params: SamplingParams
) -> list[tuple[list[str], int]]:
    """Answer every item turn by turn (a single-turn prompt is a one-turn conversation): turn k of
    all items that have one goes to the engine as one batch, each with its own history."""
    histories: list[list[Message]] = [[] for _ in part]
    answers: list[list[str]] = [[] for _ in part]
    tokens = [0] * len(part)
    for turn in range(max(len(item.user_turns()) for item in part)):
        active = [i for i, item in enumerate(part) if turn < len(item.user_turns())]
        for i in active:
            histories[i].append(Message(role="user", content=part[i].user_turns()[turn]))
        done = engine.generate([histories[i] for i in active], params)
        for i, completion in zip(active, done, strict=True):
            histories[i].append(Message(role="assistant", content=completion.text))
            answers[i].append(completion.text)
            tokens[i] += completion.tokens
    return list(zip(answers, tokens, strict=True))


def generate_stage(
    pool: Engines,
    model: ModelInfo,
    items: Sequence[PromptItem],
    params: SamplingParams,
    ledger: Ledger[Generation],
    chunk: int,
    advance: Advance,
) -> tuple[dict[str, Generation], StageTiming]:
    """Answers of `model` for every prompt, keyed by prompt_id (cached ones reused)."""
    keys = {item.prompt_id: generation_key(model, item, params) for item in items}
    params_hash = content_key(params.model_dump())

    def answer(engine: Engine, part: Sequence[PromptItem]) -> Done[Generation]:
        conversations = converse(engine, part, params)
        records = [
            Generation(
                key=keys[item.prompt_id], prompt_id=item.prompt_id, prompt=item.prompt,
                output=answers[-1], tokens=used, model=model.ref, params_hash=params_hash,
                outputs=answers if item.turns else None,
            )
            for item, (answers, used) in zip(part, conversations, strict=True)
        ]
        return Done(records, sum(r.tokens for r in records), len(part))

    todo = [item for item in items if keys[item.prompt_id] not in ledger]
    found, timing = fill(ledger, list(keys.values()), todo, answer, lambda: pool.get(model),
                         chunk, advance)
    return dict(zip(keys, found, strict=True)), timing  # a shared key serves each prompt id
