"""What `--structured` constrains a judge's reply to, so that the template's parser can read it.

A template may declare its grammar in the header (`grammar: {choice: [...]}`, `{regex: ...}` or
`{json: {...}}`, used as written); otherwise one is derived from its labels, with its own parser
as the oracle:

- label-first templates (every label alone is read as itself, and so is a label that opens a
  longer reply) get a choice of their labels: the reply is exactly one label;
- reason-first templates get a regex: free reasoning, then the verdict in the first reply form
  below that the parser reads for every label after a sample reasoning. The reasoning is printable
  ASCII (every token of it is at least one character) without the verdict form's opening
  character (nor digits when the labels are numbers, so no number in it is read as the score),
  and at most as many characters as the judge's token budget leaves after the verdict, so the
  verdict always fits;
- anything else gets none, and its replies stay free (`judge templates check` says why).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from judge.records import Grammar
from judge.templates.template import JudgeTemplate

SAMPLE_REASON = "Both answers address the request; one of them is more accurate and complete."
# (before the reasoning, between reasoning and label, after the label), tried in this order
FORMS: tuple[tuple[str, str, str], ...] = (
    ("", " ", ""),
    ("", " [[", "]]"),
    ("", " [", "]"),
    ("", " [RESULT] ", ""),
    ("<feedback>", "</feedback>\n<score>", "</score>"),
    ("", "\nVerdict: ", ""),
)
ASCII = "\n" + "".join(chr(c) for c in range(32, 127))


class Found(NamedTuple):
    """A template's grammar and how it came about: declared, derived, or none (and why)."""

    grammar: Grammar | None
    how: str  # "declared" | "derived" | "none"
    note: str  # what it is, or why there is none: one phrase for `templates check`


def grammar_for(template: JudgeTemplate, budget: int) -> Found:
    """The grammar a judge with `budget` new tokens is held to under this template."""
    declared = template.spec.grammar
    if declared is not None:
        return Found(declared, "declared", describe(declared))
    labels = template.labels
    if all(template.parse(label) == label for label in labels) and all(
            template.parse(f"{label}. {SAMPLE_REASON}") == label for label in labels):
        grammar = Grammar(choice=labels)
        return Found(grammar, "derived", describe(grammar))
    for form in FORMS:
        if all(template.parse(shown(form, SAMPLE_REASON, label)) == label for label in labels):
            return reason_first(template, form, budget)
    tried = ", ".join(shown(form, "...", "LABEL").strip().replace("\n", "\\n") for form in FORMS)
    return Found(None, "none", "no reply form tried is read by its parser for every label "
                 f"({tried}); declare one with `grammar:`")


def shown(form: tuple[str, str, str], reason: str, label: str) -> str:
    before, middle, after = form
    return f"{before}{reason}{middle}{label}{after}"


def reason_first(template: JudgeTemplate, form: tuple[str, str, str], budget: int) -> Found:
    before, middle, after = form
    labels = template.labels
    verdict = len(before) + len(middle) + max(len(label) for label in labels) + len(after)
    room = budget - verdict - 1  # the end-of-reply token counts too
    if room < 1:
        return Found(None, "none", f"a budget of {budget} tokens leaves no room for reasoning "
                     f"before a {verdict}-character verdict; raise --judge-max-new-tokens")
    opening = middle.strip()[:1]
    excluded = {opening} if opening else set()
    if all(re.fullmatch(r"\d+", label) for label in labels):
        excluded |= set("0123456789")
    reason = char_class(c for c in ASCII if c not in excluded) + f"{{0,{room}}}"
    choices = "|".join(literal(label) for label in sorted(labels, key=len, reverse=True))
    grammar = Grammar(regex=f"{literal(before)}{reason}{literal(middle)}({choices})"
                      f"{literal(after)}")
    example = shown(form, "...", labels[0]).strip()
    return Found(grammar, "derived", f"regex: up to {room} characters of reasoning (at "
                 f"--judge-max-new-tokens {budget}), then the verdict as in {example!r}")


def char_class(chars) -> str:
    """A regex character class of exactly `chars`, as ranges."""
    codes = sorted({ord(c) for c in chars})
    parts, start = [], 0
    for i in range(1, len(codes) + 1):
        if i == len(codes) or codes[i] != codes[i - 1] + 1:
            low, high = codes[start], codes[i - 1]
            parts.append(escape_in_class(low) if low == high else
                         f"{escape_in_class(low)}-{escape_in_class(high)}")
            start = i
    return "[" + "".join(parts) + "]"


def escape_in_class(code: int) -> str:
    char = chr(code)
    if char == "\n":
        return "\\n"
    return "\\" + char if char in "\\]^-[" else char


def literal(text: str) -> str:
    """`text` as a regex that vLLM's grammar backends read (re.escape's `\\ ` they may not)."""
    return "".join("\\n" if c == "\n" else "\\" + c if c in ".^$*+?{}[]\\|()" else c
                   for c in text)


def describe(grammar: Grammar) -> str:
    if grammar.choice is not None:
        return f"choice of {len(grammar.choice)}: {', '.join(grammar.choice)}"
    if grammar.regex is not None:
        return f"regex {grammar.regex}"
    return "json schema"


def grammar_problems(template: JudgeTemplate) -> list[str]:
    """A declared choice must only offer replies the parser reads as a label."""
    declared = template.spec.grammar
    if declared is None or declared.choice is None:
        return []
    return [f"grammar choice {reply!r} is not read as any label by the parser"
            for reply in declared.choice if template.parse(reply) is None]
