"""Judge templates: Jinja2 files that declare, in a header comment, how to read their verdicts.

    {#- judge-template
    kind: pairwise                      # pairwise | pointwise | flow
    labels: {A: first, B: second, tie: tie}
    parser: '^\\W*(A|B|tie)\\b'
    -#}
    ...the user message, with {{ instruction }}, {{ answer_a }}, {{ answer_b }}...

Pairwise labels mean first/second/tie (optionally `weights`: a strong verdict counts as several);
pointwise and flow labels are ratings (label -> number) of one `answer`. `logprob: false` marks
templates whose labels cannot be read from the reply's first token. The parser's first capture
group that took part in the match is the label (an exact match first, else ignoring case); with
`match` (label -> regex) the label whose own pattern matches earliest wins instead. `grammar`
(a choice, a regex or a JSON schema) is what `--structured` constrains replies to; without one it
is derived from the labels and the parser (judge/templates/grammar.py). Rendering happens in
judge's one bounded sandbox (judge/sandbox.py: no attribute tricks, bounded size and time) and is
strict (a missing variable is an error, never ""); a template receives only the variables it
declares. The parser, feedback and match regexes are the user's too: they run with a time limit
(judge/patterns.py), so a pattern that backtracks without end stops with one line, not a hang.
A judge prompt file of another project (FastChat, alpaca_eval, arena-hard, prometheus-eval) is
imported into this format on the way in (judge/templates/importers/), and loads through the same
sandbox and patterns as any template.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from jinja2 import meta
from pydantic import ValidationError, field_validator, model_validator

from judge.errors import InputError
from judge.files import read_text
from judge.patterns import Pattern, PatternError
from judge.records import Grammar, Message, Record
from judge.resources import shipped_files
from judge.sandbox import TEMPLATE_BYTES, BoundedSandbox, TemplateFailure, render
from judge.templates.importers import import_source, is_source

log = logging.getLogger("judge")

HEADER = re.compile(r"\A\{#-?\s*judge-template\s*\n(.*?)\n\s*-?#\}\n?", re.DOTALL)
Kind = Literal["pairwise", "pointwise", "flow"]
Meaning = Literal["first", "second", "tie"]
MEANINGS = ("first", "second", "tie")
# What a run hands each kind of template; flow's criteria and rubric come from a metric preset.
PROVIDED: dict[str, tuple[str, ...]] = {
    "pairwise": ("instruction", "answer_a", "answer_b", "reference"),
    "pointwise": ("instruction", "answer", "reference"),
    "flow": ("instruction", "answer", "reference", "criteria", "rubric"),
}
# per-turn grading (judge/templates/turns.py) gives pointwise templates every turn up to the
# graded one
PER_TURN = tuple(f"{name}_{k}" for k in (1, 2) for name in ("instruction", "answer", "reference"))
DEFAULT_VARIABLES = {
    "pairwise": ["instruction", "answer_a", "answer_b"],
    "pointwise": ["instruction", "answer"],
    "flow": ["instruction", "answer", "criteria", "rubric"],
}
SAMPLE = {
    "instruction": "Name a primary colour.",
    "answer_a": "Red is a primary colour.",
    "answer_b": "Blue is one of them.",
    "answer": "Red is a primary colour.",
    "reference": "Red, yellow or blue.",
    "criteria": "Does the response answer the query correctly?",
    "rubric": "- Score 1: The response is wrong.\n- Score 2: The response is right.",
    "instruction_1": "Name a primary colour.",
    "answer_1": "Red is a primary colour.",
    "reference_1": "Red, yellow or blue.",
    "instruction_2": "And a secondary one?",
    "answer_2": "Green is a secondary colour.",
    "reference_2": "Green, orange or purple.",
}


class Example(Record):
    output: str
    verdict: str | None


def _regex(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    try:
        pattern = Pattern(value)
    except PatternError as err:
        raise ValueError(f"{what} is not a valid regex: {err}") from None
    if pattern.groups < 1:
        raise ValueError(f"{what} needs one capture group around what it reads")
    return value


class TemplateSpec(Record):
    kind: Kind
    labels: dict[str, str | float]
    parser: str
    description: str = ""
    system: str | None = None
    variables: list[str]
    optional: list[str] = []  # used only when present, e.g. `{% if reference is defined %}`
    examples: list[Example] = []
    weights: dict[str, float] = {}  # pairwise: a label's verdict counts as this many (default 1)
    logprob: bool = True  # False: labels cannot be told apart by the reply's first token
    feedback: str | None = None  # pointwise/flow: regex whose group is the written feedback
    match: dict[str, str] = {}  # label -> its own regex; the earliest match wins (alpaca_eval)
    grammar: Grammar | None = None  # what --structured constrains replies to (else derived)

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if isinstance(data.get("labels"), dict):  # YAML reads `{1: 1}` with int keys
                data["labels"] = {str(k): v for k, v in data["labels"].items()}
            if data.get("kind") in DEFAULT_VARIABLES and "variables" not in data:
                data["variables"] = DEFAULT_VARIABLES[data["kind"]]
        return data

    @field_validator("parser")
    @classmethod
    def _parser(cls, value: str) -> str:
        return _regex(value, "parser") or value

    @field_validator("feedback")
    @classmethod
    def _feedback(cls, value: str | None) -> str | None:
        return _regex(value, "feedback")

    @field_validator("match")
    @classmethod
    def _match(cls, value: dict[str, str]) -> dict[str, str]:
        for label, pattern in value.items():  # compiled as parse will run them (patterns.py)
            try:
                Pattern(pattern)
            except PatternError as err:
                raise ValueError(f"match pattern of {label!r} is not a valid regex: "
                                 f"{err}") from None
        return value

    @model_validator(mode="after")
    def _labels_fit_kind(self) -> TemplateSpec:
        if not self.labels:
            raise ValueError("labels must name at least one verdict")
        values = list(self.labels.values())
        if self.kind == "pairwise" and not all(v in MEANINGS for v in values):
            raise ValueError("pairwise labels map to first, second or tie")
        if self.kind != "pairwise" and not all(isinstance(v, (int, float)) for v in values):
            raise ValueError(f"{self.kind} labels map to numbers (the rating each label means)")
        if self.weights and self.kind != "pairwise":
            raise ValueError("weights apply to pairwise labels only")
        unknown = sorted(set(self.weights) - set(self.labels))
        if unknown or any(w <= 0 for w in self.weights.values()):
            raise ValueError(f"weights must be positive and name declared labels (not {unknown})")
        if set(self.match) - set(self.labels):
            raise ValueError(f"match names labels it does not declare: "
                             f"{sorted(set(self.match) - set(self.labels))}")
        return self


class JudgeTemplate:
    """A parsed template file: render a pair (or one answer) into chat messages, parse a reply."""

    def __init__(self, name: str, source: str, origin: str) -> None:
        match = HEADER.match(source)
        if not match:
            raise InputError(
                f"template {origin} declares no verdict format: it must open with a "
                "'{#- judge-template ... -#}' header (kind, labels, parser)"
            )
        try:
            header = yaml.safe_load(match.group(1)) or {}
            if not isinstance(header, dict):
                raise InputError(f"template {origin}: bad header: it must be a mapping of "
                                 f"settings, not a {type(header).__name__}")
            self.spec = TemplateSpec.model_validate(header)
        except (yaml.YAMLError, ValidationError, RecursionError) as err:
            first = str(err).splitlines() or [type(err).__name__]
            raise InputError(f"template {origin}: bad header: {' '.join(first[:3])}") from None
        self.name = name
        self.source = source
        self.sha = hashlib.sha256(source.encode()).hexdigest()[:16]
        self.fixed: dict[str, str] = {}
        self.origin = origin
        self._env = BoundedSandbox()
        try:
            self._ast = self._env.parse_source(source[match.end() :])
            self._body = self._env.from_string(self._ast)
            self._system = (self._env.compile_source(self.spec.system) if self.spec.system
                            else None)
        except TemplateFailure as err:
            raise InputError(f"template {origin}: {err}") from None

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def labels(self) -> list[str]:
        return list(self.spec.labels)

    def meaning(self, label: str) -> Meaning:
        return self.spec.labels[label]  # type: ignore[return-value]  # pairwise: checked on load

    def rating(self, label: str) -> float:
        return float(self.spec.labels[label])

    def weight(self, label: str) -> float:
        return self.spec.weights.get(label, 1.0)

    def used_variables(self) -> set[str]:
        used = set(meta.find_undeclared_variables(self._ast))
        if self.spec.system:
            used |= meta.find_undeclared_variables(self._env.parse_source(self.spec.system))
        return used

    def bind(self, suffix: str, values: dict[str, str], spec: dict[str, Any]) -> JudgeTemplate:
        """A copy with some variables fixed (e.g. a metric's criteria) and header fields replaced;
        its name and hash say what was bound, so its ledger and cache keys are its own."""
        bound = copy.copy(self)
        bound.fixed = {**self.fixed, **values}
        bound.spec = TemplateSpec.model_validate(self.spec.model_dump() | spec)
        bound.name = f"{self.name}-{suffix}"
        blob = json.dumps([self.sha, bound.fixed, spec], sort_keys=True)
        bound.sha = hashlib.sha256(blob.encode()).hexdigest()[:16]
        return bound

    def render(self, **variables: str | None) -> list[Message]:
        wanted = set(self.spec.variables) | set(self.spec.optional)
        values = {k: v for k, v in {**variables, **self.fixed}.items()
                  if v is not None and k in wanted}
        try:
            messages = []
            if self._system is not None:
                messages.append(Message(role="system", content=render(self._system, values)))
            messages.append(Message(role="user", content=render(self._body, values).strip()))
        except TemplateFailure as err:
            given = f" (variables: {sorted(values)})" if err.undefined else ""
            raise InputError(f"template {self.name}: {err}{given}") from None
        return messages

    def parse(self, text: str) -> str | None:
        """The declared label the reply commits to, or None when the parser finds none."""
        if self.spec.match:  # each label its own pattern: the earliest match, ties to the first
            hits = [(m.start(), n, label)
                    for n, (label, pattern) in enumerate(self.spec.match.items())
                    if (m := self._search(pattern, text, 0, f"match regex of {label!r}"))]
            return min(hits)[2] if hits else None
        match = self._search(self.spec.parser, text, 0, "parser regex")
        if not match:
            return None
        found = next((g for g in match.groups() if g is not None), "").strip()
        if found in self.spec.labels:  # labels may differ by case alone (alpaca_eval's m and M)
            return found
        return next((label for label in self.labels if label.lower() == found.lower()), None)

    def feedback(self, text: str) -> str | None:
        if not self.spec.feedback:
            return None
        match = self._search(self.spec.feedback, text, re.DOTALL, "feedback regex")
        return match.group(1).strip() if match else None

    def _search(self, pattern: str, text: str, flags: int, what: str) -> Any:
        try:
            return Pattern(pattern, flags).search(text)
        except PatternError as err:
            raise InputError(f"template {self.origin}: its {what} {err}") from None

    def check(self) -> None:
        """Render a sample, so a missing variable fails before any model is loaded."""
        self.render(**SAMPLE)


def read_template(ref: str) -> JudgeTemplate:
    """A shipped template by name (prompts/NAME.j2), a path to the user's own file, or another
    project's judge prompt file (imported on the way in: judge/templates/importers/); unchecked."""
    path = Path(ref)
    if not path.suffix and ref in shipped():
        path = shipped()[ref]
    if is_source(ref):
        imported = import_source(ref)
        for note in imported.notes:
            log.warning("%s", note)
        return JudgeTemplate(imported.name, imported.text, ref)
    if not path.exists():
        raise InputError(f"template '{ref}' not found (shipped: {', '.join(shipped_names())}; "
                         "or give a file path)")
    return JudgeTemplate(path.stem, read_text(path, "template", TEMPLATE_BYTES), str(path))


def load_template(ref: str) -> JudgeTemplate:
    template = read_template(ref)
    template.check()
    return template


def shipped() -> dict[str, Path]:
    """Shipped templates by name: pair ones in prompts/, one-answer ones in prompts/pointwise/."""
    return shipped_files("judge.templates.shipped", ".j2")


def shipped_names() -> list[str]:
    return sorted(shipped())
