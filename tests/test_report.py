"""report.html, verdicts.csv and `judge report`, on run folders the scripted engine builds through
run_compare (exact verdicts), on the run folder judge 0.1.0 wrote, and on a leaderboard. The page
in a real browser: tests/test_report_browser.py. No model is loaded here."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import JUDGE, judge_cli
from scenes import (
    HOSTILE,
    ODD_ID,
    Board,
    Setup,
    alpaca_eval,
    answers_of,
    build_run,
    ref_file,
)
from scenes import REPORT_OUTCOMES as OUTCOMES
from scenes import REPORT_PROMPTS as PROMPTS

from judge.cli.main import cli
from judge.engines import EngineOptions
from judge.errors import InputError
from judge.pipeline.compare import CompareConfig, run_compare
from judge.report.evidence import anchor
from judge.report.export import VERDICT_COLUMNS

OLD = Path(__file__).parent / "data" / "run-0.1.0"


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    return build_run(tmp_path_factory.mktemp("report"))


class Elements(HTMLParser):
    """Every element's tag and attributes, and the page's text, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(path: Path) -> Elements:
    page = Elements()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_every_run_folder_gets_a_page_a_csv_and_its_prompts(run_folder):
    assert {"report.html", "report.md", "winrate.png", "verdicts.csv", "prompts.jsonl",
            "summary.json"} <= {p.name for p in run_folder.iterdir()}
    page = parse(run_folder / "report.html")
    ids = {a["id"]: a for tag, a in page.elements if tag == "article"}
    assert list(ids) == [anchor(pid) for pid, *_ in PROMPTS]
    assert {a["data-prompt-id"] for a in ids.values()} == {pid for pid, *_ in PROMPTS}
    assert {a["data-prompt-id"]: a["data-outcome"] for a in ids.values()} == OUTCOMES
    # the page itself: no tag of the hostile answer, no element that loads anything
    tags = [tag for tag, _ in page.elements]
    assert tags.count("script") == 1 and "img" not in tags and "link" not in tags
    assert not any(name.startswith("on") for _, a in page.elements for name in a)
    assert HOSTILE.removeprefix("T0 ") in "".join(page.text)  # shown as text
    # one row per prompt in the CSV, in the prompt set's order
    rows = list(csv.DictReader(io.StringIO((run_folder / "verdicts.csv").read_text())))
    assert list(rows[0]) == VERDICT_COLUMNS
    assert [r["prompt_id"] for r in rows] == [pid for pid, *_ in PROMPTS]
    by_id = {r["prompt_id"]: r for r in rows}
    assert {pid: r["outcome"] for pid, r in by_id.items()} == OUTCOMES
    assert (by_id["q1"]["base_first_verdict"], by_id["q1"]["tuned_first_verdict"],
            by_id["q1"]["split"]) == ("base", "tuned", "1")  # the first shown won each time
    assert (by_id["q4"]["tuned_first_source"], by_id["q4"]["tuned_first_verdict"]) == (
        "logprob", "base")
    assert by_id["q2"]["base_first_source"] == "skipped" and by_id["q3"]["score"] == ""
    assert (by_id["q0"]["base_chars"], by_id["q0"]["tuned_chars"]) == ("8", str(len(HOSTILE)))
    assert by_id[ODD_ID]["score"] == "0.75" and by_id[ODD_ID]["category"] == "chat"
    prompts = [json.loads(line) for line in (run_folder / "prompts.jsonl").read_text().splitlines()]
    assert [p["prompt_id"] for p in prompts] == [pid for pid, *_ in PROMPTS]


def test_summary_numbers_match_the_script(run_folder):
    pw = json.loads((run_folder / "summary.json").read_text())["pairwise"]
    # items: q0 1, q1 .5, q2 .5, q4 0, q5 .75 (q3 has no valid line): 2 wins, 2 ties, 1 loss
    assert (pw["n"], pw["wins"], pw["ties"], pw["losses"], pw["n_invalid"]) == (5, 2, 2, 1, 2)
    assert pw["win_rate"] == pytest.approx((1 + 0.5 + 0.5 + 0 + 0.75) / 5)


def test_the_page_leads_with_the_verdict_on_the_judge_and_shows_its_controls(run_folder):
    summary = json.loads((run_folder / "summary.json").read_text())
    status, controls = summary["verdict"]["status"], summary["controls"]
    page = parse(run_folder / "report.html")
    sections = [a for tag, a in page.elements if tag == "section" and "id" in a]
    ids = [a["id"] for a in sections]
    assert ids.index("verdict") < ids.index("summary")  # read before the win rate
    assert sections[0]["class"] == f"verdict {status}"
    text = " ".join(page.text)
    assert f"Verdict on the judge: {status}" in text
    # the scripted judge reads only the first shown answer's first words: it cannot be "passed"
    assert status == "inconclusive" and summary["verdict"]["reasons"]
    assert all(reason in text for reason in summary["verdict"]["reasons"])
    assert "controls" in ids and "panel" not in ids  # one judge: no panel section
    accuracy = f"{100 * controls['accuracy']:.1f}% of verdicts for the real answer on " \
               f"{controls['n']} pairs"
    assert accuracy in text
    assert "controls" not in {a["id"].removeprefix("block-") for a in sections
                              if a.get("class") == "other"}  # not shown a second time


def test_judge_report_writes_the_same_views_again_from_the_folder(run_folder, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_folder, copy)
    before = {name: (copy / name).read_bytes()
              for name in ("report.html", "report.md", "verdicts.csv", "winrate.png")}
    for name in before:
        (copy / name).unlink()
    done = CliRunner().invoke(cli, ["report", str(copy)])
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[0] == str(copy / "report.html")
    assert {name: (copy / name).read_bytes() for name in before} == before


def test_the_0_1_0_folder_gets_its_page(tmp_path):
    work = tmp_path / "old"
    shutil.copytree(OLD, work)
    summary = (work / "run" / "summary.json").read_bytes()
    done = judge_cli("report", "run", cwd=work)
    assert done.code == 0, done.stderr
    page = parse(work / "run" / "report.html")
    shown = {a["data-prompt-id"] for tag, a in page.elements if tag == "article"}
    lines = [json.loads(line) for path in (work / "run" / "judgments").glob("*.jsonl")
             for line in path.read_text().splitlines()]
    assert shown == {line["prompt_id"] for line in lines} and len(shown) == 3
    verdicts = [(a["data-order"], a["data-winner"]) for tag, a in page.elements
                if tag == "tr" and "data-order" in a]
    assert sorted(verdicts) == sorted((line["order"], line["winner"]) for line in lines)
    assert "base says: Name a colour." in "".join(page.text)  # answers found by their keys
    assert (work / "run" / "summary.json").read_bytes() == summary  # never rewritten
    assert len((work / "run" / "verdicts.csv").read_text().splitlines()) == 1 + 3


def test_a_folder_that_is_neither_run_nor_leaderboard_is_one_line_exit_2(tmp_path):
    assert "neither a run folder" in judge_cli("report", str(tmp_path)).error_line(2)
    assert list(tmp_path.iterdir()) == []


def test_your_own_template_extends_ours_in_a_sandbox(run_folder, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_folder, copy)
    mine = tmp_path / "mine.html.j2"
    mine.write_text('{% extends "report.html.j2" %}{% block verdict %}<p id="mine">'
                    "{{ summary.pairwise.wins }} wins; {{ views[0].tuned }}</p>"
                    "{% endblock %}")
    done = CliRunner().invoke(cli, ["report", str(copy), "--report-template", str(mine)])
    assert done.exit_code == 0, done.output
    text = (copy / "report.html").read_text()
    assert '<p id="mine">2 wins; T0 Red &lt;script&gt;' in text  # autoescaped in yours too
    before = (copy / "report.html").read_bytes()
    for body, why in [("{{ nowhere }}", "'nowhere' is undefined"),
                      ("{{ ''.__class__.__mro__ }}", "unsafe"),
                      ("{% if %}", "line 1")]:
        mine.write_text(body)
        done = judge_cli("report", str(copy), "--report-template", str(mine))
        assert why in done.error_line(2)
        assert (copy / "report.html").read_bytes() == before  # nothing written


def test_compare_checks_the_report_template_before_any_model_loads(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        build_run(tmp_path, report_template=str(tmp_path / "missing.j2"))
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("browser, shown", [
    ("false", "no web browser to open it with here; open"),  # a browser that fails
    ("echo %s", "file://"),  # a "browser" that prints what it was asked to open
])
def test_open_prints_the_path_where_no_browser_opens_it(run_folder, tmp_path, browser, shown):
    copy = tmp_path / "run"
    shutil.copytree(run_folder, copy)
    # a fresh process: the webbrowser module reads BROWSER once per process
    done = subprocess.run([JUDGE, "report", str(copy), "--open"], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "BROWSER": browser})
    assert done.returncode == 0, done.stderr
    assert shown in done.stdout and "report.html" in done.stdout.splitlines()[-1]


def test_a_leaderboard_gets_its_page_and_every_model_its_own(tmp_path):
    board = Board(tmp_path)
    m1 = alpaca_eval(tmp_path / "m1.json", answers_of("m1"), "<u>m1</u>")
    m2 = alpaca_eval(tmp_path / "m2.json", answers_of("m2"), "m2")
    board.run(ref_file(tmp_path), m1, m2)
    lb = tmp_path / "lb"
    page = parse(lb / "leaderboard.html")
    rows = [a["data-model"] for tag, a in page.elements if tag == "tr" and "data-model" in a]
    assert sorted(rows) == ["<u>m1</u>", "m2"]  # names are data: shown, never markup
    assert "u" not in [tag for tag, _ in page.elements] and "<u>m1</u>" in "".join(page.text)
    links = [a["href"] for tag, a in page.elements if tag == "a"]
    folders = {s["folder"] for s in json.loads((lb / "leaderboard.json").read_text())["standings"]}
    assert sorted(links) == sorted(f"{f}/report.html" for f in folders)
    assert all((lb / f / "report.html").is_file() for f in folders)
    before = {p: p.read_bytes() for p in [lb / "leaderboard.html", lb / "leaderboard.md",
                                          *(lb / f / "report.html" for f in folders)]}
    for path in before:
        path.unlink()
    done = CliRunner().invoke(cli, ["report", str(lb)])
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[0] == str(lb / "leaderboard.html")
    assert {p: p.read_bytes() for p in before} == before


def test_a_ledger_with_other_lines_is_shown_with_a_note(run_folder, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_folder, copy)
    (ledger,) = (copy / "judgments").glob("*.jsonl")
    lines = [json.loads(line) for line in ledger.read_text().splitlines()]
    q0 = next(line for line in lines if line["prompt_id"] == "q0"
              and line["order"] == "base_first")
    # a later line for the same prompt and order, as another run's settings would leave it
    other = q0 | {"key": "another-run", "winner": "base", "verdict": "A", "score": 0.0}
    ledger.write_text(ledger.read_text() + json.dumps(other) + "\n")
    done = CliRunner().invoke(cli, ["report", str(copy)])
    assert done.exit_code == 0, done.output
    text = (copy / "report.html").read_text()
    # q0 now shows base_first base, tuned_first tuned: a tie, so 1/3/1 where summary.json has 2/2/1
    assert ("The verdicts shown give wins/ties/losses 1/3/1 and 2 invalid lines, where "
            "summary.json counted 2/2/1 and 2") in text
    assert 'class="note"' in text


def test_pointwise_ratings_and_conversations_are_on_the_page(tmp_path):
    s = Setup(tmp_path)
    s.replies = {"tuned says": "5", "base says": "2"}  # each answer rated alone
    config = CompareConfig(base=s.base, tuned=s.tuned, judge=s.judge, prompts=str(s.prompts),
                           template="rubric", verdict="text", out=str(tmp_path / "run"),
                           cache_dir=str(tmp_path / "cache"), engine=EngineOptions(kind="hf"),
                           bootstrap=200)
    run_compare(config, lambda name, total: lambda done, tokens: None, s.load)
    page = parse(tmp_path / "run" / "report.html")
    rows = [a for tag, a in page.elements if tag == "tr" and "data-order" in a]
    assert [(a["data-order"], a["data-winner"]) for a in rows] == [("rated", "tuned")] * 3
    text = "".join(page.text)
    assert text.count("base rated 2") == 3 and text.count("tuned rated 5") == 3
    # the ratings block has no section of its own: shown as it is, every field of it
    ratings = json.loads((tmp_path / "run" / "summary.json").read_text())["ratings"]
    assert ("section", {"class": "other", "id": "block-ratings"}) in page.elements
    assert all(name in text for name in ratings)
    by_id = {r["prompt_id"]: r for r in csv.DictReader(io.StringIO(
        (tmp_path / "run" / "verdicts.csv").read_text()))}
    assert {(r["rating_base"], r["rating_tuned"], r["outcome"]) for r in by_id.values()} == {
        ("2.0", "5.0", "tuned")}

    conversation = tmp_path / "mt"
    conversation.mkdir()
    s = Setup(conversation)
    s.prompts.write_text(json.dumps({"question_id": 81, "category": "writing",
                                     "turns": ["Name a colour.", "Now a darker one."]}) + "\n")
    s.replies = {"": "A"}
    s.run(verdict="text")
    page = parse(conversation / "run" / "report.html")
    items = [i for i, (tag, _) in enumerate(page.elements) if tag == "li"]
    assert len(items) >= 2  # the two user turns, listed
    assert "Now a darker one." in "".join(page.text)
    assert "[Turn 2] Assistant:" in "".join(page.text)  # each side as the judge read it


def test_a_leaderboard_checks_its_page_template_before_anything(tmp_path):
    from judge.pipeline.leaderboard import LeaderboardConfig, run_leaderboard

    board = Board(tmp_path)
    settings = CompareConfig(base="-", tuned="-", judge=board.judge, out="-",
                             cache_dir=str(tmp_path / "cache"), engine=EngineOptions(kind="hf"))
    config = LeaderboardConfig(
        reference=ref_file(tmp_path), out=str(tmp_path / "lb"), settings=settings,
        models=[alpaca_eval(tmp_path / "m1.json", answers_of("m1"), "m1")],
        leaderboard_template=str(tmp_path / "missing.j2"))
    with pytest.raises(InputError, match="missing.j2 does not exist"):
        run_leaderboard(config, board.progress, board.load)
    assert board.loaded == [] and not (tmp_path / "lb").exists()
