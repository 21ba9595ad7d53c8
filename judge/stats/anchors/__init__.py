"""The files of other tools, read as they are: detection, then one reader per format.

    judge stats:      judge's own lines (judge, battles, ratings), alpaca_eval annotations,
                      arena-hard judgments (v0.1 and v2), Chatbot Arena battle logs
    judge agreement:  judge's labelled verdicts, LLMBar results, JudgeBench judgments

The format is found from the content (detect.py) and named in the output. Each reader turns its
format into judge's own line shapes, so one set of statistics serves every source.
"""

from __future__ import annotations

from pathlib import Path

from judge.errors import InputError
from judge.stats.agreement import AgreementLine, parse_lines
from judge.stats.anchors.alpaca_eval import read_annotations
from judge.stats.anchors.arena import read_battles, read_judgments
from judge.stats.anchors.base import StatsFile
from judge.stats.anchors.detect import FORMATS, detect
from judge.stats.anchors.meta_eval import read_judgebench, read_llmbar
from judge.stats.lines import read_lines

__all__ = ["StatsFile", "read_agreement_file", "read_stats_file"]


def read_stats_file(path: Path) -> StatsFile:
    """A file for `judge stats`, in judge's line shapes, with the name of its format."""
    rows = read_lines(path)
    name = detect(rows)
    command, described = FORMATS[name]
    if command == "agreement":
        raise InputError(f"{path} holds {described}: `judge agreement {path}` reads it")
    if name == "alpaca_eval":
        return read_annotations(rows, str(path))
    if name.startswith("arena-hard"):
        return read_judgments(rows, str(path), name)
    if name == "battles":
        return read_battles(rows)
    return StatsFile(format=name, kind=command, rows=rows)  # type: ignore[arg-type]


def read_agreement_file(path: Path) -> tuple[list, str]:
    """The labelled verdicts of a file for `judge agreement`, and the name of its format."""
    rows = read_lines(path)
    name = detect(rows)
    command, described = FORMATS[name]
    if command != "agreement":
        raise InputError(f"{path} holds {described}, not labelled verdicts (id, label, verdict, "
                         "verdict_swapped); `judge stats` reads it")
    readers = {"llmbar": read_llmbar, "judgebench": read_judgebench}
    lines = readers[name](rows) if name in readers else rows
    return parse_lines(lines, str(path), AgreementLine), name
