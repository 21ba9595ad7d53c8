"""arena-hard-auto judge configs (`config/arena-hard-v2.0.yaml` and the like): `prompt_template`
(a str.format template; a one-item list in older configs), `regex_pattern` (or a list
`regex_patterns`), and in older configs `system_prompt`.

The current configs keep the judge's system prompt in arena-hard's code, not in the YAML, so
`--system FILE` supplies one (its text is used exactly); without either the import goes on
without a system message and says so in one line.

Placeholders: {QUESTION} (older: {question_1}) -> instruction, {ANSWER_A}/{ANSWER_B} (older:
{answer_1}/{answer_2}) -> answer_a/answer_b, {REFERENCE} / {ref_answer_1} -> reference. Verdicts:
arena-hard upper-cases the judgment and takes the last match of its pattern, falling back to the
next pattern (for the standard `\\[\\[([AB<>=]+)\\]\\]` the single-bracket form, as its code
does); the parser below does the same, ignoring case. Labels A>>B, A>B, A=B, B>A, B>>A and their
mirror forms (A<B, A<<B, B<A, B<<A) map to first/second/tie, a `>>` verdict weighing 3, arena-hard's
default weight.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from judge.errors import InputError
from judge.files import read_text
from judge.sandbox import TEMPLATE_BYTES
from judge.templates.importers.writer import (
    Imported,
    fields,
    format_pieces,
    jinja_body,
    jinja_literal,
    keep_last_newline,
    template_text,
)

NAMES = {"QUESTION": "instruction", "ANSWER_A": "answer_a", "ANSWER_B": "answer_b",
         "REFERENCE": "reference", "question_1": "instruction", "answer_1": "answer_a",
         "answer_2": "answer_b", "ref_answer_1": "reference"}
STANDARD = r"\[\[([AB<>=]+)\]\]"
FALLBACK = r"\[([AB<>=]+)\]"
LABELS = {"A>>B": "first", "A>B": "first", "A=B": "tie", "B>A": "second", "B>>A": "second",
          "B<A": "first", "B<<A": "first", "A<B": "second", "A<<B": "second"}
WEIGHT = 3


def read_config(path: Path) -> dict:
    text = read_text(path, "arena-hard config", TEMPLATE_BYTES)  # a regular file, bounded
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as err:
        raise InputError(f"{path}: cannot read it as YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(data, dict) or "prompt_template" not in data:
        raise InputError(f"{path} is not an arena-hard judge config (prompt_template, "
                         "regex_pattern)")
    return data


def patterns_of(data: dict, path: Path) -> list[str]:
    given = data.get("regex_patterns") or data.get("regex_pattern")
    if isinstance(given, str):
        given = [given]
    if not isinstance(given, list) or not given:
        raise InputError(f"{path}: no regex_pattern to read verdicts with")
    patterns = [str(p["pattern"] if isinstance(p, dict) else p) for p in given]
    return patterns + [FALLBACK] if patterns == [STANDARD] else patterns


def last_match_parser(patterns: list[str]) -> str:
    """One regex: the last match of the first pattern that matches at all, ignoring case."""
    branches = []
    for n, pattern in enumerate(patterns):
        earlier = "".join(f"(?!(?s:.*)(?:{p}))" for p in patterns[:n])
        branches.append(f"{earlier}(?s:.*)(?:{pattern})")
    return r"(?i)\A(?:" + "|".join(branches) + ")"


def import_arena_hard(path: Path, system_file: Path | None = None) -> Imported:
    data = read_config(path)
    template = data["prompt_template"]
    if isinstance(template, list):
        if len(template) != 1:
            raise InputError(f"{path}: {len(template)} prompt templates (multi-turn); a judge "
                             "template has one")
        template = template[0]
    pieces = format_pieces(str(template), str(path))
    notes = []
    if system_file is not None:
        system = read_text(system_file, "--system", TEMPLATE_BYTES)
    else:
        system = str(data.get("system_prompt") or "")
        if not system:
            notes.append(f"{path} holds no system prompt (arena-hard keeps it in its code): "
                         "imported without one; give it with `judge templates import --system "
                         "FILE`")
    header: dict[str, Any] = {
        "kind": "pairwise",
        "description": f"arena-hard judge ({data.get('bench_name') or path.stem}); a >> "
                       f"verdict counts {WEIGHT} times",
        "labels": LABELS,
        "weights": {label: WEIGHT for label in LABELS if ">>" in label or "<<" in label},
        "logprob": False,
        "parser": last_match_parser(patterns_of(data, path)),
        "system": keep_last_newline(jinja_literal(system)) if system else None,
        "variables": fields(pieces, NAMES),
        "examples": EXAMPLES,
    }
    mapped = ", ".join(f"{{{f}}} -> {NAMES.get(f, f)}" for f in
                       dict.fromkeys(p.field for p in pieces if p.field))
    comments = [f"Imported from arena-hard's {path.name}"
                + (f", system prompt from {system_file.name}" if system_file else "") + ".",
                f"Placeholders: {mapped}."]
    return Imported(f"arena-hard-{path.stem}", template_text(header, jinja_body(pieces, NAMES),
                                                             comments), notes)


# arena-hard's verdict format ("My final verdict is tie: [[A=B]]") and its reading rules
EXAMPLES = [
    {"output": "My final verdict is tie: [[A=B]]", "verdict": "A=B"},
    {"output": "Assistant A is significantly better: [[A>>B]]", "verdict": "A>>B"},
    {"output": "Assistant A is slightly better: [[A>B]]", "verdict": "A>B"},
    {"output": "Assistant B is slightly better: [[B>A]]", "verdict": "B>A"},
    {"output": "My final verdict is: [[B>>A]]", "verdict": "B>>A"},
    {"output": "First I thought [[A>B]], but on reflection [[B>A]]", "verdict": "B>A"},
    {"output": "My final verdict is [a>b]", "verdict": "A>B"},
    {"output": "My final verdict is [[A>>>B]]", "verdict": None},
    {"output": "Both answers are fine.", "verdict": None},
]
