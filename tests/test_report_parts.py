"""The pieces of the report: model text made safe, prompt anchors, the plots' words and their
zero-width intervals, and `--format csv|markdown` of `judge stats` and `judge agreement`."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from click.testing import CliRunner
from helpers import judge_cli, write_jsonl
from hypothesis import given
from hypothesis import strategies as st
from scenes import TABLE

from judge.cli.main import cli
from judge.report.evidence import anchor
from judge.report.format import plot_title
from judge.report.markup import markdown_html
from judge.runs.summary import PairwiseStats

TAGS = {"p", "pre", "code", "ul", "ol", "li", "strong", "em"}


@pytest.mark.parametrize("text, html", [
    ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
    ('<img src=x onerror="go()">', "<p>&lt;img src=x onerror=&quot;go()&quot;&gt;</p>"),
    ("[a link](javascript:go())", "<p>[a link](javascript:go())</p>"),  # no links at all
    ("![img](http://example.com/x.png)", "<p>![img](http://example.com/x.png)</p>"),
    ("**bold** and *it* and `<b>`", "<p><strong>bold</strong> and <em>it</em> and "
                                    "<code>&lt;b&gt;</code></p>"),
    ("snake_case_name and 2*3*4", "<p>snake_case_name and 2*3*4</p>"),
    ("window.__x = 1; window.__y", "<p>window.__x = 1; window.__y</p>"),
    ("- one\n- two\n  more\n\n1. first\n2) second",
     "<ul><li>one</li><li>two\nmore</li></ul>\n<ol><li>first</li><li>second</li></ol>"),
    ("```python\nprint('<b>')\n```\nafter", "<pre><code>print(&#x27;&lt;b&gt;&#x27;)</code></pre>"
                                           "\n<p>after</p>"),
    ("```\nnever closed <i>", "<pre><code>never closed &lt;i&gt;</code></pre>"),
    ("# Title <x>\ntext", '<p class="md-heading">Title &lt;x&gt;</p>\n<p>text</p>'),
    ("line one\n    indented", "<p>line one\n    indented</p>"),
])
def test_markdown_subset_on_escaped_text(text, html):
    assert markdown_html(text) == html


@given(st.text(alphabet=st.sampled_from(list("<>&\"'`*_-#~ \n\tab1.)[]()=/")), max_size=80))
def test_no_tag_but_ours_comes_out_of_any_text(text):
    html = str(markdown_html(text))
    tags = re.findall(r"</?([a-z]+)", html)
    assert set(tags) <= TAGS
    ours = re.compile(r"</?(?:" + "|".join(TAGS) + r")(?: class=\"md-heading\")?>")
    assert "<" not in ours.sub("", html)  # every other < is escaped


@given(st.text(max_size=30))
def test_anchors_are_safe_and_tell_ids_apart(prompt_id):
    made = anchor(prompt_id)
    assert made.startswith("prompt-") and all(c.isascii() and (c.isalnum() or c in "-_.")
                                              for c in made)
    assert anchor(prompt_id + "!") != made and anchor(prompt_id + " ") != made


def test_readable_ids_are_kept():
    assert anchor("q12") == "prompt-q12" and anchor("alpaca-3.b_2") == "prompt-alpaca-3.b_2"
    assert anchor("a b") != anchor("a-b") and anchor("a b").startswith("prompt-a-b-")


def pairwise(low: float, high: float, n_invalid: int = 0) -> PairwiseStats:
    interval = {"method": "paired_bootstrap", "level": 0.95, "low": low, "high": high,
                "resamples": 200, "seed": 0}
    return PairwiseStats.model_validate({
        "n": 24, "n_invalid": n_invalid, "wins": 0, "losses": 0, "ties": 24, "win_rate": 0.5,
        "standard_error": 0.0, "discrete_win_rate": 0.5,
        "ci": {"method": "wilson", "level": 0.95, "low": 0.314, "high": 0.686},
        "ci_bootstrap": interval, "soft_win_rate": None, "p_value": 1.0,
        "position_consistency": 0.0, "first_position_rate": 1.0, "lc_win_rate": None,
        "lc_model": None, "warnings": []})


def test_the_plot_says_what_it_shows_and_marks_a_zero_width_interval():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from judge.report.plots import draw_winrate

    # every prompt a tie, as with a judge that always picks the first answer: the bootstrap
    # interval is [50%, 50%]
    pw = pairwise(0.5, 0.5, n_invalid=2)
    title = plot_title("tuned", "base$", "smollm2", "pairwise", pw)
    assert title == ("tuned vs base$\njudge smollm2, template pairwise, n = 24 prompts in both "
                     "orders, 2 invalid verdicts left out")
    fig, ax = plt.subplots()
    draw_winrate(ax, pw, title)
    assert fig._suptitle.get_text() == title.replace("$", r"\$")  # a name is not mathtext
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["prompts won,\nties count half,\n95% interval", "win rate,\n95% interval"]
    notes = [t.get_text() for t in ax.texts]
    assert notes[0].startswith("50.0%: zero-width interval,\nevery prompt scored alike")
    assert notes[1] == "50.0%  (31.4% – 68.6%)"
    diamonds = [line for line in ax.lines if line.get_marker() == "D"]
    assert len(diamonds) == 1 and list(diamonds[0].get_ydata()) == [1]  # the top row
    plt.close(fig)
    fig, ax = plt.subplots()
    draw_winrate(ax, pairwise(0.4, 0.6), title)
    assert not [line for line in ax.lines if line.get_marker() == "D"]
    plt.close(fig)


def test_the_card_plot_has_the_run_plot_s_title(tmp_path):
    import matplotlib.pyplot as plt

    from judge.card.write import card_figure

    pw = pairwise(0.5, 0.5)
    context = {"pairwise": pw.model_dump(), "benchmarks": [], "tuned": "tuned", "base": "base",
               "judge": "smollm2", "template": "pairwise"}
    fig = card_figure(context)
    assert fig._suptitle.get_text() == plot_title("tuned", "base", "smollm2", "pairwise", pw)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][1] == "win rate,\n95% interval"
    plt.close(fig)


def lines_file(tmp_path):
    path = tmp_path / "lines.jsonl"
    rows = [{"prompt_id": f"p{i}", "winner": w, "category": "a|b" if i < 2 else "<c>"}
            for i, w in enumerate(["tuned", "base", "tie", "tuned"])]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_stats_as_csv_is_every_number_of_the_json(tmp_path):
    path = lines_file(tmp_path)
    runner = CliRunner()
    as_json = json.loads(runner.invoke(cli, ["stats", str(path), "--json"]).output)
    done = runner.invoke(cli, ["stats", str(path), "--format", "csv"])
    assert done.exit_code == 0, done.output
    rows = list(csv.reader(io.StringIO(done.output)))
    assert rows[0] == ["field", "value"]
    fields = dict(rows[1:])
    # 4 items: 2 wins, 1 tie, 1 loss -> (2 + 0.5) / 4
    assert float(fields["win_rate"]) == as_json["win_rate"] == 0.625
    assert float(fields["ci.low"]) == as_json["ci"]["low"]
    assert fields["format"] == "judge" and fields["wins"] == "2"
    assert float(fields["by_category.a|b.win_rate"]) == as_json["by_category"]["a|b"]["win_rate"]


def test_stats_as_markdown_escapes_the_data(tmp_path):
    done = CliRunner().invoke(cli, ["stats", str(lines_file(tmp_path)), "--format", "markdown"])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[2:4] == ["| measure | value |", "|---|---|"]
    assert "| wins / ties / losses | 2 / 1 / 1 |" in lines
    category = [line for line in lines if line.startswith("| category a")]
    assert category and category[0].startswith("| category a\\|b | ")
    assert category[0].count(" | ") == 1  # the pipe in the name does not open a cell
    assert any(line.startswith("| category &lt;c&gt; |") for line in lines)


def test_battles_as_csv_one_row_per_model(tmp_path):
    path = tmp_path / "battles.jsonl"
    rows = [{"prompt_id": f"b{i}", "model_a": a, "model_b": b, "winner": w} for i, (a, b, w) in
            enumerate([("x", "y", "model_b"), ("x", "y", "model_a"), ("y", "z", "model_b"),
                       ("x", "z", "tie")])]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    runner = CliRunner()
    args = ["stats", str(path), "--baseline", "x", "--bootstrap", "200"]
    as_json = json.loads(runner.invoke(cli, [*args, "--json"]).output)
    table = list(csv.DictReader(io.StringIO(runner.invoke(cli, [*args, "--format", "csv"])
                                            .output)))
    assert [r["model"] for r in table] == list(as_json["models"])
    for row in table:
        assert float(row["elo"]) == as_json["models"][row["model"]]["elo"]
        assert float(row["ci.high"]) == as_json["models"][row["model"]]["ci"]["high"]


def test_agreement_as_csv_and_markdown(tmp_path):
    rows = [{"id": int(i), "label": a, "verdict": v, "verdict_swapped": w} for i, a, v, w in TABLE]
    path = write_jsonl(tmp_path / "verdicts.jsonl", rows)
    runner = CliRunner()
    as_json = json.loads(runner.invoke(cli, ["agreement", str(path), "--json"]).output)
    fields = dict(list(csv.reader(io.StringIO(
        runner.invoke(cli, ["agreement", str(path), "--format", "csv"]).output)))[1:])
    assert float(fields["accuracy"]) == as_json["accuracy"]
    assert float(fields["intervals.accuracy.low"]) == as_json["intervals"]["accuracy"]["low"]
    shown = runner.invoke(cli, ["agreement", str(path), "--format", "markdown"]).output
    assert ("| Cohen's kappa, original / swapped | 0.280 / 0.429; valid pairs only 0.375 / "
            "0.333 |") in shown


def test_json_and_format_together_are_one_line_exit_2(tmp_path):
    done = judge_cli("stats", str(lines_file(tmp_path)), "--json", "--format", "csv")
    assert done.error_line(2) == ("judge: error: --json and --format csv ask for two outputs; "
                                  "give one")
    assert done.stdout == ""
