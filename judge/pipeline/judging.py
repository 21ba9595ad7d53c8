"""The judge stage: every pair in both orders (pairwise templates), or each answer rated alone
(pointwise and flow templates), through the same cached-fill skeleton as generation."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from judge.engines import ONE_TOKEN, Chat, Engine, EngineOptions
from judge.engines.pool import EnginePool
from judge.pipeline.fill import Advance, Done, fill
from judge.pipeline.settings import VerdictMode
from judge.pipeline.timing import StageTiming
from judge.pipeline.verdicts import make_judgment, make_rating, rate
from judge.records import (
    Grammar,
    Judgment,
    Message,
    ModelInfo,
    Order,
    PromptItem,
    SamplingParams,
    Side,
)
from judge.runs.ledger import Ledger, content_key
from judge.runs.reader import Answers
from judge.templates.template import JudgeTemplate

log = logging.getLogger("judge")

ORDERS: tuple[Order, Order] = ("base_first", "tuned_first")
SIDES: tuple[Side, Side] = ("base", "tuned")
Names = tuple[str, str]  # who gave the base and the tuned answers, as the lines name them


@dataclass(frozen=True)
class Judge:
    """Who judges and how: the model, its template, where verdicts are read from, its budget,
    the grammar its replies are held to (None: free replies, as before --structured) and the
    engine options its model runs with (None: the pool's own)."""

    model: ModelInfo
    template: JudgeTemplate
    mode: VerdictMode
    params: SamplingParams
    grammar: Grammar | None = None
    engine: EngineOptions | None = None

    def key_parts(self) -> list[object]:
        """What a constrained judge adds to each cache key; nothing for a free one, so the keys
        of every ledger written before --structured existed stay as they were."""
        return [{"grammar": self.grammar.request()}] if self.grammar is not None else []

    def reading(self) -> Judge:
        """This judge with the verdict mode its template allows (text only where the labels'
        first tokens cannot tell them apart: graded, flow)."""
        if self.mode == "text" or self.template.spec.logprob:
            return self
        log.warning("template %s reads verdicts from text only (`logprob: false`: the reply's "
                    "first token does not tell its label); --verdict %s falls back to text",
                    self.template.name, self.mode)
        return Judge(self.model, self.template, "text", self.params, self.grammar, self.engine)


def judge_stage(
    pool: EnginePool,
    judge: Judge,
    items: Sequence[PromptItem],
    answers: Answers,
    ledger: Ledger[Judgment],
    window: int,
    advance: Advance,
    names: Names | None = None,
) -> tuple[list[Judgment], StageTiming]:
    """Both orders of every pair; identical answers are recorded as skipped ties, not judged.
    Pointwise and flow templates rate each answer alone instead (`rate_stage`). New lines carry
    `names`; a cached line keeps what it was written with (names are not part of the key)."""
    judge = judge.reading()
    if judge.template.kind != "pairwise":
        return rate_stage(pool, judge, items, answers, ledger, window, advance, names)
    template = judge.template
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
                "judgment/1", judge.model.fingerprint, template.sha,
                [m.model_dump() for m in chat], judge.mode, judge.params.model_dump(),
                item.prompt_id, order, *judge.key_parts(),
            )
            keys.append(key)
            if key in ledger:
                continue
            if base == tuned:
                ledger.append([make_judgment(key, item, order, answers, None, None, template,
                                             names)])
                continue
            todo.append((key, item, order, chat))

    def verdicts(engine: Engine, part: Sequence[tuple[str, PromptItem, Order, list[Message]]]):
        for j, text, prob, tokens in ask(engine, [chat for *_, chat in part], judge):
            key, item, order, _ = part[j]
            yield Done([make_judgment(key, item, order, answers, text, prob, template, names,
                                      judge.grammar is not None)], tokens, 1)

    # `window` counts prompts, as everywhere: one stream carries both orders of each
    return fill(ledger, keys, todo, verdicts, lambda: pool.get(judge.model, judge.engine),
                window * len(ORDERS), advance)


Reply = tuple[int, str | None, dict[str, float] | None, int]


def ask(engine: Engine, chats: Sequence[Chat], judge: Judge) -> Iterator[Reply]:
    """Per finished request: (index of its chat, the judge's text and/or label probabilities,
    the tokens it generated).

    One request per chat in every mode: `both` reads the label probabilities from the first token
    of the text request itself (the same prompt gives the same logits as a one-token request, so
    verdicts equal the two-request way's); `logprob` asks for one token only (what every
    engine's `label_probs` asks for).
    """
    labels = judge.template.labels
    if judge.mode == "logprob":
        for index, c in engine.stream(chats, ONE_TOKEN, labels):
            yield index, None, c.label_probs or {}, 1
        return
    held = {"grammar": judge.grammar} if judge.grammar is not None else {}
    for index, c in engine.stream(chats, judge.params, labels if judge.mode == "both" else None,
                                  **held):
        yield index, c.text, c.label_probs, c.tokens


def rate_stage(
    pool: EnginePool,
    judge: Judge,
    items: Sequence[PromptItem],
    answers: Answers,
    ledger: Ledger[Judgment],
    window: int,
    advance: Advance,
    names: Names | None = None,
) -> tuple[list[Judgment], StageTiming]:
    """Pointwise: each answer rated alone, one line per prompt; an answer both models gave is
    rated once (the two ratings of identical answers are the same call)."""
    template = judge.template
    todo: list[tuple[str, PromptItem, dict[Side, list[Message]]]] = []
    keys: list[str] = []
    for item in items:
        chats: dict[Side, list[Message]] = {
            side: template.render(instruction=item.prompt, answer=answer, reference=item.reference)
            for side, answer in zip(SIDES, answers[item.prompt_id], strict=True)
        }
        key = content_key(
            "rating/1", judge.model.fingerprint, template.sha,
            {side: [m.model_dump() for m in chat] for side, chat in chats.items()},
            judge.mode, judge.params.model_dump(), item.prompt_id, *judge.key_parts(),
        )
        keys.append(key)
        if key not in ledger:
            todo.append((key, item, chats))

    def ratings(engine: Engine, part: Sequence[tuple[str, PromptItem, dict[Side, list[Message]]]]):
        unique = {as_key(chat): chat for _, _, chats in part for chat in chats.values()}
        order = list(unique)
        waiting: dict[tuple[tuple[str, str], ...], list[int]] = {key: [] for key in order}
        for n, (_, _, chats) in enumerate(part):  # each item under each distinct chat it needs
            for key in dict.fromkeys(as_key(chat) for chat in chats.values()):
                waiting[key].append(n)
        replies: dict[tuple[tuple[str, str], ...], tuple[str | None, dict | None]] = {}
        for j, text, prob, tokens in ask(engine, list(unique.values()), judge):
            replies[order[j]] = (text, prob)
            records = [
                make_rating(key, item, answers, {
                    side: rate(template, *replies[as_key(chat)]) for side, chat in chats.items()
                }, template, names, judge.grammar is not None)
                for key, item, chats in (part[n] for n in waiting[order[j]])
                if all(as_key(chat) in replies for chat in chats.values())
            ]
            yield Done(records, tokens, 1)  # an item is done when its last answer's rating is

    return fill(ledger, keys, todo, ratings, lambda: pool.get(judge.model, judge.engine), window,
                advance, per_item=2)  # two ratings per prompt, as compare's total counts


def as_key(chat: Sequence[Message]) -> tuple[tuple[str, str], ...]:
    return tuple((m.role, m.content) for m in chat)


def shown_request(item: PromptItem) -> PromptItem:
    if not item.turns:
        return item
    listed = "\n".join(f"{n}. {turn}" for n, turn in enumerate(item.turns, start=1))
    request = (f"A conversation of {len(item.turns)} turns; each answer is one assistant's side "
               f"of it, judged as a whole with weight on the last turn. The user wrote:\n{listed}")
    return item.model_copy(update={"prompt": request})
