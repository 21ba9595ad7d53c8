"""The prompts of answers files: which prompts they answer, matched across files and prompt sets.

Without a prompt set the first file's prompts are the prompts (it must carry their texts), and
every other file must answer exactly those. With one (--prompts) its prompts are the prompts, and
every file must answer each of them; what else a file answers is left out. A file is matched by
prompt text when it carries texts (alpaca_eval names its prompts by nothing else), else by id
(arena-hard v0.1 lines carry only question ids). A prompt whose first file names it by text only
gets an id from its text's hash, so the same prompt keeps its id run after run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from judge.errors import InputError
from judge.models.answers import AnswerRow, AnswerSet, shown_prompt
from judge.records import PromptItem

Outputs = dict[str, list[str]]  # prompt_id -> one answer per user turn


def text_id(text: str) -> str:
    return "t" + hashlib.sha256(text.encode()).hexdigest()[:11]


def first_items(source: AnswerSet) -> list[PromptItem]:
    if not source.has_text:
        raise InputError(f"answers file {source.path} names its prompts by id only ({source.format}"
                         "); give the questions with --prompts")
    items = []
    for row in source.rows:
        assert row.prompt is not None
        items.append(PromptItem(prompt_id=row.prompt_id or text_id(row.prompt), prompt=row.prompt,
                                category=row.category, turns=row.turns))
    return items


def row_key(row: AnswerRow, by_text: bool) -> str:
    key = row.prompt if by_text else row.prompt_id
    assert key is not None
    return key


def match(source: AnswerSet, items: Sequence[PromptItem], exact: bool, against: str) -> Outputs:
    """The source's answers for every item; `exact`: the source may answer nothing else."""
    by_text = source.has_text
    rows = {row_key(row, by_text): row for row in source.rows}
    keys = {(item.prompt if by_text else item.prompt_id): item for item in items}
    if len(keys) < len(items):
        twice = next(k for k in keys if sum(i.prompt == k for i in items) > 1)
        raise InputError(f"two prompts of {against} share the text {shown_prompt(twice)}: "
                         f"{source.path} names its prompts by text, so they cannot be told apart")
    missing = [k for k in keys if k not in rows]
    extra = [k for k in rows if k not in keys] if exact else []
    if missing or extra:
        differ = len(missing) + len(extra)
        example, lacking = ((keys[missing[0]].prompt, source.path) if missing
                            else (extra[0], against))
        raise InputError(f"{source.path} and {against} do not cover the same prompts: {differ} "
                         f"differ, e.g. {shown_prompt(example)} has no answer in {lacking}")
    found: Outputs = {}
    for key, item in keys.items():
        outputs = rows[key].outputs
        if len(outputs) != len(item.user_turns()):
            raise InputError(f"answers file {source.path}: prompt {item.prompt_id} has "
                             f"{len(outputs)} answers for {len(item.user_turns())} user turns "
                             "(a multi-turn file needs its questions with --prompts)")
        found[item.prompt_id] = list(outputs)
    return found


def align(
    sources: Sequence[AnswerSet], prompts: list[PromptItem] | None, limit: int | None = None,
    prompts_name: str = "--prompts",
) -> tuple[list[PromptItem], list[Outputs]]:
    """The prompts every source answers, and each source's answers to them (in source order)."""
    if not sources:
        raise ValueError("align needs at least one answers file")
    if prompts is None:
        items, against = first_items(sources[0]), sources[0].path
    else:
        items, against = prompts, prompts_name
    if limit is not None:
        items = items[:limit]
    exact = prompts is None and limit is None
    if prompts is None and not all(s.has_text for s in sources) and not sources[0].has_ids:
        odd = next(s for s in sources if not s.has_text)
        raise InputError(f"answers file {odd.path} names its prompts by id only and "
                         f"{sources[0].path} by text only; give the questions with --prompts")
    return items, [match(source, items, exact, against) for source in sources]
