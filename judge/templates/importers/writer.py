"""Writing an imported judge prompt as one of our template files: a full header, then the body.

The source's words are kept exactly. Its literal text is escaped so Jinja renders it back as
written: every `{` that would open a Jinja tag (`{{`, `{%`, `{#`) becomes `{{ '{' }}`, and a
carriage return (which Jinja would turn into a newline) becomes `{{ '\\r' }}`. Its placeholders
become our variables. The header is YAML: strings that span lines, hold `#}` (which would end the
header's Jinja comment) or anything unprintable are double-quoted with escapes, the rest as YAML
writes them.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import yaml

from judge.errors import InputError

# header fields in the order a reader wants them
ORDER = ("kind", "description", "labels", "weights", "logprob", "parser", "match", "feedback",
         "system", "variables", "optional", "grammar", "examples")


class Imported(NamedTuple):
    """A template made from another project's file: its name, the .j2 text, and the notes the
    import has for the user (one line each: what was left out, what must be supplied)."""

    name: str
    text: str
    notes: list[str]


class Piece(NamedTuple):
    """A run of the source's literal text, then the placeholder after it (None at the end)."""

    text: str
    field: str | None


def jinja_literal(text: str, then: str = "") -> str:
    """`text` as Jinja source that renders to exactly `text`; `then` is the source that follows
    it (a placeholder's `{{`), so a `{` at its end is escaped when the two would open a tag."""
    out = []
    for i, char in enumerate(text):
        if char == "{" and (text[i + 1:i + 2] or then[:1]) in ("{", "%", "#"):
            out.append("{{ '{' }}")
        elif char == "\r":
            out.append("{{ '\\r' }}")
        else:
            out.append(char)
    return "".join(out)


def keep_last_newline(source: str) -> str:
    """Jinja drops one trailing newline of a template; a text that ends in one gets a spare."""
    return source + "\n" if source.endswith("\n") else source


def jinja_body(pieces: Sequence[Piece], names: Mapping[str, str]) -> str:
    """Jinja source for literal runs and placeholders (each renamed through `names`)."""
    parts, literal = [], ""
    for piece in pieces:  # literal runs are escaped whole: str.format splits them at `{{`
        literal += piece.text
        if piece.field is not None:
            placeholder = "{{ " + names.get(piece.field, piece.field) + " }}"
            parts += [jinja_literal(literal, placeholder), placeholder]
            literal = ""
    parts.append(jinja_literal(literal))
    return keep_last_newline("".join(parts))


def format_pieces(text: str, where: str) -> list[Piece]:
    """A Python str.format template (FastChat, arena-hard, prometheus-eval) as pieces; `{{` and
    `}}` are literal braces there."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as err:
        raise InputError(f"{where}: not a format string ({err})") from None
    pieces = []
    for literal, field, spec, conversion in parsed:
        if field is not None and (spec or conversion or not field.isidentifier()):
            raise InputError(f"{where}: placeholder {{{field}}} uses formatting a template "
                             "cannot reproduce")
        pieces.append(Piece(literal, field))
    return pieces


def replace_pieces(text: str, known: re.Pattern[str]) -> list[Piece]:
    """A text whose placeholders are `{name}` matches of `known` and every other brace is literal
    (alpaca_eval fills its prompts by string replacement, not str.format)."""
    pieces, start = [], 0
    for match in known.finditer(text):
        pieces.append(Piece(text[start:match.start()], match.group(1)))
        start = match.end()
    pieces.append(Piece(text[start:], None))
    return pieces


def fields(pieces: Sequence[Piece], names: Mapping[str, str]) -> list[str]:
    """The variables the pieces use, renamed, in order of first use."""
    return list(dict.fromkeys(names.get(p.field, p.field) for p in pieces if p.field))


def yaml_value(value: Any, inner: bool = False) -> str:
    """One header value on one line (flow style); `inner`: inside a flow mapping or list."""
    if isinstance(value, str):
        return yaml_string(value, inner)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{yaml_value(str(k), True)}: {yaml_value(v, True)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_value(v, True) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def yaml_string(text: str, inner: bool) -> str:
    risky = "\n" in text or "\r" in text or "#}" in text or not text.isprintable()
    # dumped as a one-item flow list when inner, so YAML quotes what a flow context needs
    dumped = yaml.safe_dump([text] if inner else text, default_style='"' if risky else None,
                            default_flow_style=True, width=float("inf"), allow_unicode=True)
    dumped = dumped.removesuffix("\n").removesuffix("\n...").removesuffix("\n")
    if inner:
        dumped = dumped.removeprefix("[").removesuffix("]")
    # inside a double-quoted string, `}` may be written as an escape: the header's Jinja
    # comment must not see `#}` before its end
    return dumped.replace("#}", "#\\x7D")


def template_text(header: Mapping[str, Any], body: str, comments: Sequence[str]) -> str:
    """The .j2 file: `{#- judge-template` header (comments first, then the fields), the body."""
    lines = ["{#- judge-template"]
    lines += [f"# {line}".replace("#}", "# }") for line in comments]
    for key in ORDER:
        if key not in header or header[key] in (None, [], {}):
            continue
        value = header[key]
        if key == "examples":
            lines.append("examples:")
            lines += [f"  - {yaml_value(example)}" for example in value]
        else:
            lines.append(f"{key}: {yaml_value(value)}")
    lines.append("-#}")
    return "\n".join(lines) + "\n" + body
