"""The one skeleton every model stage shares: compute only what the ledger lacks, in chunks.

Each chunk is appended to the ledger as soon as it is done, so a crash loses at most one chunk and
a rerun makes no call it already made. The engine is asked for per chunk and outside the timing:
a model that has to load first (or is never needed, because everything is cached) costs no stage
time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Generic, NamedTuple, TypeVar

from pydantic import BaseModel

from judge.engines import Engine
from judge.pipeline.timing import StageTiming
from judge.runs.ledger import Ledger

R = TypeVar("R", bound=BaseModel)
W = TypeVar("W")
Advance = Callable[[int, int], None]  # (items done, tokens) -> None


class Done(NamedTuple, Generic[R]):
    """What one chunk produced: its records, the tokens generated, the engine requests made."""

    records: list[R]
    tokens: int
    requests: int


def chunks(items: Sequence[W], size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def fill(
    ledger: Ledger[R],
    keys: Sequence[str],
    todo: Sequence[W],
    compute: Callable[[Engine, Sequence[W]], Done[R]],
    engine: Callable[[], Engine],
    chunk: int,
    advance: Advance,
    per_item: int = 1,
) -> tuple[list[R], StageTiming]:
    """The records of `keys` (in that order), computing the `todo` work items chunk by chunk.

    `todo` holds the work whose key the ledger lacks; `per_item` is how many progress units one
    item counts for (a pointwise prompt is two ratings).
    """
    timing = StageTiming()
    advance(per_item * (len(keys) - len(todo)), 0)
    for part in chunks(todo, chunk):
        loaded = engine()
        start = time.perf_counter()
        done = compute(loaded, part)
        timing.seconds += time.perf_counter() - start
        ledger.append(done.records)
        timing.tokens += done.tokens
        timing.requests += done.requests
        advance(per_item * len(part), done.tokens)
    return [ledger.records[key] for key in keys], timing
