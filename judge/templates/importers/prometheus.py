"""prometheus-eval's grading prompts: string constants in a Python file (its `prompts.py`), read
with `ast` and never run: `prompts.py#ABSOLUTE_PROMPT`, `prompts.py#RELATIVE_PROMPT_WO_REF`,
and with a rubric constant of the same file filled in:
`prompts.py#ABSOLUTE_PROMPT+HELPFULNESS_RUBRIC`.

- A prompt with {response} grades one answer 1-5 (absolute: a pointwise template); one with
  {response_A}/{response_B} picks A or B (relative: a pairwise template with no tie).
- Placeholders: {instruction} -> instruction, {response} -> answer, {response_A}/{response_B} ->
  answer_a/answer_b, {reference_answer} -> reference, {rubric} -> the rubric named after `+`
  (for relative grading only its first line, the criterion, as prometheus-eval passes it), else
  a `rubric` variable that `judge templates check` reports a run must provide.
- The system message is the file's ABS_SYSTEM_PROMPT or REL_SYSTEM_PROMPT, as prometheus-eval
  sends them. Verdicts are read with prometheus-eval's own patterns (`[RESULT] 4`, `Score: 4`,
  `4/5`, `4 out of 5` ...; `[RESULT] B`), a score outside 1-5 being no verdict.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from judge.errors import InputError
from judge.files import read_text
from judge.sandbox import TEMPLATE_BYTES
from judge.templates.importers.writer import (
    Imported,
    Piece,
    fields,
    format_pieces,
    jinja_body,
    jinja_literal,
    keep_last_newline,
    template_text,
)

NAMES = {"instruction": "instruction", "response": "answer", "response_A": "answer_a",
         "response_B": "answer_b", "reference_answer": "reference", "rubric": "rubric"}
SYSTEMS = {"pointwise": "ABS_SYSTEM_PROMPT", "pairwise": "REL_SYSTEM_PROMPT"}
ABSOLUTE_PARSER = (r"(?i)(?:\[RESULT\]|\[SCORE\]|Score:?|Result:?|\[Result\]:?|score\s+of)"
                   r"\s*(?:\(|\[|\s)*(\d+)(?:(?:\)|\]|\s|$)|(?:/\s*5|\s*out\s*of\s*5))")
RELATIVE_PARSER = (r"(?im)(?:\[RESULT\]|\[RESULT:\s*|\[Response\s+|\[Result\](?:\s+Response)?"
                   r"|\[Result:\s*|(?:^|\n)Result:?\s*)\s*(A|B)(?:\]|\s|$)")


def constants(path: Path) -> dict[str, str]:
    """Module-level string constants (`X = "..."`, also a triple-quoted string `.strip()`ped), by
    name."""
    text = read_text(path, "prometheus-eval prompts", TEMPLATE_BYTES)  # a regular file, bounded
    try:  # parsed, never run: only its string constants are read
        tree = ast.parse(text)
    except (SyntaxError, RecursionError, MemoryError, ValueError) as err:
        raise InputError(f"{path}: cannot read it as Python ({err})") from None
    found = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            continue
        value = node.value
        stripped = (isinstance(value, ast.Call) and not value.args and not value.keywords
                    and isinstance(value.func, ast.Attribute) and value.func.attr == "strip")
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and stripped:
            value = value.func.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            found[node.targets[0].id] = value.value.strip() if stripped else value.value
    return found


def import_prometheus(path: Path, fragment: str) -> Imported:
    name, _, rubric_name = fragment.partition("+")
    found = constants(path)
    if name not in found:
        prompts = [n for n, text in found.items() if "{instruction}" in text]
        raise InputError(f"{path} has no prompt constant {name} (prompts: {', '.join(prompts)})")
    where = f"{path}#{name}"
    pieces = format_pieces(found[name], where)
    used = {p.field for p in pieces if p.field}
    kind = "pairwise" if {"response_A", "response_B"} <= used else "pointwise"
    if kind == "pointwise" and "response" not in used:
        raise InputError(f"{where}: neither {{response}} nor {{response_A}}/{{response_B}}: "
                         "not a grading prompt")
    if rubric_name:
        if rubric_name not in found:
            raise InputError(f"{path} has no rubric constant {rubric_name}")
        rubric = found[rubric_name]
        if kind == "pairwise":  # relative grading passes the criterion line only
            rubric = rubric.split("\n")[0]
        pieces = [Piece(p.text + (rubric if p.field == "rubric" else ""),
                        None if p.field == "rubric" else p.field) for p in pieces]
    system = found.get(SYSTEMS[kind], "")
    header: dict[str, Any] = {
        "kind": kind,
        "description": f"prometheus-eval {'absolute' if kind == 'pointwise' else 'relative'} "
                       f"grading ({name}{'+' + rubric_name if rubric_name else ''})",
        "logprob": False,
        "system": keep_last_newline(jinja_literal(system)) if system else None,
        "variables": fields(pieces, NAMES),
    }
    if kind == "pointwise":
        header |= {"labels": {str(n): n for n in range(1, 6)}, "parser": ABSOLUTE_PARSER,
                   "feedback": r"(?s)\A\s*(.*?)\s*\[RESULT\]", "examples": ABSOLUTE_EXAMPLES}
    else:
        header |= {"labels": {"A": "first", "B": "second"}, "parser": RELATIVE_PARSER,
                   "examples": RELATIVE_EXAMPLES}
    mapped = ", ".join(f"{{{f}}} -> {NAMES.get(f, f)}" for f in sorted(used))
    comments = [f"Imported from prometheus-eval's {path.name}: {name}"
                + (f", rubric {rubric_name} filled in" if rubric_name else "")
                + (f", system message {SYSTEMS[kind]}" if system else "") + ".",
                f"Placeholders: {mapped}."]
    notes = []
    if "rubric" in fields(pieces, NAMES):
        notes.append(f"{where} takes a {{rubric}}: name one of {path.name}'s rubric constants "
                     f"after '+' ({name}+HELPFULNESS_RUBRIC) or edit the imported file")
    slug = (name + ("-" + rubric_name if rubric_name else "")).lower().replace("_", "-")
    return Imported(f"prometheus-{slug}", template_text(header, jinja_body(pieces, NAMES),
                                                        comments), notes)


# prometheus-eval's output format "(feedback) [RESULT] (score)" and the forms its parser takes
ABSOLUTE_EXAMPLES = [
    {"output": "The response follows the rubric closely and is accurate. [RESULT] 5",
     "verdict": "5"},
    {"output": "Partly correct, with one wrong step. [RESULT] 3", "verdict": "3"},
    {"output": "Feedback: thin on detail. Score: 2", "verdict": "2"},
    {"output": "It earns 4/5 for clarity.", "verdict": None},
    {"output": "Overall a score of 4 out of 5.", "verdict": "4"},
    {"output": "Excellent beyond the scale. [RESULT] 7", "verdict": None},
    {"output": "The response is fine.", "verdict": None},
]
RELATIVE_EXAMPLES = [
    {"output": "Response A meets the criterion; B does not. [RESULT] A", "verdict": "A"},
    {"output": "Response B is more complete. [RESULT] B", "verdict": "B"},
    {"output": "B is better.\nResult: B", "verdict": "B"},
    {"output": "Both responses are good.", "verdict": None},
]
