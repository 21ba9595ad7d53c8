"""Append-only JSONL ledgers: the cache and the results are the same thing.

Every record is written as one line and flushed, so a crash or a kill loses at most the record being
written. On load, a torn last line (no newline, or not JSON) is dropped with a warning and cut off
the file, so the next append starts on a clean line; a bad line anywhere else is an input error: it
means someone edited the file and silently skipping it would change the numbers.

A record's key is a content key (a hash of everything its result depends on): generation_key here,
the judgment keys beside the judge stage (judge/pipeline/judging.py). A key is part of the file
format: changing what goes into one makes every old ledger a cache miss.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from judge.errors import InputError
from judge.files import read_jsonl
from judge.records import ModelInfo, PromptItem, SamplingParams

R = TypeVar("R", bound=BaseModel)


def content_key(*parts: object) -> str:
    """A stable 16-hex-digit hash of JSON-serialisable parts (dict keys sorted)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def generation_key(model: ModelInfo, item: PromptItem, params: SamplingParams) -> str:
    """The key of one answer: the model, the prompt (its turns), and how it was sampled."""
    seed = params.seed if params.temperature > 0 else None  # greedy output does not depend on it
    sampling = params.model_dump() | {"seed": seed}
    text: str | list[str] = item.turns if item.turns else item.prompt  # old keys stay valid
    return content_key("generation/1", model.fingerprint, text, sampling)


class Ledger(Generic[R]):
    """Records of one type keyed by their `key` field, backed by one append-only JSONL file."""

    def __init__(self, path: Path, record_type: type[R]) -> None:
        self.path = path
        self.record_type = record_type
        self.records: dict[str, R] = {}
        self._needs_newline = False
        if path.exists():
            self._load()

    def _load(self) -> None:
        rows, clean = read_jsonl(self.path)
        for number, row in enumerate(rows, start=1):
            try:
                record = self.record_type.model_validate(row)
            except ValidationError as err:
                first = err.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "record"
                raise InputError(
                    f"{self.path}: record {number} does not fit the format "
                    f"({where}: {first['msg']})"
                ) from None
            self.records[getattr(record, "key")] = record  # noqa: B009 - records share a key field
        data = self.path.read_bytes()
        if clean < len(data):
            with self.path.open("r+b") as fh:
                fh.truncate(clean)
            data = data[:clean]
        self._needs_newline = bool(data) and not data.endswith(b"\n")

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def get(self, key: str) -> R | None:
        return self.records.get(key)

    def append(self, records: Iterable[R]) -> None:
        """Write records, one flushed line each, skipping keys already present."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            for record in records:
                key = getattr(record, "key")  # noqa: B009
                if key in self.records:
                    continue
                if self._needs_newline:
                    fh.write("\n")
                    self._needs_newline = False
                fh.write(record.model_dump_json() + "\n")
                fh.flush()
                os.fsync(fh.fileno())
                self.records[key] = record
