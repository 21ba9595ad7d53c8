"""Progress for the Python API: one tqdm.auto bar per stage (a widget in Jupyter, text in a
terminal), closed when the call returns.

The API never touches other libraries' bars: the command line hides those for the length of a
command (judge/cli/common.py); a notebook keeps its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from judge.pipeline.compare import Progress
from judge.pipeline.fill import Advance

# what a caller may pass as `progress`: True (tqdm.auto bars), False/None (none), or the
# pipelines' own callback, (stage name, total) -> advance(done, new tokens)
ProgressArg = bool | None | Progress


def no_progress(name: str, total: int) -> Advance:
    return lambda done, tokens: None


@contextmanager
def tqdm_bars() -> Iterator[Progress]:
    from tqdm.auto import tqdm

    bars: list[Any] = []

    def start(name: str, total: int) -> Advance:
        bar = tqdm(total=total, desc=name, unit="item", dynamic_ncols=True)
        bars.append(bar)
        tokens = [0]

        def advance(done: int, new_tokens: int) -> None:
            tokens[0] += new_tokens
            if tokens[0]:
                bar.set_postfix_str(f"{tokens[0]} tokens", refresh=False)
            bar.update(done)

        return advance

    try:
        yield start
    finally:
        for bar in bars:
            bar.close()


@contextmanager
def progress_for(progress: ProgressArg) -> Iterator[Progress]:
    """The callback a pipeline gets for this `progress` argument."""
    if progress is True:
        with tqdm_bars() as bars:
            yield bars
    elif callable(progress):
        yield progress
    else:
        yield no_progress


__all__ = ["ProgressArg", "no_progress", "progress_for", "tqdm_bars"]
