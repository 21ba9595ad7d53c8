"""One run folder: every path in it, and what run.json records about the run.

    results/<run>/
      run.json                    RunRecord: config, models, template, sampling per side, timing
      generations/<model>.jsonl   answers, one line per prompt
      judgments/<judge>__<template>.jsonl   verdicts, one line per prompt and order (one file
                                  per judge of a panel)
      controls/<judge>__<template>.jsonl    the control pairs' verdicts (never in a win rate)
      controls/pairs.jsonl        the control pairs: kind, prompt, both answers
      bench/<model>.json          lm-eval results
      prompts.jsonl               the prompts the run judged (ids, categories, turns)
      summary.json                the numbers
      report.md report.html winrate.png verdicts.csv   for people (judge/report/views.py)

Compare writes it, the card and `judge report` read it, and nothing else builds these paths.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import SerializerFunctionWrapHandler, ValidationError, model_serializer

from judge import files
from judge.errors import InputError
from judge.files import read_jsonl, write_atomic
from judge.records import ModelInfo, PromptItem, Record, SamplingParams, Side
from judge.runs.summary import StageTime, Summary, read_summary


def model_slug(info: ModelInfo) -> str:
    """A file-name-safe key: readable name plus fingerprint."""
    name = Path(info.ref).stem if info.ref.endswith(".gguf") else info.ref
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", name.strip("/")).strip("-.")[-40:] or "model"
    return f"{name}-{info.fingerprint[:8]}"


def side_sampling(max_new_tokens: int, temperature: float, seed: int) -> dict[Side, SamplingParams]:
    """Answer sampling per side; with the same model on both sides (an A/A test) the tuned side
    is a second, independent draw (seed + 1). Greedy answers do not depend on the seed."""
    offsets: tuple[tuple[Side, int], ...] = (("base", 0), ("tuned", 1))
    return {side: SamplingParams(max_new_tokens=max_new_tokens, temperature=temperature,
                                 seed=seed + offset)
            for side, offset in offsets}


# What a run.json written before a setting existed meant by its absence: judged unconstrained.
UNRECORDED: dict[str, Any] = {"structured": False}


class JudgeRecord(Record):
    """One judge of a run (a panel has several): its model, its template, and the grammar its
    replies were held to (left off the record when they were free)."""

    model: ModelInfo
    template: dict[str, str]  # name, sha, origin
    grammar: dict[str, Any] | None = None  # choice / regex / json, as the engine was given it

    @model_serializer(mode="wrap")
    def _drop_free(self, handler: SerializerFunctionWrapHandler) -> dict:
        data = handler(self)
        if data.get("grammar") is None:
            data.pop("grammar", None)
        return data


class RunRecord(Record):
    """run.json. Compare writes every field; a reader needs only config, models and n_prompts
    (the rest defaults, so a hand-made or older folder still gives its card)."""

    config: dict[str, Any]
    engine: str = ""
    models: dict[str, ModelInfo]
    sampling: dict[Side, SamplingParams] | None = None  # absent in folders written before it
    template: dict[str, str] = {}
    judges: dict[str, JudgeRecord] = {}  # "MODEL@TEMPLATE" -> the judge; absent before panels
    # the engine each role ran on: "base", "tuned" (models, not answers files) and every judge
    # by its label, each with every option but the API key; absent before roles had their own
    engines: dict[str, dict[str, Any]] = {}
    n_prompts: int
    models_loaded: list[str] = []
    versions: dict[str, str] = {}
    timing: dict[str, StageTime] = {}
    timing_this_run: dict[str, StageTime] = {}

    def judge_ledgers(self) -> list[tuple[ModelInfo, str]]:
        """(judge model, template name) of every judge, in panel order; a run.json written
        before panels names its one judge in models and template."""
        if self.judges:
            return [(j.model, j.template["name"]) for j in self.judges.values()]
        return [(self.models["judge"], self.template.get("name", ""))]

    def side_sampling(self) -> dict[Side, SamplingParams]:
        """How each side's answers were sampled: as recorded, or for an older run.json, by the
        rule that run used (its config's budget, temperature and seed)."""
        if self.sampling is not None:
            return dict(self.sampling)
        config = self.config
        return side_sampling(config["max_new_tokens"], config["temperature"], config["seed"])


def prompts_text(items: list[PromptItem]) -> str:
    """A prompts.jsonl: one PromptItem per line, as `--prompts` reads it back."""
    return "".join(item.model_dump_json(exclude_none=True) + "\n" for item in items)


def read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise InputError(f"{path} is missing: is {path.parent} a judge run folder?")
    data = files.read_json(path, "record")
    if not isinstance(data, dict):
        raise InputError(f"{path} is not a JSON object")
    return data


class RunFolder:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @property
    def run_file(self) -> Path:
        return self.root / "run.json"

    @property
    def summary_file(self) -> Path:
        return self.root / "summary.json"

    @property
    def report_file(self) -> Path:
        return self.root / "report.md"

    @property
    def plot_file(self) -> Path:
        return self.root / "winrate.png"

    @property
    def html_file(self) -> Path:
        return self.root / "report.html"

    @property
    def csv_file(self) -> Path:
        return self.root / "verdicts.csv"

    @property
    def prompts_file(self) -> Path:
        return self.root / "prompts.jsonl"

    def written(self) -> list[Path]:
        """The files a run (re)writes whole at its end, checked before it starts."""
        return [self.run_file, self.summary_file, self.prompts_file, self.report_file,
                self.plot_file, self.html_file, self.csv_file]

    def generations(self, model: ModelInfo) -> Path:
        return self.root / "generations" / f"{model_slug(model)}.jsonl"

    def judgments(self, judge: ModelInfo, template: str) -> Path:
        return self.root / "judgments" / f"{model_slug(judge)}__{template}.jsonl"

    def controls(self, judge: ModelInfo, template: str) -> Path:
        return self.root / "controls" / f"{model_slug(judge)}__{template}.jsonl"

    @property
    def control_pairs_file(self) -> Path:
        return self.root / "controls" / "pairs.jsonl"

    def bench(self, model: ModelInfo) -> Path:
        return self.root / "bench" / f"{model_slug(model)}.json"

    def read_run(self) -> RunRecord:
        data = read_json(self.run_file)
        try:
            return RunRecord.model_validate(data)
        except ValidationError as err:
            first = err.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "record"
            raise InputError(f"{self.run_file} does not fit run.json ({field}: "
                             f"{first['msg']})") from None

    def check_same_run(self, settings: dict[str, Any], prompt_ids: list[str]) -> None:
        """Refuse (one InputError, nothing written) a run whose record settings differ from the
        run this folder already holds, or that would leave out prompts it already judged: its
        ledgers would mix two runs (summary.json counting one, the ledgers both). A folder with
        no run.json yet (a first run, or one killed before its end) holds no settings to keep.
        Settings a run.json of an older version does not record are not compared, but for
        those whose absence has a meaning (UNRECORDED)."""
        if not self.run_file.is_file():
            return
        old = UNRECORDED | self.read_run().config
        changed = [key for key, value in settings.items()
                   if key in old and json.loads(json.dumps(value)) != old[key]]
        if changed:
            shown = "; ".join(f"{key}: {old[key]!r} there, {settings[key]!r} now"
                              for key in changed[:3])
            raise InputError(f"run folder {self.root} holds a run with other settings ({shown}); "
                             "its ledgers would mix two runs: give this run another --out")
        if self.prompts_file.is_file():
            judged = {str(row.get("prompt_id")) for row in read_jsonl(self.prompts_file)[0]}
            missing = sorted(judged - set(prompt_ids))
            if missing:
                raise InputError(f"run folder {self.root} holds a run of {len(judged)} prompts, "
                                 f"{len(missing)} of which this run leaves out (e.g. "
                                 f"{missing[0]!r}): give it the same prompts, a superset, or "
                                 "another --out")

    def read_summary(self) -> Summary:
        return read_summary(read_json(self.summary_file), str(self.summary_file))

    def previous_timing(self) -> dict[str, StageTime]:
        """The cumulative timing an earlier run left in run.json (none when absent or unreadable:
        a damaged record must not stop a run whose results are all in the ledgers)."""
        try:
            timing = json.loads(self.run_file.read_text()).get("timing")
            return {stage: StageTime.model_validate(t) for stage, t in timing.items()}
        except (OSError, ValueError, AttributeError, TypeError):
            return {}

    def write_run(self, run: RunRecord) -> None:
        write_atomic(self.run_file, json.dumps(run.model_dump(), indent=2, default=str) + "\n")

    def write_prompts(self, items: list[PromptItem]) -> None:
        write_atomic(self.prompts_file, prompts_text(items))

    def write_summary(self, summary: Summary) -> None:
        write_atomic(self.summary_file, json.dumps(summary.as_json(), indent=2) + "\n")
