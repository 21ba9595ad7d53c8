"""`judge card`: the eval section and model-index written into a card, in place and idempotently.

The run folder is built here from real records (Generation, Judgment), real statistics (summarize)
and real benchmark comparison (compare_bench); no model is loaded.

    pytest tests/test_card.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import judge_cli
from huggingface_hub import ModelCard
from scenes import make_run

from judge.card.write import END, PLOT_NAME, START, pct, pp, render_card, write_card
from judge.cli.main import cli
from judge.errors import InputError


@pytest.fixture
def run_dir(tmp_path) -> Path:
    return make_run(tmp_path)


def body_of(text: str) -> str:
    return text.split("\n---\n", 1)[1]


def test_card_from_scratch_shows_the_numbers(run_dir, tmp_path):
    card = tmp_path / "out" / "README.md"
    write_card(run_dir, card)
    text = card.read_text()
    summary = json.loads((run_dir / "summary.json").read_text())
    pw, bench = summary["pairwise"], summary["benchmarks"]["judge_mcq"]
    assert text.count(START) == 1 and text.count(END) == 1
    for shown in (pct(pw["win_rate"]), f"{pw['wins']} / {pw['ties']} / {pw['losses']}",
                  pct(pw["ci"]["low"]), pct(pw["position_consistency"]), "`smollm2`",
                  "`pairwise`", pp(bench["delta"]), f"]({PLOT_NAME})", "org/base-model"):
        assert shown in text, shown
    assert "/home/me" not in text and str(tmp_path) not in text  # local paths stay local
    # examples: prompts whose answers differ come first; fences survive backticks in answers
    assert "tuned answer to p1" in text and "same answer to p0" not in text
    assert "````text\nbase answer to p1 ```x```\n````" in text
    assert (card.parent / PLOT_NAME).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_model_index_parses_back_with_model_card_load(run_dir, tmp_path):
    card = tmp_path / "README.md"
    write_card(run_dir, card)
    summary = json.loads((run_dir / "summary.json").read_text())
    data = ModelCard.load(card).data
    values = {r.metric_type: r.metric_value for r in data.eval_results}
    assert values == {"win_rate": round(summary["pairwise"]["win_rate"], 4),
                      "acc": summary["benchmarks"]["judge_mcq"]["tuned"]}
    assert data.model_name == "tuned-model"
    assert data.base_model == "org/base-model"


def test_second_run_changes_no_byte(run_dir, tmp_path):
    card = tmp_path / "README.md"
    write_card(run_dir, card)
    first = card.read_bytes(), (tmp_path / PLOT_NAME).read_bytes()
    write_card(run_dir, card)
    assert (card.read_bytes(), (tmp_path / PLOT_NAME).read_bytes()) == first


USER_CARD = (
    "---\nlicense: apache-2.0\ntags:\n- my-tag\nmodel-index:\n- name: my-model\n  results:\n"
    "  - task:\n      type: text-generation\n    dataset:\n      name: Other Bench\n"
    "      type: other/bench\n    metrics:\n    - type: accuracy\n      value: 0.42\n---\n"
    "# My model\r\n\r\nIntro with <!-- a comment of mine --> kept.  \r\n\r\n## Evaluation\n"
    "Text of mine inside the section.\n" + START + "\nstale numbers\n" + END +
    "\nMore of my text right after.\n\n## Limitations\nTrailing spaces   \nno final newline"
)


def test_update_keeps_every_byte_outside_the_markers(run_dir, tmp_path):
    card = tmp_path / "README.md"
    card.write_bytes(USER_CARD.encode())
    write_card(run_dir, card)
    old, new = body_of(USER_CARD), body_of(card.read_bytes().decode())
    assert new.startswith(old[: old.index(START)])
    assert new.endswith(old[old.index(END) :])
    assert "stale numbers" not in new
    data = ModelCard.load(card).data
    assert data.license == "apache-2.0" and data.tags == ["my-tag"]
    assert data.model_name == "my-model"
    kept = [r for r in data.eval_results if r.dataset_type == "other/bench"]
    assert [r.metric_value for r in kept] == [0.42]
    again = card.read_bytes()
    write_card(run_dir, card)
    assert card.read_bytes() == again


def test_section_is_appended_to_a_card_without_markers(run_dir, tmp_path):
    card = tmp_path / "README.md"
    card.write_text("# Title\nWords without a final newline")
    write_card(run_dir, card)
    body = body_of(card.read_text())
    assert body.startswith("# Title\nWords without a final newline\n\n" + START)
    assert body.endswith(END + "\n")


# name -> (card text, what the error line says)
MALFORMED = {
    "unclosed front matter": ("---\nlicense: mit\n# Title\n",
                              "front matter opened with '---' is never closed"),
    "invalid yaml": ("---\nlicense: [mit\n---\n# Title\n",
                     "front matter is not valid YAML (line 3)"),
    "front matter is a list": ("---\n- a\n- b\n---\n# Title\n",
                               "front matter must be a YAML mapping of keys to values"),
    "model-index unreadable": ("---\nmodel-index: 5\n---\n# Title\n",
                               "front matter is not valid card metadata (Invalid `model_index`"),
    "two start markers": (f"# T\n{START}\n{START}\nx\n{END}\n",
                          f"expected one '{START}' followed by one '{END}'; found 2 and 1"),
    "end before start": (f"# T\n{END}\nx\n{START}\n",
                         f"expected one '{START}' followed by one '{END}'; found 1 and 1"),
}


@pytest.mark.parametrize(("text", "message"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_card_is_an_input_error_and_stays_untouched(run_dir, tmp_path, text, message):
    card = tmp_path / "README.md"
    card.write_bytes(text.encode())
    with pytest.raises(InputError, match=re.escape(f"{card}: {message}")):
        write_card(run_dir, card)
    assert card.read_bytes() == text.encode()
    assert not (tmp_path / PLOT_NAME).exists()


def test_malformed_card_exits_2_with_one_line(run_dir, tmp_path):
    card = tmp_path / "README.md"
    card.write_text(MALFORMED["invalid yaml"][0])
    line = judge_cli("card", str(run_dir), "--card", str(card), env={"COLUMNS": "300"}
                     ).error_line(2)
    assert "YAML" in line
    assert card.read_text() == MALFORMED["invalid yaml"][0]


def test_own_template_replaces_the_section(run_dir, tmp_path):
    template = tmp_path / "mine.md.j2"
    template.write_text("win={{ pairwise.win_rate | pct }} tasks={{ benchmarks | length }}\n")
    card = tmp_path / "README.md"
    result = CliRunner().invoke(cli, ["card", str(run_dir), "--card", str(card),
                                      "--template", str(template)])
    assert result.exit_code == 0, result.output
    win = json.loads((run_dir / "summary.json").read_text())["pairwise"]["win_rate"]
    assert f"{START}\nwin={pct(win)} tasks=1\n{END}" in card.read_text()


@pytest.mark.parametrize(("source", "message"), [
    ("{{ no_such_name }}", ": 'no_such_name' is undefined"),
    (f"{START} inside", " must not contain the section markers itself"),
    ("{% if %}", ": line 1: Expected an expression, got 'end of statement block'"),
])
def test_broken_template_is_an_input_error(run_dir, tmp_path, source, message):
    template = tmp_path / "bad.md.j2"
    template.write_text(source)
    with pytest.raises(InputError, match=re.escape(f"card template {template}{message}")):
        render_card(run_dir, tmp_path / "README.md", str(template))


def test_a_folder_that_is_no_run_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="summary.json"):
        write_card(tmp_path, tmp_path / "README.md")
    assert not (tmp_path / "README.md").exists()


def test_card_shows_categories_bias_and_style(run_dir, tmp_path):
    from judge.stats.blocks import blocks_json, line_blocks

    # p0-p2 in a category whose name would break a table cell, p3-p5 in "code"
    rows = [json.loads(x) for x in next((run_dir / "judgments").glob("*.jsonl")).read_text()
            .splitlines()]
    rows = [r | {"category": "a|b" if r["prompt_id"] in ("p0", "p1", "p2") else "code"}
            for r in rows]
    data = blocks_json(line_blocks(rows, resamples=200))
    summary = json.loads((run_dir / "summary.json").read_text())
    summary.update({k: data[k] for k in ("by_category", "bias", "style_control")})
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    card = tmp_path / "README.md"
    write_card(run_dir, card)
    text = card.read_text()
    assert "### By category" in text
    # a|b: p0 tie .5, p1 tuned 1, p2 split .5 -> 66.7%, W/T/L 1/2/0
    assert "| a\\|b | 66.7% |" in text and "| 3 | 1 / 2 / 0 |" in text
    assert "longer answer wins" in text and "style-controlled win rate" in text
