"""The one skeleton every model stage shares: compute only what the ledger lacks, as a stream.

A stage hands the engine all the work its ledger lacks, a window of items at a time (`window`,
the CLI's --chunk: large by default, so the engine always has more than it can run at once), and
the engine hands back each completion as it finishes. Every record is appended to the ledger the
moment it exists, so a kill loses only what was in flight and a rerun makes no call it already
made. The engine is asked for per window and outside the timing: a model that has to load first
(or is never needed, because everything is cached) costs no stage time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, NamedTuple, TypeVar

from pydantic import BaseModel

from judge.engines import Engine
from judge.pipeline.timing import StageTiming
from judge.runs.ledger import Ledger

R = TypeVar("R", bound=BaseModel)
W = TypeVar("W")
Advance = Callable[[int, int], None]  # (items done, tokens) -> None
# Work items one stream offers the engine: far more than an engine runs at once (vLLM schedules
# up to 256 sequences per step on a GPU, a fleet of servers takes --concurrency requests), yet a
# bound on what one call holds in memory for prompt sets of tens of thousands.
WINDOW = 1024


class Done(NamedTuple, Generic[R]):
    """What one finished engine request completed: the records it finished (none, when an item
    still waits for another request: a later turn, the other answer of a rating), the tokens it
    generated, and the engine requests it stands for."""

    records: list[R]
    tokens: int
    requests: int


Compute = Callable[[Engine, Sequence[W]], Iterable[Done[R]]]


def windows(items: Sequence[W], size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def fill(
    ledger: Ledger[R],
    keys: Sequence[str],
    todo: Sequence[W],
    compute: Compute[W, R],
    engine: Callable[[], Engine],
    window: int,
    advance: Advance,
    per_item: int = 1,
) -> tuple[list[R], StageTiming]:
    """The records of `keys` (in that order), computing the `todo` work items as a stream.

    `todo` holds the work whose key the ledger lacks; `compute` yields a Done per finished
    request; `per_item` is how many progress units one record counts for (a pointwise prompt is
    two ratings). Stage time is the time spent waiting on the engine, appends excluded.
    """
    timing = StageTiming()
    advance(per_item * (len(keys) - len(todo)), 0)
    for part in windows(todo, window):
        loaded = engine()
        stream = iter(compute(loaded, part))
        start, writing = time.perf_counter(), 0.0
        try:
            for done in stream:
                wrote = time.perf_counter()
                ledger.append(done.records)
                writing += time.perf_counter() - wrote
                timing.tokens += done.tokens
                timing.requests += done.requests
                advance(per_item * len(done.records), done.tokens)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:  # a crash above: the engine drops what is in flight
                close()
            timing.seconds += time.perf_counter() - start - writing
    return [ledger.records[key] for key in keys], timing
