"""Model text is data: hostile prompts, answers, categories and model names in every writer.

A run on two answers files whose texts, categories and model names are markup, links, images,
spreadsheet formulas, terminal escapes and rich markup, judged by the scripted engine (no model
loads): report.md, the card (prose and front matter), verdicts.csv, report.html and the terminal
table show each as text. Plus properties of the escaping functions themselves (judge/escape.py).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from scenes import ScriptedEngine

from judge.engines import EngineOptions
from judge.escape import FORMULA_START, csv_cell, md_text, meta_text, term_text
from judge.pipeline.compare import CompareConfig, run_compare
from judge.report.tables import summary_table
from judge.runs.summary import read_summary

HOSTILE = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[click](javascript:alert(1))",
    "![t](http://tracker.example/t.png)", '=HYPERLINK("http://evil.example","x")',
    "+1+cmd|' /C calc'!A0", "-2+3+cmd", "@SUM(A1:A9)", "\tTAB", "red\x1b[31m\x1b]0;owned\x07text",
    "| a | b |",
    ":fire: [bold red]loud[/bold red]", "# heading\n- item\n> quote", "&#106;avascript:x",
]
NAMES = ("base<script>x</script>", "tuned](javascript:y)")


def answers_file(path: Path, name: str) -> str:
    rows = [{"instruction": text, "output": f"{name} says {HOSTILE[-1 - i]}", "generator": name,
             "dataset": HOSTILE[(i + 3) % len(HOSTILE)]} for i, text in enumerate(HOSTILE)]
    path.write_text(json.dumps(rows))
    return str(path)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("hostile")
    judge = tmp / "judge-model"
    judge.mkdir()
    (judge / "config.json").write_text('{"model_type": "llama"}')
    (judge / "tokenizer.json").write_text("{}")
    config = CompareConfig(
        base=answers_file(tmp / "base.json", NAMES[0]),
        tuned=answers_file(tmp / "tuned.json", NAMES[1]), judge=str(judge), controls=0,
        out=str(tmp / "run"), cache_dir=str(tmp / "cache"), card=str(tmp / "card" / "README.md"),
        engine=EngineOptions(kind="hf"), bootstrap=200)
    run_compare(config, lambda name, total: lambda done, tokens: None,
                lambda model, options: ScriptedEngine(model, replies={"": "A"}))
    return tmp


def outside_fences(text: str) -> str:
    """Markdown with its fenced code blocks cut out (what is inside one is shown as code)."""
    return re.sub(r"^(`{3,})[^\n]*\n.*?^\1\s*$", "", text, flags=re.DOTALL | re.MULTILINE)


def assert_inert_markdown(text: str) -> None:
    for bad in ("<script", "<img", "](javascript", "](http", "![", "\x1b", "&#106;"):
        assert bad not in text, (bad, text[text.find(bad) - 80: text.find(bad) + 80])


def test_report_md_shows_every_hostile_text_as_text(run):
    text = (run / "run" / "report.md").read_text()
    assert_inert_markdown(text)
    assert md_text(HOSTILE[0]) in text  # the prompt is there, escaped


def test_the_card_prose_and_front_matter_are_inert(run):
    card = (run / "card" / "README.md").read_text()
    _, front, body = card.split("---\n", 2)
    ours = "![Win rate with its intervals](judge_eval.png)"  # the card's own plot
    assert_inert_markdown(outside_fences(body).replace(ours, ""))
    meta = yaml.safe_load(front)
    values = json.dumps(meta)
    assert "<script" not in values and "\\u001b" not in values
    assert "base_model" not in meta  # an answers file's model name is no hub id


def test_verdicts_csv_cells_cannot_be_formulas(run):
    rows = list(csv.reader(io.StringIO((run / "run" / "verdicts.csv").read_text())))
    cells = [cell for row in rows for cell in row]
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)  # the category, neutralised
    for cell in cells:
        if cell.startswith(FORMULA_START):
            float(cell)  # only a plain number may start like a formula


def test_report_html_escapes_every_hostile_text(run):
    page = (run / "run" / "report.html").read_text()
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)" in page


def test_the_terminal_table_is_plain_text(run):
    summary = read_summary(json.loads((run / "run" / "summary.json").read_text()), "summary")
    out = io.StringIO()
    Console(file=out, width=300, force_terminal=True, color_system="truecolor").print(
        summary_table(summary))
    shown = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())  # rich's own styling
    assert "\x1b" not in shown and "\x07" not in shown
    assert ":fire:" in shown and "🔥" not in shown  # no emoji codes, no markup from data
    assert "[bold red]loud[/bold red]" in shown


# --- the escaping functions, for any text ---------------------------------------------------

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=80) | st.sampled_from(HOSTILE)


@settings(max_examples=300, derandomize=True, database=None)
@given(text=TEXT)
def test_md_text_never_makes_markup(text):
    shown = md_text(text)
    assert "\n" not in shown and "<" not in shown and ">" not in shown
    # every character that opens inline syntax is escaped
    assert not re.search(r"(?<!\\)(?:\\\\)*[\[\]()`*_|~]", shown.replace("\\\\", ""))
    assert not re.match(r"(\d+[.)]|[#+>=-])(\s|$)", shown)


@settings(max_examples=300, derandomize=True, database=None)
@given(text=TEXT)
def test_terminal_and_metadata_text_hold_no_control_characters(text):
    for shown in (term_text(text), meta_text(text)):
        assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in shown), repr(shown)
    assert "<" not in meta_text(text)


@settings(max_examples=300, derandomize=True, database=None)
@given(value=TEXT | st.floats(allow_nan=False) | st.integers())
def test_csv_cells_never_start_a_formula(value):
    cell = csv_cell(value)
    if isinstance(cell, str) and cell.startswith(FORMULA_START):
        float(cell)
    if not isinstance(value, str):
        assert cell == value
