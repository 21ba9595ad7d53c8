"""The generation stage: every prompt answered by one model, turn by turn, cached by content key."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from judge.engines import Engine, EngineOptions
from judge.pipeline.fill import Advance, Done, fill
from judge.pipeline.timing import StageTiming
from judge.records import Generation, Message, ModelInfo, PromptItem, SamplingParams
from judge.runs.ledger import Ledger, content_key, generation_key


class Engines(Protocol):
    """Where the stage gets a model's engine: the EnginePool, or AnswersFirst around it
    (judge/pipeline/answers.py), which serves an answers file from the file."""

    def get(self, model: ModelInfo, options: EngineOptions | None = None) -> Engine: ...


def converse(
    engine: Engine, part: Sequence[PromptItem], params: SamplingParams
) -> Iterator[tuple[int, list[str] | None, int]]:
    """Answer every item turn by turn (a single-turn prompt is a one-turn conversation): turn k of
    all items that have one goes to the engine as one stream, each with its own history. Yields
    (index in `part`, the item's answers once its last turn is in, else None; tokens of this
    request) per finished request."""
    histories: list[list[Message]] = [[] for _ in part]
    answers: list[list[str]] = [[] for _ in part]
    for turn in range(max(len(item.user_turns()) for item in part)):
        active = [i for i, item in enumerate(part) if turn < len(item.user_turns())]
        for i in active:
            histories[i].append(Message(role="user", content=part[i].user_turns()[turn]))
        for j, completion in engine.stream([histories[i] for i in active], params):
            i = active[j]
            histories[i].append(Message(role="assistant", content=completion.text))
            answers[i].append(completion.text)
            last = turn == len(part[i].user_turns()) - 1
            yield i, answers[i] if last else None, completion.tokens


def generate_stage(
    pool: Engines,
    model: ModelInfo,
    items: Sequence[PromptItem],
    params: SamplingParams,
    ledger: Ledger[Generation],
    window: int,
    advance: Advance,
    engine: EngineOptions | None = None,
) -> tuple[dict[str, Generation], StageTiming]:
    """Answers of `model` for every prompt, keyed by prompt_id (cached ones reused); `engine`:
    the options this role's model runs with (None: the pool's own)."""
    keys = {item.prompt_id: generation_key(model, item, params) for item in items}
    params_hash = content_key(params.model_dump())

    def answer(loaded: Engine, part: Sequence[PromptItem]) -> Iterator[Done[Generation]]:
        used = [0] * len(part)
        for i, answers, tokens in converse(loaded, part, params):
            used[i] += tokens
            item = part[i]
            records = [] if answers is None else [Generation(
                key=keys[item.prompt_id], prompt_id=item.prompt_id, prompt=item.prompt,
                output=answers[-1], tokens=used[i], model=model.ref, params_hash=params_hash,
                outputs=answers if item.turns else None,
            )]
            yield Done(records, tokens, 0 if answers is None else 1)

    todo = [item for item in items if keys[item.prompt_id] not in ledger]
    found, timing = fill(ledger, list(keys.values()), todo, answer,
                         lambda: pool.get(model, engine), window, advance)
    return dict(zip(keys, found, strict=True)), timing  # a shared key serves each prompt id
