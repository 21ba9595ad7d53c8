"""What a card shows, gathered from one run folder: summary.json, run.json and the two ledgers.

The result is the namespace of the card template (see docs/cards.md for every name). Local paths are
reduced to their last part: a card is meant to be published, a home directory is not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from judge.errors import InputError
from judge.ledger import read_jsonl
from judge.models import HUB_ID, model_slug
from judge.records import Generation, Judgment, ModelInfo, PromptItem, SamplingParams
from judge.report import headline
from judge.stages import generation_key

SUMMARY_SCHEMA = "judge.summary/1"
BENCH_FIELDS = {"metric", "base", "tuned", "delta", "stderr"}


def read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(f"{path} is missing: is {path.parent} a judge run folder?")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise InputError(f"{path} is not valid JSON") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} is not a JSON object")
    return data


def display_name(ref: str) -> str:
    """A hub id as is; a local file or folder by its name only."""
    looks_local = ref.startswith(("/", ".", "~")) or Path(ref).exists()
    if HUB_ID.match(ref) and not looks_local:
        return ref
    return Path(ref.rstrip("/")).name.removesuffix(".gguf") or ref


def card_context(run_dir: Path, plot_name: str | None, n_examples: int = 3) -> dict[str, Any]:
    summary = read_json(run_dir / "summary.json")
    if summary.get("schema") != SUMMARY_SCHEMA:
        raise InputError(f"{run_dir / 'summary.json'} is not a {SUMMARY_SCHEMA} file")
    run = read_json(run_dir / "run.json")
    try:
        pairwise = summary["pairwise"]
        base, tuned = summary["base"], summary["tuned"]
        rows = headline(pairwise)
        benchmarks = [{"task": task, **row} for task, row in summary.get("benchmarks", {}).items()]
        for row in benchmarks:
            missing = sorted(BENCH_FIELDS - row.keys())
            if missing:
                raise KeyError(f"benchmarks.{row['task']}.{missing[0]}")
            row.setdefault("p_value", None)
            row.setdefault("n", None)
        context = {
            "model_name": display_name(tuned),
            "base": display_name(base),
            "tuned": display_name(tuned),
            "judge": display_name(summary["judge"]),
            "template": summary["template"],
            "base_hub_id": display_name(base) if "/" in display_name(base) else None,
        }
    except (KeyError, TypeError) as err:
        where = run_dir / "summary.json"
        raise InputError(f"{where} lacks a field the card needs: {err}") from None
    prompts = str(run.get("config", {}).get("prompts", "builtin"))
    return context | {
        "prompts": display_name(prompts) if prompts != "builtin" else "builtin",
        "n_prompts": run.get("n_prompts", pairwise.get("n")),
        "pairwise": pairwise,
        "headline": rows,
        "verdict_sources": summary.get("verdict_sources", {}),
        "benchmarks": benchmarks,
        "examples": examples(run_dir, run, summary["template"], n_examples),
        "plot": plot_name,
        "judge_version": run.get("versions", {}).get("judge"),
    }


def load_records(path: Path, record_type):
    if not path.is_file():
        return []
    rows, _ = read_jsonl(path)  # read only: a torn tail is skipped here, repaired by the next run
    try:
        return [record_type.model_validate(row) for row in rows]
    except ValidationError:
        kind = record_type.__name__
        raise InputError(f"{path}: a record does not fit the {kind} format") from None


def side_answers(run_dir: Path, model: ModelInfo, params: SamplingParams) -> dict[str, str]:
    """prompt_id -> answer of one side, matched by the generation key the run itself used."""
    records = load_records(run_dir / "generations" / f"{model_slug(model)}.jsonl", Generation)
    answers = {}
    for g in records:
        item = PromptItem(prompt_id=g.prompt_id, prompt=g.prompt)
        if g.key == generation_key(model, item, params):
            answers[g.prompt_id] = g.output
    return answers


def examples(run_dir: Path, run: dict[str, Any], template: str, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` prompts with both answers and both verdicts; differing answers first."""
    if limit <= 0:
        return []
    try:
        models = {role: ModelInfo(**run["models"][role]) for role in ("base", "tuned", "judge")}
        config = run["config"]
        params = {side: SamplingParams(max_new_tokens=config["max_new_tokens"],
                                       temperature=config["temperature"], seed=config["seed"] + i)
                  for i, side in enumerate(("base", "tuned"))}  # compare.py: tuned draws seed + 1
    except (KeyError, TypeError, ValidationError):
        return []  # an older or foreign run.json: the card simply shows no examples
    base = side_answers(run_dir, models["base"], params["base"])
    tuned = side_answers(run_dir, models["tuned"], params["tuned"])
    judge_file = run_dir / "judgments" / f"{model_slug(models['judge'])}__{template}.jsonl"
    verdicts: dict[str, dict[str, Judgment]] = {}
    prompts: dict[str, str] = {}
    for j in load_records(judge_file, Judgment):
        if j.prompt_id in base and j.prompt_id in tuned:
            verdicts.setdefault(j.prompt_id, {})[j.order] = j  # the latest line of an order wins
    for g in load_records(run_dir / "generations" / f"{model_slug(models['base'])}.jsonl",
                          Generation):
        prompts[g.prompt_id] = g.prompt
    order = sorted(verdicts, key=lambda pid: base[pid] == tuned[pid])  # stable: file order kept
    return [
        {
            "prompt_id": pid, "prompt": prompts.get(pid, ""),
            "base": base[pid], "tuned": tuned[pid],
            "verdicts": [{"order": j.order, "winner": j.winner, "source": j.source}
                         for j in verdicts[pid].values()],
        }
        for pid in order[:limit]
    ]
