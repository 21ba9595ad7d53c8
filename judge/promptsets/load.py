"""Prompt sets: the built-in set, local files (JSONL, JSON, CSV, Parquet) or a `datasets` hub id.

Columns follow AlpacaEval's, MT-Bench's and arena-hard's habits: `prompt` or `instruction` (or any
column named with --prompt-column), optional `prompt_id` (or `question_id`, or arena-hard v2's
`uid`; else the row number), `category` (or AlpacaEval's `dataset`), `reference` (text, or
MT-Bench's list of one reference answer per turn), and `turns` (a list of user messages, as texts
or as arena-hard's {"content": ...} objects: a multi-turn conversation).
A hub id may carry a config and a split: `tatsu-lab/alpaca_eval:alpaca_eval@eval`.
"""

from __future__ import annotations

import re
from pathlib import Path

from judge.errors import InputError, first_line, hub_failure
from judge.files import check_regular, meant_local, read_json, read_jsonl
from judge.records import PromptItem
from judge.resources import resource
from judge.stats.categories import check_categories

BUILTIN = resource("judge.promptsets", "builtin.jsonl")
HUB_SET = re.compile(
    r"^(?P<repo>[\w.-]+/[\w.-]+)(?::(?P<config>[\w.-]+))?(?:@(?P<split>[\w.-]+))?$"
)
SUFFIXES = {".jsonl", ".json", ".csv", ".parquet"}


def read_rows(path: Path, what: str = "prompt file") -> list[dict]:
    """The rows of a local file, through judge's guarded reader (judge/files.py): regular files
    only, JSON Lines with the line of any broken record named and a torn last line dropped with a
    warning, as every JSONL judge reads. A JSON file is a list of rows, or an object holding one
    under `data` or `rows`."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return read_jsonl(path, what)[0]
    if suffix == ".json":
        data = read_json(path, what)
        if isinstance(data, dict):
            data = data.get("data", data.get("rows", []))
        if not isinstance(data, list):
            raise InputError(f"{what} {path}: expected a JSON list of rows (or an object with "
                             f"one under 'data' or 'rows'), found a {type(data).__name__}")
        return data
    check_regular(path, what)
    try:
        import pyarrow.csv
        import pyarrow.parquet

        table = pyarrow.csv.read_csv(path) if suffix == ".csv" else pyarrow.parquet.read_table(path)
        return table.to_pylist()
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise InputError(f"{what} {path}: cannot read it ({first_line(err)})") from None


def read_hub(spec: str) -> list[dict]:
    match = HUB_SET.match(spec)
    assert match is not None
    import datasets

    try:
        ds = datasets.load_dataset(
            match["repo"], match["config"], split=match["split"] or "train"
        )
    except Exception as err:  # datasets raises many types; offline is the common one
        raise hub_failure(err, f"prompt set '{spec}' could not be loaded from the hub") from None
    return list(ds)


def to_items(rows: list[dict], column: str | None, origin: str) -> list[PromptItem]:
    if not rows:
        raise InputError(f"prompt set {origin} is empty")
    if not all(isinstance(row, dict) for row in rows):
        raise InputError(f"prompt set {origin}: every row must be an object with named columns")
    names = [column] if column else ["prompt", "instruction", "turns"]
    found = next((name for name in names if name in rows[0]), None)
    if found is None:
        raise InputError(
            f"prompt set {origin} has no column {' or '.join(repr(n) for n in names)} "
            f"(columns: {', '.join(map(str, rows[0]))}); pick one with --prompt-column"
        )
    categories = [row.get("category", row.get("dataset")) for row in rows]
    check_categories(categories, f"prompt set {origin}")
    items, seen = [], set()
    for number, (row, category) in enumerate(zip(rows, categories, strict=True)):
        where = f"prompt set {origin}: row {number + 1}"
        text = row.get(found)
        turns = turn_texts(row["turns"], where) if row.get("turns") is not None else None
        if found == "turns" and turns:
            text = turns[0]
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{where} has no text in '{found}'")
        prompt_id = str(row.get("prompt_id", row.get("question_id", row.get("uid", number))))
        if prompt_id in seen:
            raise InputError(f"prompt set {origin}: duplicate prompt_id '{prompt_id}'")
        seen.add(prompt_id)
        items.append(
            PromptItem(
                prompt_id=prompt_id,
                prompt=text,
                category=str(category) if category is not None else None,
                reference=reference_text(row.get("reference"), where),
                turns=list(turns) if isinstance(turns, list) and len(turns) > 1 else None,
                references=turn_references(row, where),
            )
        )
    return items


def turn_texts(turns: object, where: str) -> list[str]:
    """User turns as texts: MT-Bench writes them as strings, arena-hard as {"content": text}."""
    if isinstance(turns, list):
        texts = [t.get("content") if isinstance(t, dict) else t for t in turns]
        if texts and all(isinstance(t, str) and t for t in texts):
            return texts  # type: ignore[return-value]
    raise InputError(f"{where}: 'turns' must be a non-empty list of texts (or of objects with a "
                     "'content' text)")


def reference_text(reference: object, where: str) -> str | None:
    """One reference text. MT-Bench gives one reference answer per turn; a multi-turn answer is
    judged as a whole, so they are joined turn by turn, the way the answers are shown."""
    if reference is None or isinstance(reference, str):
        return reference
    if isinstance(reference, list) and all(isinstance(r, str) for r in reference):
        if len(reference) == 1:
            return reference[0]
        return "\n\n".join(f"[Turn {n}] {text}" for n, text in enumerate(reference, start=1))
    if isinstance(reference, (int, float)) and not isinstance(reference, bool):
        return str(reference)
    raise InputError(f"{where}: 'reference' must be a text or a list of texts (one per turn)")


def turn_references(row: dict, where: str) -> list[str] | None:
    """MT-Bench's reference answers one per turn (a list `reference`, or the `references` a run's
    prompts.jsonl writes back), for grading each turn against its own; None without a list."""
    given = row.get("references", row.get("reference"))
    if not isinstance(given, list) or not given:
        return None
    if not all(isinstance(r, str) for r in given):
        raise InputError(f"{where}: 'reference' must be a text or a list of texts (one per turn)")
    return list(given)


def load_prompts(
    source: str, column: str | None = None, limit: int | None = None
) -> list[PromptItem]:
    """Load, validate and cut a prompt set. `source` is 'builtin', a file path or a hub id."""
    if limit is not None and limit < 1:
        raise InputError(f"--limit must be a positive number of prompts, not {limit}")
    path = Path(source)
    if source == "builtin":
        rows, origin = read_rows(BUILTIN), "builtin"
    elif path.exists():
        if path.suffix.lower() not in SUFFIXES:
            raise InputError(f"prompt file {path}: use .jsonl, .json, .csv or .parquet")
        rows, origin = read_rows(path), str(path)
    elif meant_local(source, tuple(SUFFIXES)):
        raise InputError(f"prompt set '{source}' is neither 'builtin', a file, nor a hub id: "
                         "no such file here (a path, not a hub id)")
    elif HUB_SET.match(source):
        rows, origin = read_hub(source), source
    else:
        raise InputError(f"prompt set '{source}' is neither 'builtin', a file, nor a hub id")
    items = to_items(rows, column, origin)
    return items[:limit] if limit else items
