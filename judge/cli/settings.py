"""From a command's flags and its run config file to ONE settings record, built once.

`judge compare` and `judge leaderboard` read their settings into CompareConfig
(judge/pipeline/compare.py), the record a notebook passes to run_compare as well: every flag
whose name is a CompareConfig field goes straight in (as `judge sweep` does), the few that differ
in shape (several --judge values, --bench's comma list, the engine flags) are turned here.

A run config file (`--config run.yaml`) holds the same settings, flag names with underscores,
plus the engines: `engine:` for every role and `engines:` with a section per role (base, tuned,
judge) or per model reference (one judge of a panel, one model of a leaderboard). A flag given on
the command line wins over the file; a role's own setting wins over the shared one
(docs/guides/engines.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml
from click.core import ParameterSource

from judge.cli.engine_flags import PREFIX, ROLES, fields, split_engine_values, to_options
from judge.engines import EngineOptions
from judge.errors import InputError

ENGINE_KEYS = {*fields(), "api_key_env"}
GIVEN = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


def config_option(f):
    return click.option(
        "--config", "config_file", type=click.Path(dir_okay=False), default=None,
        help="Run config file (YAML): any of these settings, flag names with underscores, plus "
        "`engine:` (every role) and `engines:` (a section per role: base, tuned, judge, or per "
        "model reference). Flags given here win over the file.")(f)


def read_config(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    file = Path(path)
    if not file.is_file():
        raise InputError(f"--config {path}: no such file")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise InputError(f"--config {path} is not YAML ({str(err).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise InputError(f"--config {path} must be a mapping of setting names to values")
    return data


def given(ctx: click.Context, name: str) -> bool:
    return ctx.get_parameter_source(name) in GIVEN


def cast(ctx: click.Context, param: click.Parameter, value: Any, where: str) -> Any:
    """A file value through the flag's own type: the same ranges, choices and one-line rule."""
    if param.multiple or param.nargs == -1:
        value = value if isinstance(value, list | tuple) else [value]
    try:
        return param.type_cast_value(ctx, value)
    except click.BadParameter as err:
        raise InputError(f"{where}: {err.message}") from None


def apply_file(ctx: click.Context, values: dict[str, Any], file: dict[str, Any],
               path: str) -> None:
    """Every file setting whose flag was not given on the command line, checked as the flag."""
    params = {p.name: p for p in ctx.command.params if p.name}
    names = {opt.lstrip("-").replace("-", "_"): p.name for p in params.values()
             for opt in [*p.opts, p.name] if not p.name.startswith(PREFIX)}
    for key, raw in file.items():
        if key in ("engine", "engines"):
            continue
        name = names.get(key)
        if name is None or name == "config_file":
            hint = " (engine settings go under `engine:` or `engines:`)" if key in ENGINE_KEYS \
                else ""
            raise InputError(f"--config {path}: unknown setting '{key}'{hint}")
        if not given(ctx, name):
            values[name] = cast(ctx, params[name], raw, f"--config {path}: {key}")


def engine_section(ctx: click.Context, section: Any, where: str) -> dict[str, Any]:
    if not isinstance(section, dict):
        raise InputError(f"{where} must be a mapping of engine settings")
    params = {p.name: p for p in ctx.command.params if p.name}
    found = {}
    for key, raw in section.items():
        if key not in ENGINE_KEYS:
            raise InputError(f"{where}: unknown engine setting '{key}' (one of "
                             f"{', '.join(sorted(ENGINE_KEYS))})")
        found[key] = cast(ctx, params[f"{PREFIX}__{key}"], raw, f"{where}: {key}")
    return found


def role_engines(ctx: click.Context, values: dict[str, Any], file: dict[str, Any], path: str,
                 seed: int, refs: dict[str, str]) -> tuple[EngineOptions, dict[str, EngineOptions]]:
    """(every role's engine, each role's or model's own). Layers, later ones win: the shared
    flags' defaults, the file's `engine:`, shared flags given; then per role or model the file's
    section and that role's flags. `refs`: model reference -> its role, for reference sections."""
    flags = split_engine_values(values)
    shared = dict(flags.get(None, {}))
    from_file = engine_section(ctx, file.get("engine") or {}, f"--config {path}: engine")
    shared |= {k: v for k, v in from_file.items() if not given(ctx, f"{PREFIX}__{k}")}
    sections = file.get("engines") or {}
    if not isinstance(sections, dict):
        raise InputError(f"--config {path}: engines must map roles or models to engine settings")
    read = {name: engine_section(ctx, sections.get(name) or {}, f"--config {path}: "
                                 f"engines.{name}") for name in dict.fromkeys([*ROLES, *sections])}
    own: dict[str, EngineOptions] = {}
    for name, section in read.items():
        role = name if name in ROLES else refs.get(name)
        role_section = read.get(role, {}) if role and role != name else {}
        role_flags = flags.get(role, {}) if role else {}
        if section or role_flags:
            own[name] = to_options(shared | role_section | section | role_flags, seed,
                                   f"the {name} engine settings")
    return to_options(shared, seed, "the engine settings"), own


def compare_values(ctx: click.Context, values: dict[str, Any], refs: dict[str, str],
                   record_fields: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of CompareConfig from a command's flags and its file: every flag
    named like a field as it is, the judges, the bench list and the engines turned."""
    path = values.pop("config_file", None)
    file = read_config(path)
    apply_file(ctx, values, file, path or "")
    judges = list(values.pop("judge_ref"))
    if not judges:
        raise InputError("--judge needs a model")
    judge_refs = [spec.rpartition("@")[0] or spec for spec in judges]  # a model, its template
    refs = {**refs_of(values, refs), **dict.fromkeys([*judges, *judge_refs], "judge")}
    engine, engines = role_engines(ctx, values, file, path or "", values["seed"], refs)
    settings = {k: v for k, v in values.items() if k in record_fields}
    settings |= {"judge": judges[0], "panel": judges[1:], "engine": engine, "engines": engines}
    if isinstance(settings.get("bench"), str):
        settings["bench"] = [t.strip() for t in settings["bench"].split(",") if t.strip()]
    for key in ("include_path",):
        if key in settings:
            settings[key] = list(settings[key])
    return settings


def refs_of(values: dict[str, Any], roles: dict[str, str]) -> dict[str, str]:
    """Model reference -> role, for the arguments named in `roles` (argument -> role)."""
    found: dict[str, str] = {}
    for argument, role in roles.items():
        given_refs = values.get(argument)
        for ref in given_refs if isinstance(given_refs, list | tuple) else [given_refs]:
            if isinstance(ref, str):
                found[ref.split("=", 1)[-1] if "=" in ref and not Path(ref).exists() else ref] \
                    = role
    return found
