"""The two model stages of a comparison: generate answers, then judge each pair in both orders.

Each stage computes only what its ledger lacks, in chunks, appending every chunk as soon as it is
done, so a crash loses at most one chunk and a rerun makes no call it already made.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Literal

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
    Winner,
)
from judge.templates import JudgeTemplate

VerdictMode = Literal["text", "logprob", "both"]
Advance = Callable[[int, int], None]  # (items done, tokens) -> None
ORDERS: tuple[Order, Order] = ("base_first", "tuned_first")


class StageTiming:
    def __init__(self) -> None:
        self.seconds = 0.0
        self.tokens = 0
        self.calls = 0

    def as_dict(self) -> dict[str, float | int | None]:
        rate = self.tokens / self.seconds if self.seconds > 0 else None
        return {"seconds": round(self.seconds, 3), "tokens": self.tokens, "tokens_per_second": rate}


def chunks(items: Sequence, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def generation_key(model: ModelInfo, item: PromptItem, params: SamplingParams) -> str:
    seed = params.seed if params.temperature > 0 else None  # greedy output does not depend on it
    sampling = params.model_dump() | {"seed": seed}
    return content_key("generation/1", model.fingerprint, item.prompt, sampling)


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
        chats = [[Message(role="user", content=item.prompt)] for item in part]
        completions = engine.generate(chats, params)
        timing.seconds += time.perf_counter() - start
        records = [
            Generation(
                key=keys[item.prompt_id],
                prompt_id=item.prompt_id,
                prompt=item.prompt,
                output=done.text,
                tokens=done.tokens,
                model=model.ref,
                params_hash=params_hash,
            )
            for item, done in zip(part, completions, strict=True)
        ]
        ledger.append(records)
        tokens = sum(r.tokens for r in records)
        timing.tokens += tokens
        timing.calls += len(part)
        advance(len(part), tokens)
    found = {pid: ledger.records[key] for pid, key in keys.items()}
    return found, timing


def side_of(meaning: str, order: Order) -> Winner:
    """Map a template label's meaning (first/second/tie) back to the model it stood for."""
    if meaning == "tie":
        return "tie"
    first: Side = "base" if order == "base_first" else "tuned"
    second: Side = "tuned" if first == "base" else "base"
    return first if meaning == "first" else second


def decide(
    template: JudgeTemplate, order: Order, text: str | None, probs: dict[str, float] | None
) -> tuple[str | None, Winner, float | None, float | None, str]:
    """(verdict label, winner, p_tuned, score, source) from a reply and/or label probabilities.

    Text wins where it parses; else the most probable label decides. The line's score is the
    discrete outcome (1, 0.5, 0), so two orders that disagree average to a tie; the soft p_tuned is
    kept beside it. With neither the line is invalid, score None (never a number in disguise).
    """
    value = {"tuned": 1.0, "base": 0.0, "tie": 0.5}
    p_tuned = None
    if probs:
        p_tuned = sum(p * value[side_of(template.meaning(lab), order)] for lab, p in probs.items())
    label = template.parse(text) if text is not None else None
    if label is not None:
        winner = side_of(template.meaning(label), order)
        return label, winner, p_tuned, value[winner], "text"
    if probs:
        label = max(probs, key=lambda lab: probs[lab])
        winner = side_of(template.meaning(label), order)
        return label, winner, p_tuned, value[winner], "logprob"
    return None, "invalid", None, None, "none"


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
    """Both orders of every pair; identical answers are recorded as skipped ties, not judged."""
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
        chats = [chat for _, _, _, chat in part]
        start = time.perf_counter()
        texts: list[str | None] = [None] * len(part)
        probs: list[dict[str, float] | None] = [None] * len(part)
        tokens = 0
        if mode in ("text", "both"):
            completions = engine.generate(chats, params)
            texts = [c.text for c in completions]
            tokens += sum(c.tokens for c in completions)
        if mode in ("logprob", "both"):
            probs = list(engine.label_probs(chats, template.labels))
            tokens += len(part)
        timing.seconds += time.perf_counter() - start
        ledger.append(
            make_judgment(key, item, order, answers, text, prob, template)
            for (key, item, order, _), text, prob in zip(part, texts, probs, strict=True)
        )
        timing.tokens += tokens
        timing.calls += len(part)
        advance(len(part), tokens)
    return [ledger.records[key] for key in keys], timing


def make_judgment(
    key: str,
    item: PromptItem,
    order: Order,
    answers: dict[str, tuple[str, str]],
    text: str | None,
    probs: dict[str, float] | None,
    template: JudgeTemplate,
) -> Judgment:
    base, tuned = answers[item.prompt_id]
    if base == tuned and text is None and probs is None:
        verdict, winner, p_tuned, score, source = None, "tie", 0.5, 0.5, "skipped"
    else:
        verdict, winner, p_tuned, score, source = decide(template, order, text, probs)
    return Judgment(
        key=key,
        prompt_id=item.prompt_id,
        order=order,
        shown_first="base" if order == "base_first" else "tuned",
        raw=text,
        verdict=verdict,
        label_probs=probs or None,
        p_tuned=p_tuned,
        score=score,
        winner=winner,
        source=source,  # type: ignore[arg-type]
        skipped=source == "skipped",
        len_base=len(base),
        len_tuned=len(tuned),
    )
