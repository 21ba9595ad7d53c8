"""Parameter types every command shares: numbers that must be finite and in range, text that
must stay on one line; and flags derived from a record's fields (field_option), so a settings
record is the one place its options, defaults, ranges and help live. The CLI's edge checks
values with these; nothing below repeats it."""

from __future__ import annotations

import math
import types
import typing
from typing import Any, Literal, get_args, get_origin

import click
from pydantic import BaseModel
from pydantic.fields import FieldInfo


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


def plain(annotation: Any) -> tuple[Any, bool]:
    """(the type inside `X | None`, whether None is allowed)."""
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0], True
    return annotation, False


def bounds(info: FieldInfo) -> tuple[Any, Any]:
    low = high = None
    for rule in info.metadata:
        low = getattr(rule, "ge", low)
        high = getattr(rule, "le", high)
    return low, high


def click_type(info: FieldInfo) -> Any:
    """The flag type of a record field: its choices, or its range (floats finite too), or one
    line of text."""
    kind, _ = plain(info.annotation)
    low, high = bounds(info)
    if get_origin(kind) is Literal:
        return click.Choice([str(a) for a in get_args(kind)])
    if kind is int:
        return click.INT if low is None and high is None else click.IntRange(low, high)
    if kind is float:
        return Finite(low, high)
    return OneLine()


def field_option(record: type[BaseModel], field: str, *decls: str, **overrides: Any):
    """The click option of one record field: its flag (`--field-name` unless `decls` name
    others), type and range, default and help all read from the field."""
    info = record.model_fields[field]
    kind, _ = plain(info.annotation)
    name = f"--{field.replace('_', '-')}"
    settings: dict[str, Any] = {"help": info.description,
                                "default": None if info.is_required() else info.default}
    if kind is bool:
        decls = decls or (f"{name}/--no-{name[2:]}", field)
    elif get_origin(kind) is list:
        settings |= {"multiple": True, "type": OneLine()}
    else:
        settings["type"] = click_type(info)
    settings["show_default"] = settings["default"] not in (None, [], ())
    return click.option(*(decls or (name, field)), **settings | overrides)
