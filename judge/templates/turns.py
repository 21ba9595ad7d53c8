"""Per-turn grading templates (MT-Bench single-answer grading): a family of pointwise templates,
one picked for each turn of each conversation.

    --template mt-bench                           the shipped family (prompts/pointwise/mt-bench*)
    --template judge_prompts.jsonl#single-v1      FastChat's single prompts, from the same file

A family has up to four members, chosen as FastChat chooses its judge prompts: the first turn
with the general prompt, or with the reference prompt where the question's category is one that
needs a reference (math, reasoning, coding) and the prompt set carries one; a later turn with the
multi-turn form of either. FastChat's members are NAME, NAME with `single-` read as
`single-math-` (single-v1 -> single-math-v1), and both with `-multi-turn`; the shipped family's
are mt-bench, mt-bench-reference and both with `-multi-turn`. The member named is required,
the others only where a prompt needs them (checked before any model loads).

Each member receives, for the turn it grades, `instruction`, `answer` and `reference` (that
turn's), and `instruction_K`, `answer_K`, `reference_K` for every turn K up to it: FastChat's
multi-turn prompts show the whole conversation up to the graded turn.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import NamedTuple

from judge.errors import InputError
from judge.records import Message, PromptItem
from judge.templates.importers import is_source, split
from judge.templates.importers.fastchat import read_prompts
from judge.templates.template import JudgeTemplate, load_template, shipped

# FastChat's NEED_REF_CATS: the categories graded against a reference answer
REFERENCE_CATEGORIES = ("math", "reasoning", "coding")
MAX_TURNS = 2  # FastChat's multi-turn prompts name question_1/_2 and answer_1/_2 only
Slot = tuple[bool, bool]  # (a later turn, with a reference)


class TurnTemplate(JudgeTemplate):
    """The family's first-turn general member, which names the family in run.json and the
    ledger, holding every member; its sha covers them all."""

    members: dict[Slot, JudgeTemplate]
    refs: dict[Slot, str]  # what each member is loaded from (named in a missing-member error)

    def pick(self, turn: int, referenced: bool) -> JudgeTemplate:
        slot = (turn > 1, referenced)
        if slot not in self.members:
            raise InputError(f"template {self.name}: no member for {describe(slot)} "
                             f"({self.refs[slot]})")
        return self.members[slot]


class TurnChat(NamedTuple):
    template: JudgeTemplate  # the member that rendered it (its sha joins the line's key)
    messages: list[Message]


def describe(slot: Slot) -> str:
    later, referenced = slot
    return (f"{'a later turn' if later else 'the first turn'}"
            f"{' with a reference answer' if referenced else ''}")


def member_refs(ref: str) -> dict[Slot, str] | None:
    """The four members' references of a family reference, or None when `ref` is none."""
    if is_source(ref):
        path, name = split(ref)
        if path.suffix.lower() != ".jsonl" or not name or not name.startswith("single-"):
            return None
        general = name.removesuffix("-multi-turn").replace("single-math-", "single-", 1)
        referenced = general.replace("single-", "single-math-", 1)
        names = {(False, False): general, (False, True): referenced,
                 (True, False): f"{general}-multi-turn", (True, True): f"{referenced}-multi-turn"}
        return {slot: f"{path}#{n}" for slot, n in names.items()}
    if f"{ref}-multi-turn" in shipped():
        return {(False, False): ref, (False, True): f"{ref}-reference",
                (True, False): f"{ref}-multi-turn", (True, True): f"{ref}-reference-multi-turn"}
    return None


def is_family(ref: str) -> bool:
    return member_refs(ref) is not None


def exists(ref: str) -> bool:
    """Whether a member is there to load (a missing one fails only where a prompt needs it)."""
    if is_source(ref):
        path, name = split(ref)
        return name in read_prompts(path)
    return ref in shipped()


def load_family(ref: str) -> TurnTemplate:
    """A family by its reference: every member that exists, checked; the named one required."""
    refs = member_refs(ref)
    if refs is None:
        raise InputError(f"template {ref} is not a per-turn family (mt-bench, or FastChat's "
                         "judge_prompts.jsonl#single-v1)")
    members = {slot: load_template(member) for slot, member in refs.items() if exists(member)}
    if (False, False) not in members:
        raise InputError(f"template {ref}: its first-turn member {refs[(False, False)]} is missing")
    for slot, template in members.items():
        if template.kind != "pointwise":
            raise InputError(f"template {refs[slot]} is {template.kind}; per-turn grading "
                             "rates each answer alone (a pointwise template)")
    first = members[(False, False)]
    for slot, template in members.items():  # one grammar and one reading serve every member
        if (template.spec.labels, template.spec.parser) != (first.spec.labels, first.spec.parser):
            raise InputError(f"template {refs[slot]} reads ratings differently from "
                             f"{refs[(False, False)]}; a family shares labels and parser")
    family = TurnTemplate(first.name, first.source, first.origin)
    family.members, family.refs = members, refs
    blob = "|".join(f"{slot}:{t.sha}" for slot, t in sorted(members.items()))
    family.sha = hashlib.sha256(blob.encode()).hexdigest()[:16]
    return family


def referenced(item: PromptItem, turn: int) -> bool:
    """Whether this turn is graded against a reference: a FastChat category, with one given."""
    refs = item.references or ([item.reference] if item.reference else [])
    return item.category in REFERENCE_CATEGORIES and len(refs) >= turn and bool(refs[turn - 1])


def turn_values(item: PromptItem, answers: Sequence[str], turn: int) -> dict[str, str | None]:
    """The variables a member gets for grading `turn` (1-based) of one side's conversation."""
    questions = item.user_turns()
    refs = item.references or ([item.reference] if item.reference else [])
    values: dict[str, str | None] = {}
    for k in range(1, turn + 1):
        values[f"instruction_{k}"] = questions[k - 1]
        values[f"answer_{k}"] = answers[k - 1]
        values[f"reference_{k}"] = refs[k - 1] if k <= len(refs) else None
    values |= {"instruction": questions[turn - 1], "answer": answers[turn - 1],
               "reference": values[f"reference_{turn}"]}
    return values


def render_turn(family: TurnTemplate, item: PromptItem, answers: Sequence[str],
                turn: int) -> TurnChat:
    member = family.pick(turn, referenced(item, turn))
    return TurnChat(member, member.render(**turn_values(item, answers, turn)))


def check_turns(family: TurnTemplate, items: Sequence[PromptItem]) -> None:
    """Every prompt can be graded turn by turn: at most two turns, and a member for each."""
    for item in items:
        turns = len(item.user_turns())
        if turns > MAX_TURNS:
            raise InputError(f"prompt {item.prompt_id} has {turns} turns; per-turn grading reads "
                             f"at most {MAX_TURNS} (FastChat's multi-turn prompts name two)")
        for turn in range(1, turns + 1):
            family.pick(turn, referenced(item, turn))
