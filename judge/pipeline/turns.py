"""Per-turn grading (MT-Bench single-answer grading): every turn of both models' conversations
rated 1-10 alone, one judgment line per (prompt, turn) with both sides' ratings.

A turn is graded with its family member (judge/templates/turns.py): the first turn alone, a later
turn with the conversation up to it, each against its own reference answer where the question's
category needs one. Lines go to the judge's ledger as any pointwise line does, keyed by the
member's text, the chats, the judge and the turn, so a rerun resumes where it stopped; the
`mt_bench` summary block (judge/stats/mt_bench.py) is computed from them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from judge.engines import Engine
from judge.engines.pool import EnginePool
from judge.errors import InputError
from judge.pipeline.fill import Advance, Done, fill
from judge.pipeline.judging import SIDES, Judge, Names, as_key, ask
from judge.pipeline.timing import StageTiming
from judge.pipeline.verdicts import make_rating, rate
from judge.records import Judgment, Message, PromptItem, Side
from judge.runs.folder import RunFolder
from judge.runs.ledger import Ledger, content_key
from judge.runs.reader import Answers
from judge.runs.summary import StageTime
from judge.stats.mt_bench import fastchat_rows, mt_bench_stats
from judge.templates.template import JudgeTemplate
from judge.templates.turns import REFERENCE_CATEGORIES, TurnTemplate, check_turns, render_turn

log = logging.getLogger("judge")

Conversations = dict[str, tuple[list[str], list[str]]]  # prompt_id -> (base, tuned) turn answers
Work = tuple[str, PromptItem, int, JudgeTemplate, dict[Side, list[Message]]]


def is_turn_graded(template: JudgeTemplate) -> bool:
    return isinstance(template, TurnTemplate)


def check_turn_run(templates: Sequence[JudgeTemplate], items: Sequence[PromptItem],
                   controls: int) -> None:
    """Before any model loads: one judge, prompts it can grade; notes on what it leaves out."""
    graded = [t for t in templates if isinstance(t, TurnTemplate)]
    if not graded:
        return
    if len(templates) > 1:
        raise InputError("per-turn grading (MT-Bench) takes one judge, not a panel")
    check_turns(graded[0], items)
    if controls:
        log.info("per-turn grading runs no control pairs (they are pairs of one answer); "
                    "--controls is left out")
    unreferenced = [i.prompt_id for i in items
                    if i.category in REFERENCE_CATEGORIES and not (i.references or i.reference)]
    if unreferenced:
        log.warning("%d %s prompts carry no reference answer and are graded without one "
                    "(e.g. %s)", len(unreferenced), "/".join(REFERENCE_CATEGORIES),
                    unreferenced[0])


def turn_stage(
    pool: EnginePool, judge: Judge, items: Sequence[PromptItem], talks: Conversations,
    shown: Answers, ledger: Ledger[Judgment], chunk: int, advance: Advance,
    names: Names | None = None,
) -> tuple[list[Judgment], StageTiming]:
    """Each turn of each prompt, both sides rated alone; an answer both gave is rated once.
    A line's len_base/len_tuned are those of the whole conversation as `shown` (what the
    per-prompt statistics, which average a prompt's lines, need to agree on)."""
    family = judge.template
    assert isinstance(family, TurnTemplate)
    todo: list[Work] = []
    keys: list[str] = []
    for item in items:
        for turn in range(1, len(item.user_turns()) + 1):
            rendered = {side: render_turn(family, item, answers, turn)
                        for side, answers in zip(SIDES, talks[item.prompt_id], strict=True)}
            member = rendered["base"].template
            chats = {side: found.messages for side, found in rendered.items()}
            key = content_key(
                "turn-rating/1", judge.model.fingerprint, member.sha,
                {side: [m.model_dump() for m in chat] for side, chat in chats.items()},
                judge.mode, judge.params.model_dump(), item.prompt_id, turn, *judge.key_parts(),
            )
            keys.append(key)
            if key not in ledger:
                todo.append((key, item, turn, member, chats))

    def ratings(engine: Engine, part: Sequence[Work]) -> Iterator[Done[Judgment]]:
        unique = {as_key(chat): chat for *_, chats in part for chat in chats.values()}
        order = list(unique)
        waiting: dict[tuple[tuple[str, str], ...], list[int]] = {key: [] for key in order}
        for n, (*_, chats) in enumerate(part):  # each item under each distinct chat it needs
            for chat_key in dict.fromkeys(as_key(chat) for chat in chats.values()):
                waiting[chat_key].append(n)
        replies: dict[tuple[tuple[str, str], ...], tuple[str | None, dict | None]] = {}
        for j, text, prob, tokens in ask(engine, list(unique.values()), judge):
            replies[order[j]] = (text, prob)
            records = []
            for key, item, turn, member, chats in (part[n] for n in waiting[order[j]]):
                if not all(as_key(chat) in replies for chat in chats.values()):
                    continue  # a line is done when its last side's rating is
                sides = {side: rate(member, *replies[as_key(chat)])
                         for side, chat in chats.items()}
                line = make_rating(key, item, shown, sides, member, names,
                                   judge.grammar is not None)
                records.append(line.model_copy(update={"turn": turn}))
            yield Done(records, tokens, 1)

    return fill(ledger, keys, todo, ratings, lambda: pool.get(judge.model, judge.engine), chunk,
                advance, per_item=2)


def judge_turns(
    pool: EnginePool, judge: Judge, items: Sequence[PromptItem], talks: Conversations,
    shown: Answers, folder: RunFolder, chunk: int, progress: Callable[[str, int], Advance],
    names: Names,
) -> tuple[list[Judgment], dict[str, StageTime]]:
    """The judge stage of a per-turn run: its lines and the stage's cost."""
    ledger = Ledger(folder.judgments(judge.model, judge.template.name), Judgment)
    total = 2 * sum(len(item.user_turns()) for item in items)
    lines, stage = turn_stage(pool, judge.reading(), items, talks, shown, ledger, chunk,
                              progress("judge", total), names)
    return lines, {"judge": stage.as_time()}


def turn_blocks(template: JudgeTemplate, judgments: Sequence[Judgment],
                settings: Mapping[str, Any]) -> dict[str, Any]:
    """summary.json's `mt_bench` block for a per-turn run (nothing for any other run)."""
    if not is_turn_graded(template):
        return {}
    rows = fastchat_rows([j for j in judgments if j.turn is not None])
    return {"mt_bench": mt_bench_stats(rows, "base", **settings)}
