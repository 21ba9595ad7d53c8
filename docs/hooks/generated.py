"""What the docs site generates when it is built (a mkdocs hook, named in mkdocs.yml).

- `reference/schemas/<name>.schema.json`: the JSON Schema of each file judge writes, from the
  pydantic record that writes and reads it, and `<!-- generated: fields NAME -->` in a page
  becomes a table of that record's fields (nested records below it).
- `example/`: the committed example run (results/example/) as static files, and
  `<!-- generated: include PATH -->` in a page becomes that file's text (front matter dropped).
- the home page: `<!-- generated: front README.md -->` is the README, its links into the site.

    .venv/bin/mkdocs build --strict      # or: make docs
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "results" / "example"
EXAMPLE_FILES = ("report.png", "winrate.png", "judge_eval.png", "report.html", "summary.json",
                 "verdicts.csv", "demo.json")

# file name in the site -> (module, record): every record here imports without torch or vLLM
SCHEMAS = {
    "summary": ("judge.runs.summary", "Summary"),
    "run": ("judge.runs.folder", "RunRecord"),
    "judgment": ("judge.records", "Judgment"),
    "generation": ("judge.records", "Generation"),
    "prompt": ("judge.records", "PromptItem"),
    "control-pair": ("judge.pipeline.controls", "ControlPair"),
    "leaderboard": ("judge.stats.leaderboard", "Leaderboard"),
    "sweep": ("judge.stats.sweep", "Sweep"),
    "agreement": ("judge.stats.agreement", "AgreementRun"),
}

AUTOREF = re.compile(r'<autoref [^>]*identifier="([^"]*)"[^>]*>(.*?)</autoref>')
MARKER = re.compile(r"<!-- generated: (fields|include|front) (\S+) -->")
# the README's links, from the repository's root to the site's pages (most specific first)
FRONT_LINKS = (
    ("](results/example/README.md)", "](example/index.md#the-model-cards-section)"),
    ("](results/example/)", "](example/index.md)"),
    ("](results/example/", "](example/"),
    ("[`docs/`](docs/)", "`docs/`"),
    ("](docs/", "]("),
    ("[CHANGELOG.md](CHANGELOG.md)", "`CHANGELOG.md`, in the repository"),
)


def schema(name: str) -> dict[str, Any]:
    """One record's JSON Schema, as pydantic derives it (aliases: `schema`, not `schema_`)."""
    module, record = SCHEMAS[name]
    schema: dict[str, Any] = getattr(importlib.import_module(module), record).model_json_schema()
    return schema


def schema_text(name: str) -> str:
    return json.dumps(schema(name), indent=2, ensure_ascii=False) + "\n"


def on_files(files: Files, config: Any) -> Files:
    for name in SCHEMAS:
        files.append(File.generated(config, f"reference/schemas/{name}.schema.json",
                                    content=schema_text(name)))
    for name in EXAMPLE_FILES:
        files.append(File.generated(config, f"example/{name}", abs_src_path=str(EXAMPLE / name)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    def replace(match: re.Match[str]) -> str:
        kind, arg = match.groups()
        if kind == "front":
            return front(arg)
        return fields_table(arg) if kind == "fields" else include(arg)
    return MARKER.sub(replace, markdown)


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    """Help texts are not Markdown: `ORG/NAME[:CONFIG][@SPLIT]` is text, not a link to resolve;
    and an option without a default has none (mkdocs-click prints click's `Sentinel.UNSET`)."""
    if page.file.src_uri != "reference/cli.md":
        return html
    html = html.replace("<td><code>Sentinel.UNSET</code></td>", "<td></td>")
    return AUTOREF.sub(lambda m: f"[{m.group(2)}][{m.group(1)}]", html)


def front(path: str) -> str:
    """The README as the site's home page: the same text, its links pointing into the site."""
    text = (ROOT / path).read_text(encoding="utf-8")
    for old, new in FRONT_LINKS:
        text = text.replace(old, new)
    return text


def include(path: str) -> str:
    text = (ROOT / path).read_text(encoding="utf-8")
    if text.startswith("---\n"):  # a model card's YAML front matter is for the hub, not the page
        text = text.split("\n---\n", 1)[1]
    return "\n".join(demote(text.split("\n")))


def demote(lines: list[str]) -> list[str]:
    """Headings two levels down (outside code fences), so an included file nests under its own."""
    fenced = False
    out = []
    for line in lines:
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        out.append("##" + line if not fenced and re.match(r"#{1,4} ", line) else line)
    return out


def type_of(fragment: dict[str, Any]) -> str:
    """A schema fragment in words: `number`, `list of Interval`, `PairwiseStats or null`."""
    if "$ref" in fragment:
        name = fragment["$ref"].rsplit("/", 1)[1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in fragment:
        return " or ".join(type_of(part) for part in fragment["anyOf"])
    if "const" in fragment:
        return f"`{json.dumps(fragment['const'])}`"
    if "enum" in fragment:
        return " \\| ".join(f"`{json.dumps(value)}`" for value in fragment["enum"])
    kind = fragment.get("type", "any")
    if kind == "array":
        return f"list of {type_of(fragment.get('items', {}))}"
    if kind == "object" and isinstance(fragment.get("additionalProperties"), dict):
        return f"map of text to {type_of(fragment['additionalProperties'])}"
    return str(kind)


def one_table(title: str, spec: dict[str, Any], level: str) -> list[str]:
    lines = [f"{level} {title}", ""]
    if spec.get("description"):
        lines += [" ".join(spec["description"].split()), ""]
    required = set(spec.get("required", []))
    lines += ["| field | type | required |", "|---|---|---|"]
    for field, fragment in spec.get("properties", {}).items():
        lines.append(f"| `{field}` | {type_of(fragment)} | {'yes' if field in required else ''} |")
    return [*lines, ""]


def fields_table(name: str) -> str:
    """The record's fields, then every record nested in it, each a table with its own anchor."""
    spec = schema(name)
    _, record = SCHEMAS[name]
    lines = [f"The JSON Schema: [`{name}.schema.json`](schemas/{name}.schema.json).", ""]
    lines += one_table(record, spec, "###")
    for nested, nested_spec in sorted(spec.get("$defs", {}).items()):
        lines += one_table(nested, nested_spec, "####")
    return "\n".join(lines)
