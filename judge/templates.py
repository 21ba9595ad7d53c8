"""Judge templates: Jinja2 files that declare, in a header comment, how to read their verdicts.

    {#- judge-template
    kind: pairwise
    labels: {A: first, B: second, tie: tie}
    parser: '^\\W*(A|B|tie)\\b'
    -#}
    ...the user message, with {{ instruction }}, {{ answer_a }}, {{ answer_b }}...

Rendering is sandboxed (no attribute tricks) and strict (a missing variable is an error, never "").
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Literal

import jinja2
import yaml
from jinja2.sandbox import SandboxedEnvironment
from pydantic import ConfigDict, ValidationError, field_validator

from judge.errors import InputError
from judge.records import Message, Record

SHIPPED = Path(__file__).resolve().parent.parent / "prompts"
HEADER = re.compile(r"\A\{#-?\s*judge-template\s*\n(.*?)\n\s*-?#\}\n?", re.DOTALL)
Meaning = Literal["first", "second", "tie"]
SAMPLE = {
    "instruction": "Name a primary colour.",
    "answer_a": "Red.",
    "answer_b": "Blue is one of them.",
    "reference": "Red, yellow or blue.",
}


class Example(Record):
    output: str
    verdict: str | None


class TemplateSpec(Record):
    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["pairwise"]
    labels: dict[str, Meaning]
    parser: str
    description: str = ""
    system: str | None = None
    variables: list[str] = ["instruction", "answer_a", "answer_b"]
    examples: list[Example] = []

    @field_validator("parser")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            pattern = re.compile(value)
        except re.error as err:
            raise ValueError(f"parser is not a valid regex: {err}") from None
        if pattern.groups < 1:
            raise ValueError("parser needs one capture group around the verdict label")
        return value


class JudgeTemplate:
    """A parsed template file: render a pair into chat messages, parse a reply into a label."""

    def __init__(self, name: str, source: str, origin: str) -> None:
        match = HEADER.match(source)
        if not match:
            raise InputError(
                f"template {origin} declares no verdict format: it must open with a "
                "'{#- judge-template ... -#}' header (kind, labels, parser)"
            )
        try:
            self.spec = TemplateSpec.model_validate(yaml.safe_load(match.group(1)) or {})
        except (yaml.YAMLError, ValidationError) as err:
            first = str(err).splitlines()
            raise InputError(f"template {origin}: bad header: {' '.join(first[:3])}") from None
        self.name = name
        self.sha = hashlib.sha256(source.encode()).hexdigest()[:16]
        self._pattern = re.compile(self.spec.parser)
        env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
        try:
            self._body = env.from_string(source[match.end() :])
            self._system = env.from_string(self.spec.system) if self.spec.system else None
        except jinja2.TemplateSyntaxError as err:
            raise InputError(f"template {origin}: line {err.lineno}: {err.message}") from None
        self.origin = origin

    @property
    def labels(self) -> list[str]:
        return list(self.spec.labels)

    def meaning(self, label: str) -> Meaning:
        return self.spec.labels[label]

    def render(self, **variables: str | None) -> list[Message]:
        values = {k: v for k, v in variables.items() if v is not None}
        try:
            messages = []
            if self._system is not None:
                messages.append(Message(role="system", content=self._system.render(**values)))
            messages.append(Message(role="user", content=self._body.render(**values).strip()))
        except jinja2.UndefinedError as err:
            raise InputError(f"template {self.name}: {err.message} (variables: {sorted(values)})")
        except jinja2.exceptions.SecurityError as err:
            raise InputError(f"template {self.name}: refused by the sandbox: {err}") from None
        return messages

    def parse(self, text: str) -> str | None:
        """The declared label the reply commits to, or None when the parser finds none."""
        match = self._pattern.search(text)
        if not match:
            return None
        found = match.group(1).strip().lower()
        return next((label for label in self.labels if label.lower() == found), None)

    def check(self) -> None:
        """Render a sample pair, so a missing variable fails before any model is loaded."""
        self.render(**SAMPLE)


def load_template(ref: str) -> JudgeTemplate:
    """A shipped template by name (prompts/NAME.j2) or a path to the user's own file."""
    path = Path(ref)
    if not path.suffix and (SHIPPED / f"{ref}.j2").is_file():
        path = SHIPPED / f"{ref}.j2"
    if not path.is_file():
        shipped = ", ".join(sorted(p.stem for p in SHIPPED.glob("*.j2")))
        raise InputError(f"template '{ref}' not found (shipped: {shipped}; or give a file path)")
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"template {path}: cannot read it ({err})") from None
    template = JudgeTemplate(path.stem, source, str(path))
    template.check()
    return template
