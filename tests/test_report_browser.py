"""report.html in a real browser: Debian's chromium, headless, driven by Playwright
(tests/browser.py). The page is a real run folder's, made by run_compare with the scripted judge
(exact verdicts), one of whose answers carries a <script> and an <img onerror> that would set
window.__pwned if they ran.

No test here is skipped: without chromium they fail and say how to get it (`make test` installs it).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from browser import browser
from scenes import HOSTILE, ODD_ID, Board, alpaca_eval, answers_of, build_run, ref_file
from scenes import REPORT_OUTCOMES as OUTCOMES
from scenes import REPORT_PROMPTS as PROMPTS

from judge.report.evidence import anchor
from judge.report.format import pct


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    return build_run(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def chromium():
    """One headless chromium for the module: (its context, every request any page made)."""
    with browser() as (context, requests):
        yield context, requests


def open_page(context, path: Path):
    """A new page at `path`, and the script errors it reports."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    return page, errors


@pytest.fixture(scope="module")
def opened(chromium, run_folder):
    """(the run's report.html as the browser shows it, every request made, every script error)."""
    context, requests = chromium
    page, errors = open_page(context, run_folder / "report.html")
    yield page, requests, errors
    page.close()


def shown(page) -> int:
    return int(page.get_attribute("#count", "data-shown"))


def wait_shown(page, count: int) -> None:
    """Wait until the count says `count` prompts are shown. Playwright's wait_for_function would
    evaluate a string inside the page, which the page's own CSP (no unsafe-eval) rightly refuses."""
    from playwright.sync_api import expect

    expect(page.locator("#count")).to_have_attribute("data-shown", str(count))


def visible_ids(page) -> list[str]:
    return page.eval_on_selector_all(
        "article.prompt", "els => els.filter(e => !e.hidden).map(e => e.dataset.promptId)")


def test_every_prompt_and_both_verdicts_are_on_the_page(opened, run_folder):
    page, _, errors = opened
    (ledger,) = (run_folder / "judgments").glob("*.jsonl")
    lines = [json.loads(line) for line in ledger.read_text().splitlines()]
    for pid, *_ in PROMPTS:
        article = page.locator(f"article#{anchor(pid)}")
        assert article.get_attribute("data-prompt-id") == pid
        assert article.get_attribute("data-outcome") == OUTCOMES[pid]
        rows = article.locator("tr.verdict")
        found = {rows.nth(i).get_attribute("data-order"): rows.nth(i).get_attribute("data-winner")
                 for i in range(rows.count())}
        assert found == {line["order"]: line["winner"] for line in lines
                         if line["prompt_id"] == pid}
        assert set(found) == {"base_first", "tuned_first"}
    assert errors == []


def test_the_headline_numbers_are_summary_json_s(opened, run_folder):
    page, _, _ = opened
    pw = json.loads((run_folder / "summary.json").read_text())["pairwise"]
    expected = {"win_rate": pw["win_rate"], "discrete_win_rate": pw["discrete_win_rate"],
                "bootstrap_low": pw["ci_bootstrap"]["low"],
                "bootstrap_high": pw["ci_bootstrap"]["high"], "ci_low": pw["ci"]["low"],
                "ci_high": pw["ci"]["high"], "position_consistency": pw["position_consistency"],
                "first_position_rate": pw["first_position_rate"]}
    for field, value in expected.items():
        element = page.locator(f'[data-field="{field}"]')
        assert float(element.get_attribute("data-value")) == value, field
        assert element.inner_text() == pct(value), field
    for field in ("wins", "ties", "losses", "n", "n_invalid"):
        element = page.locator(f'[data-field="{field}"]')
        assert element.inner_text() == str(pw[field]), field


def test_filters_and_search_change_what_is_shown_and_the_count(opened):
    page, _, _ = opened
    total = len(PROMPTS)
    assert shown(page) == total and len(visible_ids(page)) == total
    cases = [
        (lambda: page.select_option("select[name=outcome]", "tuned"), ["q0", ODD_ID]),
        (lambda: page.select_option("select[name=category]", "art"), ["q0"]),
    ]
    for act, ids in cases:  # the filters add up
        act()
        assert visible_ids(page) == ids and shown(page) == len(ids)
    page.click("button[type=reset]")
    wait_shown(page, total)
    for name, ids in [("split", ["q1", ODD_ID]), ("invalid", ["q3"]), ("skipped", ["q2"])]:
        page.check(f"input[name={name}]")
        assert visible_ids(page) == ids and shown(page) == len(ids)
        page.uncheck(f"input[name={name}]")
    page.fill("input[name=search]", "PEAR")  # case does not matter; answers are searched
    assert visible_ids(page) == ["q4"]
    assert page.inner_text("#count").startswith("1 of 6 prompts shown: tuned wins 0, ties 0, "
                                                 "base wins 1")
    page.fill("input[name=search]", "")
    assert shown(page) == total


def test_a_hostile_answer_is_shown_as_text_and_runs_nothing(opened):
    page, requests, errors = opened
    assert page.evaluate("typeof window.__pwned") == "undefined"
    answer = page.locator(f"article#{anchor('q0')} .answer.tuned .md")
    assert answer.inner_text() == HOSTILE
    assert page.evaluate("document.scripts.length") == 1  # ours
    assert page.evaluate("document.images.length") == 0
    assert page.evaluate(
        "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes])"
        ".filter(a => a.name.startsWith('on')).length") == 0
    assert errors == []


def test_the_page_requests_nothing_but_itself(opened, run_folder):
    page, requests, _ = opened
    page.goto(f"{(run_folder / 'report.html').resolve().as_uri()}#{anchor(ODD_ID)}")
    assert page.evaluate("location.hash") == f"#{anchor(ODD_ID)}"
    assert set(requests) == {(run_folder / "report.html").resolve().as_uri()}


def test_a_link_to_a_prompt_reveals_it_past_the_filters(opened, run_folder):
    page, _, _ = opened
    page.goto((run_folder / "report.html").resolve().as_uri())
    page.select_option("select[name=outcome]", "base")
    assert visible_ids(page) == ["q4"]
    page.evaluate(f"location.hash = '#{anchor('q0')}'")
    wait_shown(page, 6)
    assert page.locator(f"article#{anchor('q0')}").is_visible()


def test_a_screenshot_of_the_page_is_not_blank(opened):
    from PIL import Image

    page, _, _ = opened
    image = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert image.height > 900 and colours is not None and len(colours) > 50
    dominant = max(colours)[0] / (image.width * image.height)
    assert dominant < 0.95  # mostly background, but far from all of it


def test_the_leaderboard_page_in_the_browser(chromium, opened, tmp_path):
    board = Board(tmp_path)
    board.run(ref_file(tmp_path), alpaca_eval(tmp_path / "m1.json", answers_of("m1"), "m1"),
              alpaca_eval(tmp_path / "m2.json", answers_of("m2"), "m2"))
    context, requests = chromium
    before = len(requests)
    page, errors = open_page(context, tmp_path / "lb" / "leaderboard.html")
    assert page.locator("tr[data-model]").count() == 2
    page.click("tr[data-model=m1] a")  # to the model's own report.html
    page.wait_for_url("**/m1/report.html")
    assert page.locator("article.prompt").count() == 3
    assert requests[before:] == [(tmp_path / "lb" / name).resolve().as_uri()
                                 for name in ("leaderboard.html", "m1/report.html")]
    assert errors == []
