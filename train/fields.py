"""A method's trl config fields as user settings: which names exist, how values become typed.

The table is read from the installed trl's dataclass for the chosen method (ORPOConfig, DPOConfig,
SFTConfig; see methods.py), so a new trl field is settable without a code change here. Values
arrive from a recipe (already YAML-typed) or from the command line (text); both go through
`coerce`, which checks them against the field's annotation.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import math
import types
import typing
from typing import Any

import yaml

from judge.errors import InputError

from .methods import method

NoneType = type(None)


def config_class(name: str = "orpo") -> type:
    return method(name).config_class()


def config_fields(name: str = "orpo") -> dict[str, Any]:
    """Every init field of the method's config (TrainingArguments included) with its type."""
    cls = config_class(name)
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def field_defaults(name: str = "orpo") -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(config_class(name)):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


def members(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(m for arg in typing.get_args(annotation) for m in members(arg))
    return (annotation,)


def describe(annotation: Any) -> str:
    names = []
    for member in members(annotation):
        origin = typing.get_origin(member) or member
        if member is NoneType:
            names.append("null")
        elif isinstance(member, type) and issubclass(member, enum.Enum):
            names.append("one of " + ", ".join(str(e.value) for e in member))
        elif origin is typing.Literal:
            names.append(" or ".join(repr(a) for a in typing.get_args(member)))
        elif origin in (dict, list):
            names.append("a mapping" if origin is dict else "a list")
        else:
            names.append(getattr(member, "__name__", str(member)))
    return " or ".join(dict.fromkeys(names))


def _number(value: Any, kind: type) -> Any:
    """int/float from a number or from text; PyYAML reads `8e-6` as a string, so text counts too."""
    if isinstance(value, bool):
        raise ValueError
    if kind is int:
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            return int(value)
        raise ValueError
    if isinstance(value, int | float | str):
        number = float(value)
        if not math.isfinite(number):  # nan or inf would only fail mid-training, if at all
            raise ValueError
        return number
    raise ValueError


def _match(member: Any, value: Any, raw: str | None) -> Any:
    """The converted value if it fits `member`, else raise ValueError."""
    origin = typing.get_origin(member) or member
    if member is NoneType:
        if value is None or raw == "None":
            return None
    elif member is bool:
        if isinstance(value, bool):
            return value
    elif member in (int, float):
        return _number(value, member)
    elif origin is typing.Literal:
        if value in typing.get_args(member):
            return value
    elif origin is dict:
        if isinstance(value, dict):
            return value
    elif origin is list:
        items = value.split(",") if isinstance(value, str) and raw is not None else value
        if isinstance(items, list):
            (inner,) = typing.get_args(member) or (Any,)
            return [item if inner is Any else coerce_member(inner, item) for item in items]
    elif dataclasses.is_dataclass(member) and isinstance(member, type):
        if isinstance(value, dict):
            return member(**value)
    elif isinstance(member, type) and issubclass(member, enum.Enum):
        if isinstance(value, str) and value in {str(e.value) for e in member}:
            return value
    elif member is str:
        if raw is not None:
            return raw  # `--run-name 007` stays "007", not the integer YAML would make of it
        if isinstance(value, str):
            return value
    elif member is Any:
        return value
    raise ValueError


def coerce_member(member: Any, value: Any) -> Any:
    return _match(member, value, None)


# Fields a zero or negative value makes meaningless (checked here, before any model loads).
POSITIVE = {"learning_rate", "num_train_epochs", "per_device_train_batch_size",
            "gradient_accumulation_steps", "beta", "max_length"}

# Cheap exact matches first, so `true` is a bool and `3` an int before either could become a string.
PRIORITY = (NoneType, bool, int, float)


def coerce(name: str, annotation: Any, value: Any, raw: str | None, where: str) -> Any:
    """Check `value` (from YAML, or parsed from command-line text `raw`) against a field type."""
    options = members(annotation)
    last = (str, Any)  # catch-alls: everything more specific gets its chance first
    ordered: list[Any] = [m for m in PRIORITY if m in options]
    ordered += [m for m in options if m not in PRIORITY and m not in last]
    ordered += [m for m in last if m in options]
    if isinstance(value, str) and str in options:
        # `--report-to none` is the string, not a one-item list split from it
        ordered = [m for m in ordered if typing.get_origin(m) is not list]
    shown = raw if raw is not None else repr(value)
    for member in ordered:
        try:
            found = _match(member, value, raw)
        except (ValueError, TypeError, OverflowError):
            continue
        if name in POSITIVE and isinstance(found, int | float) and not found > 0:
            raise InputError(f"{where} must be a number above 0, got {shown}")
        return found
    raise InputError(f"{where} expects {describe(annotation)}, got {shown}")


def parse_text(raw: str) -> Any:
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw


def unknown(
    name: str, known: typing.Iterable[str], where: str, config: str = "ORPOConfig"
) -> InputError:
    near = difflib.get_close_matches(name, list(known), n=1)
    hint = f"; did you mean '{near[0]}'?" if near else ""
    return InputError(
        f"{where}: unknown setting '{name}' (not a recipe key or {config} field{hint})"
    )


def parse_overrides(
    tokens: typing.Sequence[str], fields: dict[str, Any], config: str = "ORPOConfig"
) -> dict[str, Any]:
    """`--field-name VALUE`, `--field_name=VALUE`, bare `--flag` / `--no-flag` for booleans."""
    out: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token.startswith("--") or len(token) == 2:
            raise InputError(f"unexpected argument '{token}' (settings look like --max-steps 3)")
        name, has_value, raw = token[2:].partition("=")
        name = name.replace("-", "_")
        i += 1
        if not has_value and i < len(tokens) and not tokens[i].startswith("--"):
            raw, has_value, i = tokens[i], "=", i + 1
        if name.startswith("no_") and name[3:] in fields and not has_value:
            name, raw, has_value = name[3:], "false", "="
        if name not in fields:
            raise unknown(name, fields, f"option --{name.replace('_', '-')}", config)
        where = f"option --{name.replace('_', '-')}"
        if not has_value:
            if bool not in members(fields[name]):
                raise InputError(f"{where} needs a value")
            out[name] = True
            continue
        out[name] = coerce(name, fields[name], parse_text(raw), raw, where)
    return out
