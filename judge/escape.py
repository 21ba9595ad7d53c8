"""Model text is data: how every writer shows it in its format, in one place.

    md_text      Markdown (report.md, leaderboard.md, sweep.md, the card): HTML escaped and every
                 character Markdown reads as syntax backslash-escaped, so no tag, link, image,
                 emphasis or table cell break can come from data; one line.
    meta_text    a value of the card's YAML front matter: one line, no control characters, HTML
                 escaped (the front matter itself is written by yaml's safe dumper, which quotes)
    csv_cell     a CSV cell: a text starting with = + - @ or a tab/CR, which a spreadsheet would run
                 as a formula, gets a leading apostrophe (OWASP's advice); numbers stay numbers
    term_text    the terminal: control characters and escape sequences removed (no colour, cursor
                 or title tricks), tabs and newlines as spaces
    rich_text    term_text for a string that rich will parse as markup: its `[...]` escaped
    term_cell    term_text as a rich Text (a table cell or title: never markup, never emoji)
HTML is escaped by the report's sandbox itself (autoescape; judge/report/markup.py).
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

from rich.markup import escape
from rich.text import Text

# ESC-introduced sequences (CSI, OSC, and two-character ones), then any other C0/C1 control
ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()|~])")
# what opens a block at the start of a line: an ordered or bullet list item, a heading, a quote,
# a setext underline or a thematic break (`*` and `_` are escaped everywhere already)
LINE_START = re.compile(r"^(\d+)([.)])(?=\s|$)|^([#+])(?=\s|$)|^(-)(?=[\s-]|$)|^([>=])")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def term_text(text: Any) -> str:
    """Text safe to print on a terminal: no escape sequences, no control characters."""
    flat = ANSI.sub("", str(text)).replace("\t", " ").replace("\r\n", " ").replace("\n", " ")
    return CONTROL.sub("", flat.replace("\r", " "))


def rich_text(text: Any) -> str:
    """term_text for a string rich parses as markup (a table cell, a title): `[` escaped."""
    return escape(term_text(text))


def term_cell(text: Any) -> Any:
    """A rich Text of term_text: what a terminal table shows of data (never parsed as markup or
    emoji codes: `[red]` and `:fire:` stay as typed)."""
    return Text(term_text(text))


def md_text(text: Any) -> str:
    """Text that Markdown shows as it is, on one line: no markup, no HTML, no cell break.

    HTML is escaped (so `<script>`, `<img>`, an autolink `<javascript:...>` and an entity are
    text); the characters that open inline syntax (links, images, code, emphasis, cells) are
    backslash-escaped anywhere, those that open a block (heading, quote, list) at the start."""
    flat = " ".join(term_text(text).split())
    escaped = MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(flat, quote=False))
    return LINE_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[0]}", escaped)


def meta_text(text: Any) -> str:
    """A value for the card's YAML metadata: one line, no control characters, no HTML."""
    return html.escape(" ".join(term_text(text).split()), quote=False)


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as data: formula-looking texts get a leading apostrophe. A
    text that is just a number (a prompt id "-3") is left alone: no formula can hide in it."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    try:
        if math.isfinite(float(value)):
            return value
    except ValueError:
        pass
    return "'" + value
