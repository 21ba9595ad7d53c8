"""Control pairs: pairs built from the run's own answers whose better answer is known by
construction, judged exactly like the real pairs (same template, engine, cache, both orders) and
kept out of every win rate (judge/stats/controls.py scores them and says whether the judge could
judge).

Whose answers: BASE's (in a leaderboard the reference's, shared by every pair; in `judge
agreement` the answer the human label prefers, output A for a tie).
Which prompts: the prompt ids in sorted order, shuffled by random.Random(f"judge-controls/{seed}");
the first N prompts in that order that qualify give the N controls of each kind (--controls N).

    offtopic   the real answer against the answer to the NEXT prompt in the shuffled order. A
               cyclic shift of a shuffled list gives no prompt its own answer (a derangement).
               Skipped: a run of one prompt, an empty real answer, two identical answers.
    truncated  the real answer against itself cut after its first CUT_WORDS words (in a
               multi-turn conversation, the last reply is cut; earlier turns stay). Skipped when
               that reply has fewer than MIN_WORDS words: the cut must keep at most a quarter.

The control answer plays BASE and the real answer TUNED, so a control line's winner is `tuned`
exactly when the judge picked the real answer. A control's id is `control:<kind>:<prompt_id>`; its
lines go to controls/<judge>__<template>.jsonl, a ledger of their own, and the pairs themselves to
controls/pairs.jsonl. Cost: at most 2 kinds × N pairs × 2 orders extra judge calls (32 at N = 8).
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, NamedTuple

from judge.files import write_atomic
from judge.records import PromptItem, Record

CUT_WORDS = 5
MIN_WORDS = 4 * CUT_WORDS
WORD = re.compile(r"\S+")
Kind = Literal["offtopic", "truncated"]


class ControlPair(Record):
    """One control pair as controls/pairs.jsonl holds it: what the judge compared."""

    id: str
    kind: Kind
    prompt_id: str
    other_prompt_id: str | None = None  # offtopic: whose answer stands in
    real: str
    control: str


class Controls(NamedTuple):
    requested: int  # per kind
    pairs: list[ControlPair]
    skipped: dict[str, dict[str, int]]  # kind -> reason -> prompts passed over
    items: list[PromptItem]  # what judge_stage reads: one item per pair ...
    answers: dict[str, tuple[str, str]]  # ... and its (control, real) answers

    def write(self, path: Path) -> None:
        write_atomic(path, "".join(p.model_dump_json() + "\n" for p in self.pairs))


def shuffled(ids: Sequence[str], seed: int) -> list[str]:
    order = sorted(ids)
    random.Random(f"judge-controls/{seed}").shuffle(order)
    return order


def cut(reply: str) -> str:
    """The reply up to the end of its CUT_WORDS-th word, spacing and line breaks kept."""
    words = list(WORD.finditer(reply))
    return reply[: words[CUT_WORDS - 1].end()]


def build_controls(
    requests: Sequence[PromptItem], shown: Mapping[str, str], last: Mapping[str, str], n: int,
    seed: int,
) -> Controls:
    """Up to `n` controls of each kind (module docstring). `requests` are the prompts as the judge
    reads them, `shown` the real answers as the judge reads them, `last` their last reply (the
    end of `shown`)."""
    order = shuffled([r.prompt_id for r in requests], seed)
    skipped: dict[str, dict[str, int]] = {"offtopic": defaultdict(int),
                                          "truncated": defaultdict(int)}
    pairs: list[ControlPair] = []

    def take(kind: Kind, pid: str, control: str, other: str | None = None) -> None:
        pairs.append(ControlPair(id=f"control:{kind}:{pid}", kind=kind, prompt_id=pid,
                                 other_prompt_id=other, real=shown[pid], control=control))

    found = 0
    for i, pid in enumerate(order):
        if found == n:
            break
        other = order[(i + 1) % len(order)]
        why = ("a run of one prompt" if other == pid else "empty answer"
               if not shown[pid].strip() else "identical to the other prompt's answer"
               if shown[pid] == shown[other] else None)
        if why:
            skipped["offtopic"][why] += 1
            continue
        take("offtopic", pid, shown[other], other)
        found += 1
    found = 0
    for pid in order:
        if found == n:
            break
        reply = last[pid]
        if len(WORD.findall(reply)) < MIN_WORDS:
            skipped["truncated"][f"fewer than {MIN_WORDS} words"] += 1
            continue
        assert shown[pid].endswith(reply), "the shown answer ends with its last reply"
        take("truncated", pid, shown[pid][: len(shown[pid]) - len(reply)] + cut(reply))
        found += 1
    by_id = {r.prompt_id: r for r in requests}
    items = [PromptItem(prompt_id=p.id, prompt=by_id[p.prompt_id].prompt, category=p.kind,
                        reference=by_id[p.prompt_id].reference) for p in pairs]
    return Controls(n, pairs, {k: dict(v) for k, v in skipped.items()}, items,
                    {p.id: (p.control, p.real) for p in pairs})
