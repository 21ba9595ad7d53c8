"""The one run reader: a run folder's data as `judge compare` held it at the end of the run.

    data = read_run(RunFolder("results/base-vs-tuned"))
    data.summary, data.run          # summary.json and run.json as records
    data.items                      # the prompts, in the run's order
    data.answers[pid]               # (base answer, tuned answer), as the judge read them
    data.judgments                  # the first judge's verdicts: per prompt, by order

The report, `judge report` and the card all read a folder through here, so they cannot disagree
on what a run holds. Read back from a folder, a run's prompts are its prompts.jsonl (a folder
from before it: the base side's generations, first line of each prompt id, in ledger order); each
side's answer is the generation line under the key the run used (generation_key, with the
sampling run.json records or, for an older run.json, the rule that run used); each prompt's
verdicts are the latest judgment line of each order. A panel's views show its first judge.

Reading never writes: a torn last line is skipped here and repaired by the next run that appends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel, ValidationError

from judge.errors import InputError
from judge.files import read_jsonl
from judge.records import Generation, Judgment, PromptItem
from judge.runs.folder import RunFolder, RunRecord
from judge.runs.ledger import generation_key
from judge.runs.summary import Summary

R = TypeVar("R", bound=BaseModel)
Answers = dict[str, tuple[str, str]]  # prompt_id -> (base answer, tuned answer)
ORDER_RANK: dict[Any, int] = {"base_first": 0, "tuned_first": 1, None: 2}


class RunData(NamedTuple):
    """What a run's views (report, card, CSV) are made of."""

    summary: Summary
    run: RunRecord
    items: list[PromptItem]
    answers: Answers
    judgments: list[Judgment]  # by prompt (items' order), then base_first, tuned_first, None


def load_records(path: Path, record_type: type[R]) -> list[R]:
    """Every line of a ledger as a record, in file order ([] for a file not there)."""
    if not path.is_file():
        return []
    rows, _ = read_jsonl(path)  # read only: a torn tail is skipped here, repaired by the next run
    try:
        return [record_type.model_validate(row) for row in rows]
    except ValidationError:
        kind = record_type.__name__
        raise InputError(f"{path}: a record does not fit the {kind} format") from None


def shown_answer(item: PromptItem, generation: Generation) -> str:
    """What the judge reads as one model's answer: for a multi-turn prompt, its whole side of the
    conversation, turn by turn (MT-Bench judges the second turn in the light of the first)."""
    if not item.turns or not generation.outputs:
        return generation.output
    pairs = enumerate(zip(item.turns, generation.outputs, strict=True), start=1)
    return "\n\n".join(f"[Turn {n}] User: {user}\n[Turn {n}] Assistant: {reply}"
                       for n, (user, reply) in pairs)


def folder_items(folder: RunFolder, base: list[Generation]) -> list[PromptItem]:
    """The run's prompts: its prompts.jsonl, or for an older folder the base side's generations
    (first line of each prompt id, in ledger order)."""
    if folder.prompts_file.is_file():
        return load_records(folder.prompts_file, PromptItem)
    seen: dict[str, PromptItem] = {}
    for g in base:
        seen.setdefault(g.prompt_id, PromptItem(prompt_id=g.prompt_id, prompt=g.prompt))
    return list(seen.values())


def read_answers(folder: RunFolder, run: RunRecord,
                 base: list[Generation], items: list[PromptItem]) -> Answers:
    """Both answers of every prompt that has both, under the keys the run used."""
    sampling = run.side_sampling()
    lines = {"base": base, "tuned": load_records(folder.generations(run.models["tuned"]),
                                                 Generation)}
    by_key = {side: {g.key: g for g in found} for side, found in lines.items()}
    answers: Answers = {}
    for item in items:
        found = [by_key[side].get(generation_key(run.models[side], item, sampling[side]))
                 for side in ("base", "tuned")]
        if found[0] is not None and found[1] is not None:
            answers[item.prompt_id] = (shown_answer(item, found[0]), shown_answer(item, found[1]))
    return answers


def read_run(folder: RunFolder) -> RunData:
    """A run folder's data (see the module docstring); InputError for a folder that is none."""
    summary, run = folder.read_summary(), folder.read_run()
    base = load_records(folder.generations(run.models["base"]), Generation)
    items = folder_items(folder, base)
    answers = read_answers(folder, run, base, items)
    latest: dict[tuple[str, str | None, int | None], Judgment] = {}  # per-turn: one per turn
    judge, template = run.judge_ledgers()[0]  # a panel's views: its first judge's verdicts
    for j in load_records(folder.judgments(judge, template or summary.template), Judgment):
        if j.prompt_id in answers:
            latest[(j.prompt_id, j.order, j.turn)] = j
    # an item read from generations has no category; its judgment lines may have one
    categories = {j.prompt_id: j.category for j in latest.values() if j.category is not None}
    items = [item if item.category is not None or item.prompt_id not in categories
             else item.model_copy(update={"category": categories[item.prompt_id]})
             for item in items if item.prompt_id in answers]
    rank = {item.prompt_id: i for i, item in enumerate(items)}
    judgments = sorted(latest.values(), key=lambda j: (rank[j.prompt_id], ORDER_RANK[j.order],
                                                       j.turn or 0))
    return RunData(summary, run, items, answers, judgments)
