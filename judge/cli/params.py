"""Parameter types every command shares: numbers that must be finite and in range, text that
must stay on one line. The CLI's edge checks values with these; nothing below repeats it."""

from __future__ import annotations

import math

import click


class Finite(click.FloatRange):
    """A FloatRange that also refuses nan and ±inf (a range check alone lets nan through)."""

    name = "finite float range"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


class OneLine(click.ParamType):
    """Text on one line: a setting that ends up in run.json and in messages."""

    name = "text"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        text = str(value)
        if "\n" in text or "\r" in text or "\x00" in text:
            self.fail("must be one line of text", param, ctx)
        return text


# Bounds on numbers that size work or memory: a seed numpy accepts, and a bootstrap that fits
# in memory (the paired bootstrap holds resamples x prompts counts).
SEED = click.IntRange(0, 2**32 - 1)
BOOTSTRAP = click.IntRange(100, 100_000)
