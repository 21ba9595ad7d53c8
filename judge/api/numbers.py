"""judge.stats and judge.agreement: the numbers of files you already have, and a judge's
agreement with human labels.

    judge.stats("annotations.json").to_pandas()           # alpaca_eval's, arena-hard's, ours
    judge.agreement("verdicts.jsonl").numbers["accuracy"]
    judge.agreement(judge="smollm2", pairs="labeled.jsonl")  # judge the pairs first
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from judge.api.progress import ProgressArg, progress_for
from judge.api.settings import default_cache, engine_settings, one_line, slug
from judge.engines import load_engine
from judge.engines.pool import Loader
from judge.errors import InputError
from judge.frames import data_frame, flat_fields
from judge.pipeline.agreement import AgreementConfig, agreement_run, extra_blocks
from judge.pipeline.judging import VerdictMode
from judge.pipeline.leaderboard import folder_battles
from judge.pipeline.panel import split_member
from judge.records import Record
from judge.stats.agreement import agreement as score
from judge.stats.anchors import StatsFile, read_agreement_file, read_stats_file
from judge.stats.blocks import blocks_json, line_blocks
from judge.stats.bradley_terry import bradley_terry
from judge.stats.mt_bench import is_turn_file, mt_bench_stats, turn_rows
from judge.stats.ratings import summarize_ratings


class FileSettings(Record):
    """`judge stats`' options, with the CLI's bounds."""

    confidence: float = Field(default=0.95, ge=0.5, le=0.999)
    bootstrap: int = Field(default=2000, ge=100, le=100_000)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    baseline: str | None = None


class FileStats(Record):
    """A file's numbers: `numbers` is what `judge stats FILE --json` prints; `table` what its
    table shows (the Bradley–Terry fit, the ratings, or the pairwise blocks)."""

    format: str
    kind: str
    numbers: dict[str, Any]
    table: Any = Field(default=None, exclude=True, repr=False)

    def to_pandas(self) -> Any:
        """Named models: one row per model. Otherwise one number per row (`field`, `value`)."""
        if self.kind == "models":
            return data_frame([{"model": name} | flat_fields(fields)
                               for name, fields in self.numbers["models"].items()])
        return data_frame([{"field": k, "value": v} for k, v in flat_fields(self.numbers).items()],
                          ["field", "value"])


def stats(file: str | Path, **options: Any) -> FileStats:
    """The numbers of a judgments file (or a leaderboard folder), as `judge stats FILE`:
    `confidence`, `bootstrap`, `seed`, `baseline` as its options."""
    try:
        settings = FileSettings.model_validate(options)
    except ValidationError as err:
        raise one_line(err) from None
    path = Path(file)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    baseline = settings.baseline
    if path.is_dir():
        rows, reference = folder_battles(path)
        baseline = baseline or reference
        parsed = StatsFile(format="leaderboard folder", kind="models", rows=rows)
    else:
        parsed = read_stats_file(path)
    common = (settings.confidence, settings.bootstrap, settings.seed)
    table: Any
    # FastChat's single judgments, or a per-turn run's lines: show_result, with intervals
    if parsed.kind == "mt_bench" or (parsed.kind == "ratings" and is_turn_file(parsed.rows)):
        rows = parsed.rows if parsed.kind == "mt_bench" else turn_rows(parsed.rows)
        turn_base = None if parsed.kind == "mt_bench" else "base"
        table = mt_bench_stats(rows, baseline or turn_base, *common)
        return FileStats(format=parsed.format, kind="mt_bench",
                         numbers={"format": parsed.format, **table.model_dump()}, table=table)
    if baseline is not None and parsed.kind != "models":
        raise InputError("--baseline applies to files whose lines name model_a and model_b, "
                         "or FastChat MT-Bench judgments")
    if parsed.kind == "models":
        table = bradley_terry(parsed.rows, baseline, *common)
        numbers = table
    elif parsed.kind == "ratings":
        table = summarize_ratings(parsed.rows, *common)
        numbers = table.model_dump()
    else:
        table = line_blocks(parsed.rows, parsed.texts, *common)
        numbers = blocks_json(table)
    return FileStats(format=parsed.format, kind=parsed.kind,
                     numbers={"format": parsed.format, **numbers}, table=table)


class AgreementResult(Record):
    """A judge's agreement with human labels: `numbers` is `judge agreement --json`'s output."""

    format: str
    numbers: dict[str, Any]
    verdicts: str | None = None  # with a judge run: its verdicts.jsonl
    table: Any = Field(default=None, exclude=True, repr=False)

    def to_pandas(self) -> Any:
        """One number per row (`field`, `value`)."""
        return data_frame([{"field": k, "value": v} for k, v in flat_fields(self.numbers).items()],
                          ["field", "value"])


def agreement(file: str | Path | None = None, *, judge: str | list[str] | None = None,
              pairs: str | Path | None = None, template: str = "pairwise",
              verdict: VerdictMode = "both", structured: bool | None = None,
              judge_max_new_tokens: int = 48, controls: int = 8, out: str | None = None,
              cache_dir: str | None = None, progress: ProgressArg = True,
              loader: Loader | None = None, **engine: Any) -> AgreementResult:
    """Score a judge against human labels, as `judge agreement`: a verdicts FILE, or `judge`
    (one or a panel) run on labelled `pairs` first (engine options as in compare)."""
    judges = [judge] if isinstance(judge, str) else list(judge or [])
    if bool(judges) != (pairs is not None):
        raise InputError("--judge and --pairs go together")
    if (file is None) == (not judges):
        raise InputError("give either a verdicts FILE or --judge MODEL --pairs LABELED.jsonl")
    if file is not None:
        lines, kind = read_agreement_file(Path(file))
        result = score(lines)
        return AgreementResult(format=kind, numbers={"format": kind, **result.model_dump()},
                               table=result)

    for spec in judges:
        split_member(spec)
    out = out or str(Path("results") / f"agreement-{slug(judges[0])}")
    try:
        config = AgreementConfig(
            judge=judges[0], panel=judges[1:], pairs=str(pairs), template=template,
            verdict=verdict, structured=structured, judge_max_new_tokens=judge_max_new_tokens,
            controls=controls, out=out, cache_dir=cache_dir or default_cache(),
            engine=engine_settings(engine, seed=0))
    except ValidationError as err:
        raise one_line(err) from None
    with progress_for(progress) as bars:
        found = agreement_run(config, bars, loader or load_engine)
    numbers = {"format": "agreement", **found.agreement.model_dump(), **extra_blocks(found)}
    return AgreementResult(format="agreement", numbers=numbers,
                           verdicts=str(Path(out) / "verdicts.jsonl"), table=found)
