"""Engine flags, derived from EngineOptions' fields: one flag per field for every role at once
(`--dtype`), and one per field and role (`--judge-dtype`, `--base-engine`, `--tuned-base-url`).

Nothing here lists the engine's settings by hand: a field added to EngineOptions (a new engine
kind's option) becomes a shared flag, a flag per role and a key of a run config file's sections.
Its type, range and help come from the field (judge/engines/__init__.py). The API key is the one
setting never taken as a value: `--api-key-env NAME` (and `--ROLE-api-key-env`, `api_key_env:` in
a file) names the environment variable that holds it, read here and nowhere else.
"""

from __future__ import annotations

import math
import os
from typing import Any, get_origin

import click
import yaml

from judge.api.settings import flag as option_name
from judge.cli.params import OneLine, click_type, plain
from judge.engines import EngineOptions
from judge.errors import InputError

ROLES = ("base", "tuned", "judge")
# flags that kept the names they had before they were derived
SKIP = {"seed", "api_key"}  # the seed is --seed's; the key comes from --api-key-env
SHOWN = {"kind", "base_urls", "engine_args"}  # the role forms --help lists (the rest: docs)
PREFIX = "engine__"  # the keyword every engine flag reaches the command function under


class EngineArgs(click.ParamType):
    """KEY=VALUE,KEY=VALUE, values read as YAML scalars (8192 an int, true a bool, 0.9 a float)."""

    name = "KEY=VALUE,..."

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, dict):  # a file's mapping: the same checks per entry
            try:
                return {str(k): check_arg(str(k), v) for k, v in value.items()}
            except InputError as err:
                self.fail(str(err), param, ctx)
        try:
            return parse_engine_args(str(value))
        except InputError as err:
            self.fail(str(err), param, ctx)


def parse_engine_args(text: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, raw = part.partition("=")
        if not sep or not key.strip().isidentifier():
            raise InputError(f"{part!r} is not KEY=VALUE with a Python name as KEY")
        found[key.strip()] = check_arg(key, scalar(raw.strip()))
    return found


def scalar(raw: str) -> Any:
    try:
        value = yaml.safe_load(raw) if raw else ""
    except yaml.YAMLError:
        return raw
    return value if isinstance(value, str | int | float | bool) or value is None else raw


def check_arg(key: str, value: Any) -> Any:
    """An engine argument is a finite scalar on one line (it lands in run.json)."""
    if isinstance(value, str):
        try:
            number = float(value)  # "nan" and "inf" are words to YAML, numbers to Python
        except ValueError:
            number = 0.0
        if not math.isfinite(number):
            value = number
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"engine argument {key}={value} is not a finite number")
    if isinstance(value, str) and ("\n" in value or "\r" in value or "\x00" in value):
        raise InputError(f"engine argument {key} must be one line")
    if not (isinstance(value, str | int | float | bool) or value is None):
        raise InputError(f"engine argument {key} must be a number, a word or true/false")
    return value


def engine_type(info: Any) -> Any:
    if get_origin(plain(info.annotation)[0]) is dict:
        return EngineArgs()
    return click_type(info)


def flag(field: str, role: str | None) -> str:
    name = option_name(field).removeprefix("--")  # the one table of fields named otherwise
    return f"--{role}-{name}" if role else f"--{name}"


def option(field: str, role: str | None) -> Any:
    """The click option of one EngineOptions field, shared (role None) or for one role. A role's
    flags default to None: not given, so the shared setting stands."""
    info = EngineOptions.model_fields[field]
    annotation = info.annotation
    dest = f"{PREFIX}{role or ''}__{field}"
    text = info.description or ""
    help_text = f"{role} only: {text}" if role else text
    hidden = role is not None and field not in SHOWN
    if annotation is bool:
        name = flag(field, role)
        return click.option(f"{name}/{name.replace('--', '--no-', 1)}", dest,
                            default=None if role else info.default, help=help_text,
                            hidden=hidden, show_default=role is None)
    if get_origin(annotation) is tuple:
        return click.option(flag(field, role), dest, multiple=True, type=OneLine(),
                            help=help_text + " Repeat it for several.", hidden=hidden)
    default = None if role else info.default
    if get_origin(annotation) is dict:
        default = None
    return click.option(flag(field, role), dest, type=engine_type(info),
                        default=default, help=help_text, hidden=hidden,
                        show_default=role is None and default is not None)


def key_option(role: str | None) -> Any:
    name = f"--{role}-api-key-env" if role else "--api-key-env"
    return click.option(name, f"{PREFIX}{role or ''}__api_key_env", type=OneLine(),
                        default=None if role else "OPENAI_API_KEY", show_default=role is None,
                        hidden=role is not None,
                        help="openai engine: environment variable holding the API key (if any)."
                        if role is None else f"{role} only: like --api-key-env.")


def fields() -> list[str]:
    return [f for f in EngineOptions.model_fields if f not in SKIP]


def engine_options(f):
    """Every engine flag once, for every model the command runs."""
    for option_ in reversed([option(name, None) for name in fields()] + [key_option(None)]):
        f = option_(f)
    return f


def role_engine_options(f):
    """The shared engine flags, and each again per role: `--base-X`, `--tuned-X`, `--judge-X`
    (a role's flag wins over the shared one for that role only)."""
    f = engine_options(f)
    role_flags = [option(name, role) for role in ROLES for name in fields()]
    role_flags += [key_option(role) for role in ROLES]
    for option_ in reversed(role_flags):
        f = option_(f)
    return f


def split_engine_values(values: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    """Pop every engine flag out of a command's keyword arguments: {role or None: {field:
    value}}, a role's only where given (None and empty repeats are 'not given')."""
    found: dict[str | None, dict[str, Any]] = {}
    for key in [k for k in values if k.startswith(PREFIX)]:
        role, field = key.removeprefix(PREFIX).split("__", 1)
        value = values.pop(key)
        if (role and (value is None or value == ())) or (
                value is None and EngineOptions.model_fields.get(field) is not None
                and EngineOptions.model_fields[field].default is not None):
            continue  # not given
        found.setdefault(role or None, {})[field] = value
    return found


def to_options(settings: dict[str, Any], seed: int, where: str) -> EngineOptions:
    """EngineOptions from flag or file values; the API key read from the variable named."""
    data = dict(settings)
    key_env = data.pop("api_key_env", None)
    data["api_key"] = os.environ.get(key_env) if key_env else None
    if "base_urls" in data:
        data["base_urls"] = tuple(data["base_urls"])
    try:
        return EngineOptions(**{"seed": seed, **data})
    except (TypeError, ValueError) as err:  # pydantic's ValidationError is a ValueError
        raise InputError(f"{where}: {one_problem(err)}") from None


def one_problem(err: Exception) -> str:
    errors = getattr(err, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "value"
        return f"{where}: {first['msg']}"
    return str(err).splitlines()[0]


def engine_config(values: dict[str, Any], seed: int) -> EngineOptions:
    """The shared EngineOptions of a command that has no roles (agreement, sweep)."""
    return to_options(split_engine_values(values).get(None, {}), seed, "engine flags")
