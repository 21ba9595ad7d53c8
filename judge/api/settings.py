"""Keyword arguments into the one settings record (CompareConfig), as the CLI's options are.

A notebook passes what the command line passes, by the option's name with `_` for `-`:

    judge.compare("smollm2", "out/final", limit=20, judge=["smollm2", "path/to/judge@graded"],
                  engine="hf", bench="judge_mcq")

`judge` may be one judge or a list (a panel), `bench` a list or the CLI's comma-separated text,
`engine` the engine kind or a whole EngineOptions; the engine's own options (dtype, base_urls,
api_key, ...) go beside them. A value the record refuses is one InputError line naming the
option as the CLI does.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from judge.api.defaults import default_cache, slug
from judge.engines import EngineOptions
from judge.errors import InputError
from judge.pipeline.settings import CompareConfig

ENGINE_FIELDS = frozenset(EngineOptions.model_fields) - {"kind", "seed"}
# record field -> the CLI option that sets it, where the two names differ
FLAGS = {"base_urls": "--base-url", "kind": "--engine", "panel": "--judge"}


def flag(field: str) -> str:
    return FLAGS.get(field, "--" + field.replace("_", "-"))


def one_line(err: ValidationError) -> InputError:
    """The first complaint of a record, as the CLI words a bad option."""
    first = err.errors()[0]
    names = [str(part) for part in first["loc"] if not isinstance(part, int)]
    field = names[-1] if names else "settings"
    return InputError(f"Invalid value for '{flag(field)}': {first['msg']}")


def engine_settings(options: dict[str, Any], seed: int) -> EngineOptions:
    """EngineOptions from `engine` (a kind or a record) and the engine fields among `options`
    (taken out of it)."""
    given = options.pop("engine", None)
    fields = {name: options.pop(name) for name in list(options) if name in ENGINE_FIELDS}
    if isinstance(fields.get("base_urls"), str):
        fields["base_urls"] = (fields["base_urls"],)
    if isinstance(given, EngineOptions):
        data = given.model_dump() | {"api_key": given.api_key} | fields
    else:
        data = {"kind": given or "auto", "seed": seed} | fields
    try:
        return EngineOptions.model_validate(data)
    except ValidationError as err:
        raise one_line(err) from None


def check_known(options: Mapping[str, Any], known: frozenset[str]) -> None:
    for name in options:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise InputError(f"no such setting: {name}{hint}")


KNOWN = (frozenset(CompareConfig.model_fields) | ENGINE_FIELDS) - {"base", "tuned"}


def compare_config(base: str, tuned: str, settings: CompareConfig | None,
                   options: Mapping[str, Any]) -> CompareConfig:
    """The record a comparison runs under: `settings` (or the defaults) with `options` over it."""
    check_known(options, KNOWN)
    data: dict[str, Any] = dict(options)
    judges = data.pop("judge", None)
    if isinstance(judges, list | tuple):
        if not judges:
            raise InputError("Invalid value for '--judge': give at least one judge")
        data["judge"], data["panel"] = judges[0], list(judges[1:])
    elif judges is not None:
        data["judge"] = judges
    if isinstance(data.get("bench"), str):
        data["bench"] = [t.strip() for t in data["bench"].split(",") if t.strip()]
    base_data = dict(settings) if settings else {}  # its values as they are: API keys kept
    if settings is not None and (settings.base, settings.tuned) != (base, tuned):
        base_data.pop("out")  # another pair: its own run folder, unless `out` says otherwise
    seed = data.get("seed", base_data.get("seed", 0))
    engine_given = {k: data.pop(k) for k in list(data) if k in ENGINE_FIELDS or k == "engine"}
    if settings is not None and "engine" not in engine_given:
        engine_given["engine"] = settings.engine
    engine = engine_settings(engine_given, seed).model_copy(update={"seed": seed})
    merged = base_data | data | {"base": base, "tuned": tuned, "engine": engine}
    if merged.get("out") is None:
        merged["out"] = str(Path("results") / f"{slug(base)}-vs-{slug(tuned)}")
    if merged.get("cache_dir") is None:
        merged["cache_dir"] = default_cache()
    try:
        return CompareConfig.model_validate(merged)
    except ValidationError as err:
        raise one_line(err) from None
