"""Model text as HTML that shows it and runs nothing.

Every character is escaped first; only then is a small subset of Markdown applied to the escaped
text, by inserting our own tags around it: paragraphs, fenced code, inline code, bullet and
numbered lists, headings (shown as bold lines) and emphasis. There are no links, no images and no
raw HTML, so an answer can neither run code nor make the page load anything.
"""

from __future__ import annotations

import re
from html import escape

from markupsafe import Markup

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
BULLET = re.compile(r"^ {0,3}[-*+][ \t]+(.*)$")
NUMBERED = re.compile(r"^ {0,3}(\d{1,9})[.)][ \t]+(.*)$")
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$")
CODE = re.compile(r"(`+)(.+?)\1")
STRONG = re.compile(r"(?<![\w*])(\*\*|__)(?=[^\s<>])([^<>]+?)(?<=[^\s<>])\1(?![\w*])")
EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=[^\s*_<>])([^<>]+?)(?<=[^\s*_<>])\1(?![\w*])")


def markdown_html(text: str) -> Markup:
    """The safe subset of Markdown as HTML (a Markup string: already escaped)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks: list[str] = []
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if fence:
            mark, body = fence.group(1), []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(mark):
                body.append(lines[i])
                i += 1
            i += 1  # the closing fence; an unclosed fence runs to the end, as in CommonMark
            blocks.append(f"<pre><code>{escape(chr(10).join(body))}</code></pre>")
        elif not lines[i].strip():
            i += 1
        else:
            start = i
            while i < len(lines) and lines[i].strip() and not FENCE.match(lines[i]):
                i += 1
            blocks.extend(block_html(lines[start:i]))
    return Markup("\n".join(blocks))


def block_html(lines: list[str]) -> list[str]:
    """One run of non-blank lines: headings, list items (a list's indented lines continue its
    last item) and paragraph lines, in order."""
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    kind = ""

    def flush() -> None:
        nonlocal kind
        if paragraph:
            out.append("<p>" + "\n".join(inline_html(line) for line in paragraph) + "</p>")
            paragraph.clear()
        if items:
            out.append(f"<{kind}>" + "".join(f"<li>{inline_html(t)}</li>" for t in items)
                       + f"</{kind}>")
            items.clear()
        kind = ""

    for line in lines:
        bullet, numbered, heading = BULLET.match(line), NUMBERED.match(line), HEADING.match(line)
        this = "ul" if bullet else "ol" if numbered else ""
        if heading:
            flush()
            out.append(f'<p class="md-heading">{inline_html(heading.group(1))}</p>')
        elif this:
            if paragraph or kind != this:
                flush()
            kind = this
            items.append(bullet.group(1) if bullet else numbered.group(2))  # type: ignore[union-attr]
        elif items and line[:1] in (" ", "\t"):
            items[-1] += "\n" + line.strip()
        else:
            if items:
                flush()
            paragraph.append(line)
    flush()
    return out


def inline_html(text: str) -> str:
    """One line: escaped, then code spans kept as they are and emphasis applied around them."""
    parts = []
    position = 0
    for span in CODE.finditer(text):
        parts.append(emphasis(escape(text[position : span.start()])))
        parts.append(f"<code>{escape(span.group(2))}</code>")
        position = span.end()
    parts.append(emphasis(escape(text[position:])))
    return "".join(parts)


def emphasis(escaped: str) -> str:
    escaped = STRONG.sub(r"<strong>\2</strong>", escaped)
    return EMPHASIS.sub(r"<em>\2</em>", escaped)
