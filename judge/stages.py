"""The two model stages of a comparison: generate answers, then judge each pair in both orders.

Each stage computes only what its ledger lacks, in chunks, appending every chunk as soon as it is
done, so a crash loses at most one chunk and a rerun makes no call it already made.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Literal

from judge.engines import Chat, Engine
from judge.engines.pool import EnginePool
from judge.ledger import Ledger, content_key
from judge.records import (
    Generation,
    Judgment,
    Message,
    ModelInfo,
    Order,
    PromptItem,
    SamplingParams,
    Side,
)
from judge.templates import JudgeTemplate
from judge.verdicts import decide, make_judgment, make_rating, rate, side_of

__all__ = ["decide", "generate_stage", "judge_stage", "make_judgment", "side_of"]
log = logging.getLogger("judge")

VerdictMode = Literal["text", "logprob", "both"]
Advance = Callable[[int, int], None]  # (items done, tokens) -> None
ORDERS: tuple[Order, Order] = ("base_first", "tuned_first")
SIDES: tuple[Side, Side] = ("base", "tuned")


class StageTiming:
    def __init__(self) -> None:
        self.seconds = 0.0
        self.tokens = 0
        self.calls = 0

    def as_dict(self) -> dict[str, float | int | None]:
        return timing_entry(self.seconds, self.tokens)


def timing_entry(seconds: float, tokens: int) -> dict[str, float | int | None]:
    rate = round(tokens / seconds, 2) if seconds > 0 and tokens else None
    return {"seconds": round(seconds, 3), "tokens": tokens, "tokens_per_second": rate}


def accumulate(previous: dict[str, dict], current: dict[str, dict]) -> dict[str, dict]:
    """Stage costs summed over every run into one folder: what the results in it cost, even when
    they were computed over several (resumed) runs. A cached rerun adds next to nothing."""
    stages = dict.fromkeys([*previous, *current])
    return {
        stage: timing_entry(
            sum(t.get(stage, {}).get("seconds", 0.0) for t in (previous, current)),
            sum(t.get(stage, {}).get("tokens", 0) for t in (previous, current)),
        )
        for stage in stages
    }


def chunks(items: Sequence, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def generation_key(model: ModelInfo, item: PromptItem, params: SamplingParams) -> str:
    seed = params.seed if params.temperature > 0 else None  # greedy output does not depend on it
    sampling = params.model_dump() | {"seed": seed}
    text: str | list[str] = item.turns if item.turns else item.prompt  # old keys stay valid
    return content_key("generation/1", model.fingerprint, text, sampling)


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
    pool: EnginePool,
    model: ModelInfo,
    items: Sequence[PromptItem],
    params: SamplingParams,
    ledger: Ledger[Generation],
    chunk: int,
    advance: Advance,
) -> tuple[dict[str, Generation], StageTiming]:
    """Answers of `model` for every prompt, keyed by prompt_id (cached ones reused)."""
    timing = StageTiming()
    keys = {item.prompt_id: generation_key(model, item, params) for item in items}
    todo = [item for item in items if keys[item.prompt_id] not in ledger]
    advance(len(items) - len(todo), 0)
    params_hash = content_key(params.model_dump())
    for part in chunks(todo, chunk):
        engine = pool.get(model)
        start = time.perf_counter()
        conversations = converse(engine, part, params)
        timing.seconds += time.perf_counter() - start
        records = [
            Generation(
                key=keys[item.prompt_id],
                prompt_id=item.prompt_id,
                prompt=item.prompt,
                output=answers[-1],
                tokens=used,
                model=model.ref,
                params_hash=params_hash,
                outputs=answers if item.turns else None,
            )
            for item, (answers, used) in zip(part, conversations, strict=True)
        ]
        ledger.append(records)
        tokens = sum(r.tokens for r in records)
        timing.tokens += tokens
        timing.calls += len(part)
        advance(len(part), tokens)
    found = {pid: ledger.records[key] for pid, key in keys.items()}
    return found, timing


def judge_stage(
    pool: EnginePool,
    judge: ModelInfo,
    template: JudgeTemplate,
    items: Sequence[PromptItem],
    answers: dict[str, tuple[str, str]],
    mode: VerdictMode,
    params: SamplingParams,
    ledger: Ledger[Judgment],
    chunk: int,
    advance: Advance,
) -> tuple[list[Judgment], StageTiming]:
    """Both orders of every pair; identical answers are recorded as skipped ties, not judged.
    Pointwise and flow templates rate each answer alone instead (`rate_stage`)."""
    mode = verdict_mode(template, mode)
    if template.kind != "pairwise":
        return rate_stage(pool, judge, template, items, answers, mode, params, ledger, chunk,
                          advance)
    timing = StageTiming()
    todo: list[tuple[str, PromptItem, Order, list[Message]]] = []
    keys: list[str] = []
    for item in items:
        base, tuned = answers[item.prompt_id]
        for order in ORDERS:
            first, second = (base, tuned) if order == "base_first" else (tuned, base)
            chat = template.render(
                instruction=item.prompt, answer_a=first, answer_b=second, reference=item.reference
            )
            key = content_key(
                "judgment/1", judge.fingerprint, template.sha, [m.model_dump() for m in chat],
                mode, params.model_dump(), item.prompt_id, order,
            )
            keys.append(key)
            if key in ledger:
                continue
            if base == tuned:
                ledger.append([make_judgment(key, item, order, answers, None, None, template)])
                continue
            todo.append((key, item, order, chat))
    advance(len(keys) - len(todo), 0)
    for part in chunks(todo, chunk):
        engine = pool.get(judge)
        start = time.perf_counter()
        texts, probs, tokens = ask(engine, [chat for *_, chat in part], template, mode, params)
        timing.seconds += time.perf_counter() - start
        ledger.append(
            make_judgment(key, item, order, answers, text, prob, template)
            for (key, item, order, _), text, prob in zip(part, texts, probs, strict=True)
        )
        timing.tokens += tokens
        timing.calls += len(part)
        advance(len(part), tokens)
    return [ledger.records[key] for key in keys], timing


Replies = tuple[list[str | None], list[dict[str, float] | None], int]


def ask(
    engine: Engine, chats: Sequence[Chat], template: JudgeTemplate, mode: VerdictMode,
    params: SamplingParams,
) -> Replies:
    """The judge's texts and/or label probabilities for each chat, and the tokens it spent."""
    texts: list[str | None] = [None] * len(chats)
    probs: list[dict[str, float] | None] = [None] * len(chats)
    tokens = 0
    if mode in ("text", "both"):
        completions = engine.generate(chats, params)
        texts = [c.text for c in completions]
        tokens += sum(c.tokens for c in completions)
    if mode in ("logprob", "both"):
        probs = list(engine.label_probs(chats, template.labels))
        tokens += len(chats)
    return texts, probs, tokens


def verdict_mode(template: JudgeTemplate, mode: VerdictMode) -> VerdictMode:
    """Text only for templates whose labels the first token cannot separate (graded, flow)."""
    if mode == "text" or template.spec.logprob:
        return mode
    log.warning("template %s reads verdicts from text only (its labels cannot be told apart by "
                "their first token); --verdict %s falls back to text", template.name, mode)
    return "text"


def rate_stage(
    pool: EnginePool,
    judge: ModelInfo,
    template: JudgeTemplate,
    items: Sequence[PromptItem],
    answers: dict[str, tuple[str, str]],
    mode: VerdictMode,
    params: SamplingParams,
    ledger: Ledger[Judgment],
    chunk: int,
    advance: Advance,
) -> tuple[list[Judgment], StageTiming]:
    """Pointwise: each answer rated alone, one line per prompt; an answer both models gave is
    rated once (the two ratings of identical answers are the same call)."""
    timing = StageTiming()
    todo: list[tuple[str, PromptItem, dict[Side, list[Message]]]] = []
    keys: list[str] = []
    for item in items:
        chats: dict[Side, list[Message]] = {
            side: template.render(instruction=item.prompt, answer=answer, reference=item.reference)
            for side, answer in zip(SIDES, answers[item.prompt_id], strict=True)
        }
        key = content_key(
            "rating/1", judge.fingerprint, template.sha,
            {side: [m.model_dump() for m in chat] for side, chat in chats.items()},
            mode, params.model_dump(), item.prompt_id,
        )
        keys.append(key)
        if key not in ledger:
            todo.append((key, item, chats))
    advance(2 * (len(keys) - len(todo)), 0)  # two ratings per prompt, as compare's total counts
    for part in chunks(todo, chunk):
        engine = pool.get(judge)
        unique = {as_key(chat): chat for _, _, chats in part for chat in chats.values()}
        start = time.perf_counter()
        texts, probs, tokens = ask(engine, list(unique.values()), template, mode, params)
        timing.seconds += time.perf_counter() - start
        replies = dict(zip(unique, zip(texts, probs, strict=True), strict=True))
        ledger.append(
            make_rating(key, item, answers, {
                side: rate(template, *replies[as_key(chat)]) for side, chat in chats.items()
            }, template)
            for key, item, chats in part
        )
        timing.tokens += tokens
        timing.calls += len(unique)
        advance(2 * len(part), tokens)
    return [ledger.records[key] for key in keys], timing


def as_key(chat: Sequence[Message]) -> tuple[tuple[str, str], ...]:
    return tuple((m.role, m.content) for m in chat)
