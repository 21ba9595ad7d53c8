"""The one run reader (judge/runs/reader.py) on a hand-made run folder (tests/scenes.py make_run,
no prompts.jsonl, as folders before it): the prompts come from the base side's generations, each
answer from the line under the key the run used, each verdict from the latest line of its order;
a torn last line is skipped and left for the next run to repair; the card's examples are made of
the same data."""

from __future__ import annotations

from scenes import CARD_WINNERS, make_run

from judge.card.context import card_facts
from judge.records import Judgment
from judge.runs.folder import RunFolder
from judge.runs.reader import read_run


def test_the_reader_gives_the_run_as_compare_held_it(tmp_path):
    root = make_run(tmp_path)
    folder = RunFolder(root)
    ledger = next((root / "judgments").glob("*.jsonl"))
    first = Judgment.model_validate_json(ledger.read_text().splitlines()[2])  # p1, base_first
    again = first.model_copy(update={"winner": "base", "score": 0.0, "p_tuned": 0.0})
    torn = '{"key": "p2-base_first", "prompt_id": "p2"'  # a kill in the middle of a line
    ledger.write_text(ledger.read_text() + again.model_dump_json() + "\n" + torn)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}

    data = read_run(folder)

    assert [item.prompt_id for item in data.items] == list(CARD_WINNERS)
    assert data.answers["p0"] == ("same answer to p0", "same answer to p0")
    assert data.answers["p3"] == ("base answer to p3 ```x```", "tuned answer to p3 ```x```")
    # every prompt in both orders, by prompt then order; the later p1 line replaces the first
    assert [(j.prompt_id, j.order) for j in data.judgments] == [
        (pid, order) for pid in CARD_WINNERS for order in ("base_first", "tuned_first")]
    winners = {(j.prompt_id, j.order): j.winner for j in data.judgments}
    assert winners[("p1", "base_first")] == "base"
    assert winners[("p5", "base_first")] == "invalid"
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before  # read only

    examples = card_facts(root, None, n_examples=6)["examples"]
    assert [ex["prompt_id"] for ex in examples] == ["p1", "p2", "p3", "p4", "p5", "p0"]
    assert examples[0]["verdicts"][0] == {"order": "base_first", "winner": "base", "source": "text"}
    assert examples[-1]["base"] == examples[-1]["tuned"]  # identical answers come last
