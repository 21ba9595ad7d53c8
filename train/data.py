"""Training data: read, normalise to one conversational shape, mix by fraction, hold out some.

Preference methods (ORPO, DPO) take two row shapes, which may be mixed across sources:
- plain strings: {"prompt": str, "chosen": str, "rejected": str}
- conversational: {"chosen": [{role, content}, ...], "rejected": [...], "prompt"?: str | [...]};
  when chosen and rejected are whole conversations, the turns they share become the prompt.
Both end up as {"prompt": [messages], "chosen": [assistant turn], "rejected": [assistant turn]}, so
trl applies the tokenizer's chat template to every row, whatever shape it came in.

SFT (`normalise_sft`) takes those same preference rows (their chosen answer is the completion, the
rejected one is not used), {"messages": [...]} conversations ending in an assistant turn (that turn
is the completion, the turns before it the prompt), or {"prompt", "completion"} as text or
messages; all end up as {"prompt": [messages], "completion": [assistant turn]}.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from judge.errors import InputError, hub_failure
from judge.files import meant_local
from judge.promptsets.load import HUB_SET, read_rows
from judge.records import Record
from judge.resources import resource

BUILTIN = resource("judge.train", "preferences.jsonl")
SUFFIXES = {".jsonl", ".json", ".parquet", ".csv"}
Messages = list[dict[str, str]]
Shape = Callable[[Any, str], dict[str, Any]]  # (source row, where it came from) -> trainer row


class SourceUse(Record):
    name: str
    split: str
    fraction: float
    available: int
    used: int


class DataSummary(Record):
    fingerprint: str
    train_rows: int
    eval_rows: int
    sources: list[SourceUse]


def read_source(name: str, split: str) -> list[dict]:
    """Rows of 'builtin', a local file (one split) or a hub id ORG/NAME[:CONFIG][@SPLIT]."""
    path = Path(name).expanduser()
    if name == "builtin":
        return read_rows(BUILTIN)
    if path.exists():
        if path.suffix.lower() not in SUFFIXES:
            raise InputError(f"dataset {name}: use a .jsonl, .json, .parquet or .csv file")
        return read_rows(path, "dataset")
    match = HUB_SET.match(name)
    if meant_local(name, tuple(SUFFIXES)):
        raise InputError(f"dataset '{name}' is neither 'builtin', an existing file, nor a hub "
                         "id: no such file here (a path, not a hub id)")
    if match is None:
        raise InputError(f"dataset '{name}' is neither 'builtin', an existing file, nor a hub id")
    import datasets

    try:
        ds = datasets.load_dataset(match["repo"], match["config"], split=match["split"] or split)
    except Exception as err:  # datasets raises many types; offline and a wrong split are common
        raise hub_failure(err, f"dataset '{name}' split '{split}' cannot be loaded") from None
    return list(ds)


def as_messages(value: Any, role: str, column: str, where: str) -> Messages:
    if isinstance(value, str):
        if not value.strip():
            raise InputError(f"{where}: column '{column}' is empty")
        return [{"role": role, "content": value}]
    if isinstance(value, list) and value and all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
        for m in value
    ):
        return [{"role": m["role"], "content": m["content"]} for m in value]
    raise InputError(
        f"{where}: column '{column}' must be text or a non-empty list of {{role, content}} messages"
    )


def normalise(row: Any, where: str) -> dict[str, Messages]:
    if not isinstance(row, dict):
        raise InputError(f"{where}: a row must be an object with named columns")
    for column in ("chosen", "rejected"):
        if column not in row or row[column] is None:
            raise InputError(f"{where}: no column '{column}' (columns: {', '.join(map(str, row))})")
    chosen = as_messages(row["chosen"], "assistant", "chosen", where)
    rejected = as_messages(row["rejected"], "assistant", "rejected", where)
    if len(chosen) > 1 and chosen[:-1] == rejected[:-1]:
        # Whole conversations (some hub mixes also carry the prompt as text): the shared turns
        # are the prompt, so it is not fed twice.
        prompt, chosen, rejected = chosen[:-1], chosen[-1:], rejected[-1:]
    elif row.get("prompt") is not None:
        prompt = as_messages(row["prompt"], "user", "prompt", where)
    else:
        raise InputError(
            f"{where}: no column 'prompt', and chosen/rejected do not share the prompt turns"
        )
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected}


def normalise_sft(row: Any, where: str) -> dict[str, Messages]:
    if not isinstance(row, dict):
        raise InputError(f"{where}: a row must be an object with named columns")
    if row.get("messages") is not None:
        turns = as_messages(row["messages"], "user", "messages", where)
        if len(turns) < 2 or turns[-1]["role"] != "assistant":
            raise InputError(f"{where}: column 'messages' must end with an assistant turn that "
                             "follows at least one other turn")
        return {"prompt": turns[:-1], "completion": turns[-1:]}
    if row.get("completion") is not None and row.get("prompt") is not None:
        return {"prompt": as_messages(row["prompt"], "user", "prompt", where),
                "completion": as_messages(row["completion"], "assistant", "completion", where)}
    if row.get("chosen") is None:
        raise InputError(f"{where}: no column 'messages', 'completion' or 'chosen' "
                         f"(columns: {', '.join(map(str, row))})")
    chosen = as_messages(row["chosen"], "assistant", "chosen", where)
    if len(chosen) > 1:  # a whole conversation, as in `normalise`: its turns before the answer
        return {"prompt": chosen[:-1], "completion": chosen[-1:]}
    if row.get("prompt") is None:
        raise InputError(f"{where}: no column 'prompt' for the chosen answer")
    return {"prompt": as_messages(row["prompt"], "user", "prompt", where), "completion": chosen}


def take(rows: list[dict], fraction: float, seed: int) -> list[dict]:
    """A seeded random `fraction` of the rows (at least one)."""
    picked = list(rows)
    random.Random(seed).shuffle(picked)
    return picked[: max(1, round(fraction * len(picked)))]


def fingerprint(train: list[dict], held_out: list[dict]) -> str:
    digest = hashlib.sha256()
    for part in (train, held_out):
        for row in part:
            digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\x00")
    return digest.hexdigest()[:16]


def mix(
    sources: dict[str, float], splits: list[str], eval_fraction: float, seed: int,
    shape: Shape = normalise,
) -> tuple[list[dict], list[dict], DataSummary]:
    """Read every source and split, keep its fraction, shuffle the union, hold out eval rows.
    `shape` turns each row into the training method's row (preference rows by default)."""
    pool: list[dict] = []
    uses: list[SourceUse] = []
    for name, fraction in sources.items():
        is_hub = not Path(name).expanduser().exists() and name != "builtin"
        for split in splits if is_hub and "@" not in name else ["train"]:
            rows = read_source(name, split)
            origin = f"dataset {name}" + (f" split '{split}'" if is_hub else "")
            if not rows:
                raise InputError(f"{origin} is empty")
            normal = [shape(row, f"{origin} row {i + 1}") for i, row in enumerate(rows)]
            kept = take(normal, fraction, seed)
            uses.append(SourceUse(name=name, split=split, fraction=fraction,
                                  available=len(rows), used=len(kept)))
            pool.extend(kept)
    random.Random(seed).shuffle(pool)
    n_eval = max(1, round(eval_fraction * len(pool))) if eval_fraction > 0 else 0
    if n_eval >= len(pool):
        raise InputError(
            f"eval_fraction {eval_fraction} leaves no training rows out of {len(pool)}"
        )
    held_out, train = pool[:n_eval], pool[n_eval:]
    summary = DataSummary(fingerprint=fingerprint(train, held_out), train_rows=len(train),
                          eval_rows=len(held_out), sources=uses)
    return train, held_out, summary
