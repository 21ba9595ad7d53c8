"""Benchmarks through lm-eval, cached in the run folder, and the paired base-vs-tuned comparison.

    judge bench smollm2 --tasks judge_mcq --limit 10
    judge bench path/to/tuned --tasks judge_mcq,arc_easy --num-fewshot 5   # arc_easy needs the hub

`run_bench` writes out_dir/bench/<model-slug>.json and reuses every task whose settings (limit,
shots, task definition) did not change. `compare_bench` turns two such results into per-task deltas;
with per-sample logs on both sides it adds McNemar's exact test: both models saw the same questions.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from judge.errors import InputError, first_line
from judge.ledger import write_atomic
from judge.models import model_slug
from judge.records import ModelInfo

SCHEMA = "judge.bench/1"
SHIPPED = Path(__file__).parent / "tasks"
# The first of these a task reports is its headline metric; others are kept in "metrics".
PREFERRED = ("acc", "acc_norm", "exact_match", "f1", "mcc", "bleu")


def shipped_tasks() -> list[str]:
    return sorted(p.name for p in SHIPPED.iterdir() if (p / f"{p.name}.yaml").is_file())


def write_shipped_tasks(folder: Path) -> dict[str, str]:
    """Copy the shipped task YAMLs into `folder` with absolute data paths; return name -> hash.

    lm-eval hands `data_files` to `datasets`, which resolves relative paths against the working
    directory, so the copies name the JSONL files by absolute path.
    """
    hashes = {}
    for name in shipped_tasks():
        source = SHIPPED / name
        data = source / f"{name}.jsonl"
        text = (source / f"{name}.yaml").read_text(encoding="utf-8")
        text = text.replace(f"test: {data.name}", f"test: {data.resolve()}")
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
        digest = hashlib.sha256(text.replace(str(data.resolve()), data.name).encode())
        digest.update(data.read_bytes())
        hashes[name] = digest.hexdigest()[:16]
    return hashes


def task_manager(paths: Sequence[Path], with_defaults: bool):
    """lm-eval's task index over our folders, plus its ~12,000 built-in tasks only when asked
    (indexing those takes ~16 s on this machine)."""
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=[str(p) for p in paths], include_defaults=with_defaults)


def task_sources(manager, names: Sequence[str], shipped: dict[str, str]) -> dict[str, str]:
    """What defines each task: a hash of its YAML when local, else lm-eval's version."""
    version = metadata.version("lm-eval")
    sources = {}
    for name in names:
        entry = manager.task_index.get(name)
        if name in shipped:
            sources[name] = f"judge:{shipped[name]}"
        elif entry is not None and entry.yaml_path is not None:
            blob = Path(entry.yaml_path).read_bytes()
            sources[name] = f"yaml:{hashlib.sha256(blob).hexdigest()[:16]}"
        else:
            sources[name] = f"lm-eval=={version}"
    return sources


def load_tasks(manager, names: Sequence[str]) -> list:
    """Task (or group) objects for the names; a name lm-eval cannot build is an input error.

    Loading builds the datasets too, so an offline hub task fails here, before a model is loaded.
    """
    found: list = []
    for name in names:
        if name not in manager.task_index:
            raise InputError(
                f"unknown benchmark task '{name}' (shipped: {', '.join(shipped_tasks())}; "
                "lm-eval's own tasks such as hellaswag or arc_easy need the Hugging Face hub)"
            )
        try:
            loaded = manager.load([name])
        except Exception as err:  # lm-eval and datasets raise many types; the user needs one line
            message = f"benchmark task '{name}' could not be loaded: {first_line(err)}"
            raise InputError(message) from None
        top = loaded["groups"].get(name) or loaded["tasks"].get(name)
        found.extend([top] if top is not None else loaded["tasks"].values())
    return found


def load_lm(model: ModelInfo, batch_size: int = 8, threads: int = 1):
    """An lm-eval HFLM for the model folder; fp32 with `threads` torch threads on CPU."""
    import torch
    from lm_eval.models.huggingface import HFLM

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        torch.set_num_threads(threads)
    dtype = model.dtype if model.dtype != "auto" else ("float32" if device == "cpu" else "auto")
    return HFLM(pretrained=model.path, device=device, dtype=dtype, batch_size=batch_size)


def pick_metric(result: dict[str, Any]) -> tuple[str, str] | None:
    """(metric, filter) of the headline metric in one lm-eval result block."""
    pairs = [(key.split(",", 1)[0], key.split(",", 1)[1]) for key, value in result.items()
             if "," in key and "_stderr" not in key and isinstance(value, int | float)]
    if not pairs:
        return None
    rank = {name: i for i, name in enumerate(PREFERRED)}
    return min(pairs, key=lambda p: (rank.get(p[0], len(rank)), p[1] != "none"))


def task_entry(res: dict[str, Any], name: str, settings: dict[str, Any]) -> dict[str, Any]:
    block = res["results"].get(name)
    picked = pick_metric(block) if block else None
    if picked is None:
        raise InputError(f"benchmark task '{name}' produced no metric (a tag? name its tasks)")
    metric, filt = picked
    label = metric if filt == "none" else f"{metric},{filt}"
    stderr = block.get(f"{metric}_stderr,{filt}")
    samples = {
        str(s["doc_id"]): float(s[metric])
        for s in res.get("samples", {}).get(name, [])
        if s.get("filter") == filt and isinstance(s.get(metric), int | float | bool)
    }
    return {
        "settings": settings,
        "metric": label,
        "value": float(block[f"{metric},{filt}"]),
        "stderr": float(stderr) if isinstance(stderr, int | float) else None,
        "n": res.get("n-samples", {}).get(name, {}).get("effective"),
        "metrics": {k.removesuffix(",none"): v for k, v in block.items()
                    if "," in k and isinstance(v, int | float)},
        "samples": samples or None,
    }


def read_cache(path: Path, model: ModelInfo) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise InputError(f"{path} is not valid JSON; delete it to rerun the benchmarks") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise InputError(f"{path} is not a judge benchmark file ({SCHEMA})")
    if data.get("model", {}).get("fingerprint") != model.fingerprint:
        return {}  # another model's numbers under this name: recompute rather than mix them up
    return dict(data.get("tasks", {}))


def clean_inputs(
    tasks: Sequence[str], include_path: Path | Sequence[Path] | None
) -> tuple[list[str], list[Path]]:
    names = list(dict.fromkeys(t.strip() for t in tasks if t.strip()))
    if not names:
        raise InputError("no benchmark task given (e.g. --tasks judge_mcq)")
    extra = [include_path] if isinstance(include_path, Path | str) else list(include_path or [])
    for folder in extra:
        if not Path(folder).is_dir():
            raise InputError(f"--include-path {folder} is not a folder")
    return names, [Path(f) for f in extra]


def check_tasks(tasks: Sequence[str], include_path: Path | Sequence[Path] | None = None) -> None:
    """Fail now, before hours of generation, if a task is unknown or its data is unreachable.

    Local tasks cost a fraction of a second; a hub task costs lm-eval's full index (~16 s) and its
    dataset download, which `run_bench` would need anyway (datasets caches it).
    """
    names, extra = clean_inputs(tasks, include_path)
    with tempfile.TemporaryDirectory(prefix="judge-tasks-") as tmp:
        write_shipped_tasks(Path(tmp))
        folders = [Path(tmp), *extra]
        manager = task_manager(folders, with_defaults=False)
        if any(n not in manager.task_index for n in names):
            manager = task_manager(folders, with_defaults=True)
        load_tasks(manager, names)


def bench_pair(
    base: ModelInfo,
    tuned: ModelInfo,
    tasks: Sequence[str],
    out_dir: Path,
    limit: int | None = None,
    num_fewshot: int | None = None,
    include_path: Path | Sequence[Path] | None = None,
) -> dict[str, Any]:
    """summary.json's "benchmarks": both models benchmarked (one after the other), then compared."""
    first = run_bench(base, tasks, out_dir, limit, num_fewshot, include_path)
    return compare_bench(first, run_bench(tuned, tasks, out_dir, limit, num_fewshot, include_path))


def run_bench(
    model: ModelInfo,
    tasks: Sequence[str],
    out_dir: Path,
    limit: int | None = None,
    num_fewshot: int | None = None,
    include_path: Path | Sequence[Path] | None = None,
    *,
    lm=None,
    batch_size: int = 8,
    threads: int = 1,
) -> dict[str, Any]:
    """Benchmark `model` on `tasks` (cached per task in out_dir/bench/<model-slug>.json).

    Pass `lm` (an lm-eval LM, e.g. HFLM(pretrained=loaded_model, tokenizer=tok)) to reuse a loaded
    model; otherwise one is loaded from model.path, and only when some task is not cached.
    """
    names, extra = clean_inputs(tasks, include_path)
    path = out_dir / "bench" / f"{model_slug(model)}.json"
    entries = read_cache(path, model)
    with tempfile.TemporaryDirectory(prefix="judge-tasks-") as tmp:
        shipped = write_shipped_tasks(Path(tmp))
        folders = [Path(tmp), *extra]
        manager = task_manager(folders, with_defaults=False)
        local = set(manager.task_index)
        sources = task_sources(manager, names, shipped)
        settings = {n: {"limit": limit, "num_fewshot": num_fewshot, "source": sources[n]}
                    for n in names}
        todo = [n for n in names if entries.get(n, {}).get("settings") != settings[n]]
        if todo:
            if any(n not in local for n in todo):
                manager = task_manager(folders, with_defaults=True)
            objects = load_tasks(manager, todo)
            entries.update(evaluate(objects, todo, manager, settings, lm or load_lm(
                model, batch_size, threads), limit, num_fewshot))
            data = {"schema": SCHEMA, "model": model.model_dump(), "tasks": entries}
            write_atomic(path, json.dumps(data, indent=1) + "\n")
    return {"schema": SCHEMA, "model": model.model_dump(), "tasks": {n: entries[n] for n in names}}


def evaluate(objects, names, manager, settings, lm, limit, num_fewshot) -> dict[str, Any]:
    from lm_eval import simple_evaluate

    started = time.perf_counter()
    res = simple_evaluate(
        model=lm, tasks=objects, task_manager=manager, limit=limit, num_fewshot=num_fewshot,
        log_samples=True, bootstrap_iters=1000,
    )
    seconds = round(time.perf_counter() - started, 3)
    return {n: task_entry(res, n, settings[n]) | {"seconds": seconds} for n in names}


def mcnemar_exact(base: dict[str, float], tuned: dict[str, float]) -> tuple[float, int, int] | None:
    """Two-sided exact McNemar test on paired 0/1 outcomes: (p, base-only, tuned-only)."""
    from scipy import stats as sps

    shared = sorted(set(base) & set(tuned))
    if not shared or any(v not in (0.0, 1.0) for d in (base, tuned) for v in d.values()):
        return None
    only_base = sum(base[k] == 1.0 and tuned[k] == 0.0 for k in shared)
    only_tuned = sum(base[k] == 0.0 and tuned[k] == 1.0 for k in shared)
    if only_base + only_tuned == 0:
        return 1.0, 0, 0
    test = sps.binomtest(only_tuned, only_base + only_tuned, 0.5, alternative="two-sided")
    return float(test.pvalue), only_base, only_tuned


def compare_bench(base_result: dict[str, Any], tuned_result: dict[str, Any]) -> dict[str, Any]:
    """Per task: metric, base, tuned, delta (tuned - base), stderr of the delta, p_value.

    The delta's standard error combines the two reported ones as if independent, which overstates
    it for paired questions; the paired McNemar test (when both sides logged samples) does not.
    """
    base_tasks, tuned_tasks = base_result["tasks"], tuned_result["tasks"]
    table: dict[str, Any] = {}
    for name, tuned in tuned_tasks.items():
        base = base_tasks.get(name)
        if base is None:
            raise InputError(f"benchmark task '{name}' was run for the tuned model only")
        if base["metric"] != tuned["metric"] or base["settings"] != tuned["settings"]:
            raise InputError(f"benchmark task '{name}' ran with different settings for the two "
                             "models; rerun both with the same --limit and --num-fewshot")
        se = None
        if base["stderr"] is not None and tuned["stderr"] is not None:
            se = math.sqrt(base["stderr"] ** 2 + tuned["stderr"] ** 2)
        paired = None
        if base.get("samples") and tuned.get("samples"):
            paired = mcnemar_exact(base["samples"], tuned["samples"])
        table[name] = {
            "metric": tuned["metric"], "base": base["value"], "tuned": tuned["value"],
            "delta": tuned["value"] - base["value"], "stderr": se,
            "p_value": None if paired is None else paired[0],
            "test": None if paired is None else "mcnemar_exact",
            "discordant": None if paired is None else {"base_only": paired[1],
                                                      "tuned_only": paired[2]},
            "n": tuned.get("n"),
        }
    return table
