"""User regexes (a template's `parser:` and `feedback:`) with a time limit.

Python's `re` backtracks without bound: `^(a+)+$` against forty a's and a `b` never returns. The
`regex` package reads the same syntax (its VERSION0 mode is `re`'s) and takes a timeout, so a
pattern that runs away stops with one line naming it, in `judge templates check` and when a judge
reply is parsed alike.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import regex

SECONDS = 1.0  # per search; a sane verdict pattern takes microseconds on a judge reply


class PatternError(Exception):
    """A pattern that does not compile, or ran past SECONDS."""


@lru_cache(maxsize=256)
def _compiled(pattern: str, flags: int) -> Any:
    try:
        return regex.compile(pattern, flags | regex.VERSION0)
    except (regex.error, OverflowError, RecursionError, ValueError) as err:
        raise PatternError(str(err).splitlines()[0] if str(err) else type(err).__name__) \
            from None


class Pattern:
    """A compiled user regex; `search` gives a match object (or None) within SECONDS."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.compiled = _compiled(pattern, flags)
        self.groups: int = self.compiled.groups

    def search(self, text: str) -> Any:
        try:
            return self.compiled.search(text, timeout=SECONDS)
        except TimeoutError:
            raise PatternError(f"{self.pattern!r} ran for over {SECONDS:g} s on a text of "
                               f"{len(text):,} characters (it backtracks without bound; make "
                               "its repetitions unambiguous)") from None
