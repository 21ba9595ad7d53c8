"""What the API's comparisons return: summary.json and the per-prompt verdicts, as records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from judge.frames import data_frame
from judge.records import Record
from judge.report.evidence import prompt_views
from judge.report.export import VERDICT_COLUMNS, verdict_rows
from judge.runs.folder import RunFolder
from judge.runs.reader import RunData, read_run
from judge.runs.summary import Summary


class Verdict(Record):
    """One prompt's verdicts: a row of verdicts.csv, with the prompt and both answers."""

    prompt_id: str
    category: str | None
    prompt: str
    base_answer: str
    tuned_answer: str
    base_chars: int
    tuned_chars: int
    base_first_verdict: str | None
    tuned_first_verdict: str | None
    base_first_source: str | None
    tuned_first_source: str | None
    rating_base: float | None
    rating_tuned: float | None
    score: float | None  # the tuned model's score, its orders averaged
    outcome: str
    split: bool  # the two orders disagreed


class Comparison(Record):
    """A finished comparison: its summary.json, every prompt's verdicts and its run folder."""

    summary: Summary
    verdicts: list[Verdict]
    folder: str

    def to_pandas(self) -> Any:
        """The verdicts, one row per prompt (verdicts.csv's columns, then the texts). Needs
        pandas; `summary.to_pandas()` gives the numbers."""
        return data_frame([v.model_dump() for v in self.verdicts],
                          [*VERDICT_COLUMNS, "prompt", "base_answer", "tuned_answer"])


def comparison(data: RunData, folder: Path) -> Comparison:
    views = prompt_views(data.items, data.answers, data.judgments)
    prompts = {item.prompt_id: item.prompt for item in data.items}
    verdicts = []
    for view, row in zip(views, verdict_rows(views), strict=True):
        fields = dict(zip(VERDICT_COLUMNS, row, strict=True))
        verdicts.append(Verdict(**fields | {"split": bool(fields["split"]),
                                            "prompt": prompts[view.prompt_id],
                                            "base_answer": view.base,
                                            "tuned_answer": view.tuned}))
    return Comparison(summary=data.summary, verdicts=verdicts, folder=str(folder))


def read_comparison(folder: str | Path) -> Comparison:
    """A run folder read back (any run folder, older ones too) as a Comparison."""
    return comparison(read_run(RunFolder(folder)), Path(folder))
