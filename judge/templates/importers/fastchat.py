"""FastChat's MT-Bench judge prompts (`judge_prompts.jsonl`, one JSON object per line with name,
type, system_prompt, prompt_template, description, category, output_format), one by name:
`judge_prompts.jsonl#pair-v2`.

- `pairwise` prompts become pairwise templates, labels A/B/C (C is a tie). FastChat reads the
  verdict by substring tests in a fixed order: `[[A]]` anywhere wins, else `[[B]]`, else
  `[[C]]`; the parser below does the same in one regex (a lookahead from the start per label).
- `single` prompts become pointwise templates rating 1-10. FastChat reads the first
  `[[number]]`, else the first `[number]`; whole ratings 1-10 are the labels, so a rating it
  would keep such as 7.5 or 11 counts as no verdict here.
- Placeholders: {question} -> instruction, {answer_a}/{answer_b} -> answer_a/answer_b,
  {answer} -> answer, {ref_answer_1} -> reference. Multi-turn prompts number them per turn:
  {question_2} -> instruction_2, {answer_a_2} -> answer_a_2, {answer_2} -> answer_2,
  {ref_answer_2} -> reference_2. Per-turn grading provides them to the single prompts
  (judge/templates/turns.py); a multi-turn pairwise import loads, and `judge templates check`
  names what a run must provide.
"""

from __future__ import annotations

import re
from pathlib import Path

from judge.errors import InputError
from judge.files import parse_json, read_text
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

SINGLE_TURN = {"question": "instruction", "answer_a": "answer_a", "answer_b": "answer_b",
               "answer": "answer", "ref_answer_1": "reference"}
TURN = re.compile(r"(question|answer_a|answer_b|answer|ref_answer)_(\d+)")
OURS = {"question": "instruction", "answer_a": "answer_a", "answer_b": "answer_b",
        "answer": "answer", "ref_answer": "reference"}
# [[A]] anywhere, else [[B]] anywhere, else [[C]]: FastChat's substring tests, in order
PAIR_PARSER = (r"(?s)\A(?:.*?\[\[(?=A\]\])|(?!.*\[\[A\]\]).*?\[\[(?=B\]\])"
               r"|(?!.*\[\[[AB]\]\]).*?\[\[(?=C\]\]))(A|B|C)\]\]")
# the first [[number]], else the first [number]
RATING = r"\d+\.?\d*"
SINGLE_PARSER = (rf"(?s)\A(?:.*?\[\[(?={RATING}\]\])|(?!.*\[\[{RATING}\]\]).*?\[(?={RATING}\]))"
                 rf"({RATING})\]")


def read_prompt(path: Path, name: str) -> dict:
    found = read_prompts(path)
    if name not in found:
        raise InputError(f"{path} has no prompt '{name}' (it has: {', '.join(found)})")
    return found[name]


def read_prompts(path: Path) -> dict[str, dict]:
    """Every prompt of a judge_prompts.jsonl, by name."""
    lines = read_text(path, "FastChat judge prompts", TEMPLATE_BYTES).splitlines()
    found: dict[str, dict] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = parse_json(line)  # bounded nesting
        except ValueError:
            raise InputError(f"{path}: line {number} is not JSON") from None
        if not isinstance(row, dict) or not {"name", "prompt_template"} <= set(row):
            raise InputError(f"{path}: line {number} is not a judge prompt (name, type, "
                             "system_prompt, prompt_template)")
        found[str(row["name"])] = row
    return found


def rename(field: str) -> str:
    turn = TURN.fullmatch(field)
    return f"{OURS[turn.group(1)]}_{turn.group(2)}" if turn else field


def import_fastchat(path: Path, name: str) -> Imported:
    row = read_prompt(path, name)
    where = f"{path}#{name}"
    kind = {"pairwise": "pairwise", "single": "pointwise"}.get(row.get("type", ""))
    if kind is None:
        raise InputError(f"{where}: type {row.get('type')!r} is neither pairwise nor single")
    pieces = format_pieces(str(row["prompt_template"]), where)
    used = {p.field for p in pieces if p.field}
    per_turn = any(TURN.fullmatch(f) and f != "ref_answer_1" for f in used)
    names = {f: rename(f) for f in used} if per_turn else dict(SINGLE_TURN)
    variables = fields(pieces, names)
    system = str(row.get("system_prompt") or "")
    header = {
        "kind": kind,
        "description": f"{row.get('description', '')} (FastChat {name})".strip(),
        "logprob": False,  # the verdict closes a written explanation
        "system": keep_last_newline(jinja_literal(system)) if system else None,
        "variables": variables,
    }
    if kind == "pairwise":
        header |= {"labels": {"A": "first", "B": "second", "C": "tie"}, "parser": PAIR_PARSER,
                   "examples": PAIR_EXAMPLES}
    else:
        header |= {"labels": {str(n): n for n in range(1, 11)}, "parser": SINGLE_PARSER,
                   "examples": SINGLE_EXAMPLES}
    comments = [f"Imported from FastChat's {path.name}, prompt {name} (category "
                f"{row.get('category', 'general')}).",
                "Placeholders: " + ", ".join(f"{{{f}}} -> {names.get(f, f)}" for f in
                                             dict.fromkeys(p.field for p in pieces if p.field))]
    notes = []
    if per_turn and kind == "pairwise":
        notes.append(f"{where} is a multi-turn prompt: it needs per-turn variables "
                     f"({', '.join(variables)}), which runs do not provide yet")
    return Imported(f"fastchat-{name}", template_text(header, jinja_body(pieces, names),
                                                      comments), notes)


# FastChat's output formats ("[[A]]", "[[B]]", "[[C]]"; "Rating: [[5]]") and its reading rules
PAIR_EXAMPLES = [
    {"output": "Assistant A is more accurate. [[A]]", "verdict": "A"},
    {"output": "Assistant B answers the question; A does not. [[B]]", "verdict": "B"},
    {"output": "Both are equally good. [[C]]", "verdict": "C"},
    {"output": "Not [[B]]: the final verdict is [[A]]", "verdict": "A"},
    {"output": "Assistant A is better. [A]", "verdict": None},
    {"output": "Final verdict: A", "verdict": None},
]
SINGLE_EXAMPLES = [
    {"output": "The answer is correct and clear. Rating: [[5]]", "verdict": "5"},
    {"output": "Helpful and complete. Rating: [[10]]", "verdict": "10"},
    {"output": "It misses the point. Rating: [3]", "verdict": "3"},
    {"output": "Rating: [[7]], though [[2]] was tempting", "verdict": "7"},
    {"output": "Rating: [[7.5]]", "verdict": None},
    {"output": "I would rate it 6 out of 10.", "verdict": None},
]
