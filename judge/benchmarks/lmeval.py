"""Benchmarks through lm-eval, cached in the run folder, and the paired base-vs-tuned comparison.

    judge bench smollm2 --tasks judge_mcq --limit 10
    judge bench path/to/tuned --tasks judge_mcq,arc_easy --num-fewshot 5   # arc_easy needs the hub

`run_bench` writes out_dir/bench/<model-slug>.json and reuses every task whose settings (limit,
shots, task definition) did not change; judge/benchmarks/paired.py compares two such results.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from judge.errors import InputError, hub_failure
from judge.files import write_atomic
from judge.records import ModelInfo
from judge.resources import resource
from judge.runs.folder import RunFolder

SCHEMA = "judge.bench/1"
SHIPPED = resource("judge.benchmarks", "tasks")
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
            raise hub_failure(err, f"benchmark task '{name}' could not be loaded") from None
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
    path = RunFolder(out_dir).bench(model)
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
    import lm_eval.evaluator
    from lm_eval import simple_evaluate

    # lm-eval stamps results with the git hash of the current folder by running `git describe`,
    # which prints "fatal: not a git repository" anywhere else; that hash means nothing here
    lm_eval.evaluator.get_git_commit_hash = lambda: None

    started = time.perf_counter()
    res = simple_evaluate(
        model=lm, tasks=objects, task_manager=manager, limit=limit, num_fewshot=num_fewshot,
        log_samples=True, bootstrap_iters=1000,
    )
    seconds = round(time.perf_counter() - started, 3)
    return {n: task_entry(res, n, settings[n]) | {"seconds": seconds} for n in names}
