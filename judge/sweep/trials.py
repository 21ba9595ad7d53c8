"""The trials of a sweep: a grid (every combination) or seeded random draws, each a whole recipe.

    --grid learning_rate=5e-6,1e-5 --grid beta=0.1,0.2     4 trials
    --grid 'lora=none;8,16,0.05'                           values that hold commas: separate by ;
    --grid method=orpo,dpo                                 each trial typed against its method
    --random 6 --space learning_rate=1e-6:1e-4:log --space warmup_steps=0:5

Every value is typed through the trial's method's config fields exactly as a recipe key or
`--FIELD VALUE` is (train/fields.py), and every trial's whole recipe is built by
train/recipe.py's build_recipe, so an unknown field or a wrong type is one line before
anything is written. A trial's name is a readable label of its settings and a short hash of its
whole recipe (output folder aside): a rerun finds its folder, a changed recipe is a new trial.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from itertools import product
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from judge.errors import InputError
from judge.records import Record
from judge.train.fields import (
    coerce,
    config_class,
    config_fields,
    members,
    parse_overrides,
    parse_text,
    unknown,
)
from judge.train.recipe import OWN_KEYS, Recipe, build_recipe

# recipe keys a trial may not set, and why
FIXED = {
    "output_dir": "every trial trains into its own folder",
    "model": "every trial is judged against one base: sweep one model at a time",
    "judge_eval": "set it in the recipe, for every trial",
    "merge_lora": "a LoRA trial is always merged (the judge needs full weights)",
    "resume_from_checkpoint": "the sweep resumes a killed trial by itself",
}
OWN = OWN_KEYS - set(FIXED)  # method, datasets, dataset_splits, eval_fraction, lora, dtype, threads
NUMERIC_OWN = {"eval_fraction": float, "threads": int}
NONE_WORDS = ("none", "null", "None", "~")


class Axis(NamedTuple):
    """One swept field and its values as given (text, typed per trial)."""

    field: str
    values: list[str]


class Range(NamedTuple):
    field: str
    low: float
    high: float
    log: bool
    kind: type  # int or float


class Trial(NamedTuple):
    name: str  # label of its settings + hash of its recipe: its folder's name
    settings: dict[str, Any]  # the swept fields' typed values, JSON-able
    recipe: Recipe  # the whole recipe it trains with (output_dir set by the sweep)


def field_name(text: str) -> str:
    return text.strip().replace("-", "_")


def parse_grid(specs: list[str]) -> list[Axis]:
    """`FIELD=V1,V2` (or `FIELD=V1;V2` when a value holds commas), one axis per option."""
    if not specs:
        raise InputError("empty grid: give --grid FIELD=V1,V2 (repeatable) or --random N "
                         "--space FIELD=LOW:HIGH")
    axes: list[Axis] = []
    for spec in specs:
        name, sep, text = spec.partition("=")
        field = field_name(name)
        if not sep or not field:
            raise InputError(f"--grid {spec}: expected FIELD=V1,V2")
        values = [v.strip() for v in text.split(";" if ";" in text else ",")]
        if not text.strip() or not all(values):
            raise InputError(f"--grid {spec}: empty grid (a value is missing): give FIELD=V1,V2")
        axes.append(Axis(field, values))
    check_fields([a.field for a in axes], "--grid")
    return axes


def parse_space(specs: list[str], method: str) -> list[Range]:
    """`FIELD=LOW:HIGH[:log]`: a numeric field, drawn uniformly or log-uniformly; ints stay ints."""
    if not specs:
        raise InputError("--random N needs --space FIELD=LOW:HIGH[:log] (repeatable)")
    ranges = []
    for spec in specs:
        name, sep, text = spec.partition("=")
        field, parts = field_name(name), text.split(":")
        if not sep or not field or len(parts) not in (2, 3) or parts[2:] not in ([], ["log"]):
            raise InputError(f"--space {spec}: expected FIELD=LOW:HIGH or FIELD=LOW:HIGH:log")
        kind = numeric_kind(field, method)
        try:
            low, high = (kind(p) for p in parts[:2])
        except ValueError:
            raise InputError(f"--space {spec}: LOW and HIGH must be {kind.__name__}s") from None
        if not low < high:
            raise InputError(f"--space {spec}: LOW must be below HIGH")
        if len(parts) == 3 and low <= 0:
            raise InputError(f"--space {spec}: a log scale needs LOW > 0")
        ranges.append(Range(field, float(low), float(high), len(parts) == 3, kind))
    check_fields([r.field for r in ranges], "--space")
    return ranges


def check_fields(fields: list[str], option: str) -> None:
    for field in fields:
        if field in FIXED:
            raise InputError(f"{option} {field}: not swept ({FIXED[field]})")
        if fields.count(field) > 1:
            raise InputError(f"{option} {field} is given twice: list all its values in one")


def numeric_kind(field: str, method: str) -> type:
    if field in NUMERIC_OWN:
        return NUMERIC_OWN[field]
    fields = config_fields(method)
    if field not in fields:
        raise unknown(field, OWN | set(fields), f"--space {field}", config_class(method).__name__)
    kinds = members(fields[field])
    if float in kinds:
        return float
    if int in kinds and bool not in kinds:
        return int
    raise InputError(f"--space {field}: a range needs a numeric field; use --grid for it")


def grid_points(axes: list[Axis]) -> list[dict[str, str]]:
    """Every combination, the first axis varying slowest."""
    return [dict(zip([a.field for a in axes], combo, strict=True))
            for combo in product(*(a.values for a in axes))]


def random_points(ranges: list[Range], n: int, seed: int) -> list[dict[str, str]]:
    """n seeded draws, each field in the order given; floats kept to 3 significant digits. The
    first k draws of `--random N` are those of `--random k` with the same seed and space."""
    rng = random.Random(seed)
    points = []
    for _ in range(n):
        point = {}
        for r in ranges:
            u = rng.random()
            value = (math.exp(math.log(r.low) + u * (math.log(r.high) - math.log(r.low)))
                     if r.log else r.low + u * (r.high - r.low))
            point[r.field] = (str(min(int(r.high), max(int(r.low), round(value))))
                              if r.kind is int else f"{value:.3g}")
        points.append(point)
    return points


def typed(field: str, raw: str, method: str, option: str) -> Any:
    """A grid value as the trial's recipe holds it; own keys are checked by the Recipe itself."""
    if field in OWN:
        if field == "lora":
            return None if raw in NONE_WORDS else raw
        return raw if field == "method" else parse_text(raw)
    fields = config_fields(method)
    if field not in fields:
        raise unknown(field, OWN | set(fields), f"{option} {field}", config_class(method).__name__)
    return coerce(field, fields[field], parse_text(raw), raw, f"{option} {field}")


def local(ref: str) -> str:
    """A local path made absolute (the child runs elsewhere); anything else as it is."""
    path = Path(ref).expanduser()
    return str(path.resolve()) if ref not in ("builtin", "smollm2") and path.exists() else ref


def build_trial(point: dict[str, str], file_values: dict[str, Any], base: list[str],
                method: str, origin: str, option: str) -> Trial:
    """One trial's whole recipe: the file, then the sweep's own settings, then the trial's."""
    method = point.get("method", method)
    fields = config_fields(method)
    settings = {f: typed(f, raw, method, option) for f, raw in point.items()}
    own = {k: v for k, v in settings.items() if k in OWN and k != "method"}
    overrides = parse_overrides(base, fields, config_class(method).__name__)
    overrides |= {k: v for k, v in settings.items() if k not in OWN}
    label = ", ".join(f"{k}={v}" for k, v in point.items())
    recipe = build_recipe(file_values, own, overrides, f"{origin} with {label}", method)
    lora = None if "lora" in settings and settings["lora"] is None else recipe.lora  # `none` wins
    recipe = recipe.model_copy(update={
        "model": local(recipe.model), "lora": lora, "merge_lora": lora is not None,
        "datasets": {local(k): v for k, v in recipe.datasets.items()}})
    shown = {}
    for key, value in settings.items():
        value = getattr(recipe, key) if key in OWN else value
        shown[key] = value.model_dump() if isinstance(value, Record) else value
    return Trial(trial_name(point, recipe), json.loads(json.dumps(shown, default=str)), recipe)


def trial_name(point: dict[str, str], recipe: Recipe) -> str:
    parts = [f"{field}-{short(raw)}" for field, raw in point.items()]
    label = re.sub(r"[^A-Za-z0-9._-]+", "-", "_".join(parts)).strip("-.")[:48]
    return f"{label}-{recipe_hash(recipe)}"


def short(raw: str) -> str:
    try:
        return f"{float(raw):.3g}" if re.fullmatch(r"[-+0-9.eE]+", raw) else raw
    except ValueError:
        return raw


def recipe_hash(recipe: Recipe) -> str:
    """8 hex digits of the whole recipe but its output folder."""
    data = recipe.model_dump(mode="json")
    data["training"] = {k: v for k, v in data["training"].items() if k != "output_dir"}
    text = json.dumps(data, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def with_output(trial: Trial, output_dir: Path) -> Trial:
    training = {**trial.recipe.training, "output_dir": str(output_dir)}
    return trial._replace(recipe=trial.recipe.model_copy(update={"training": training}))


def recipe_text(recipe: Recipe) -> str:
    """The trial's recipe as the YAML file its child reads: one flat mapping, values typed. Read
    back, it builds the very same recipe (checked here, so what trains is what was checked)."""
    data = recipe.model_dump(mode="json")
    flat = {**{k: v for k, v in data.items() if k != "training"}, **data["training"]}
    text = yaml.safe_dump(flat, sort_keys=False, allow_unicode=True)
    again = build_recipe(yaml.safe_load(text), {}, {}, "(trial recipe)", recipe.method)
    if again != recipe:
        raise InputError(f"the settings of a trial do not survive a YAML recipe: {flat}")
    return text
