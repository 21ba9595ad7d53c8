"""Preference data for `judge train orpo`: both row shapes, the mixer, held-out rows, bad data.

Pure data tests: no model, no training.
"""

from __future__ import annotations

import json

import pytest
from judge.train.data import BUILTIN, mix, normalise, read_source

from judge.errors import InputError


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def plain(i: int) -> dict:
    return {"prompt": f"question {i}?", "chosen": f"good answer {i}", "rejected": f"bad {i}"}


def conversational(i: int) -> dict:
    user = {"role": "user", "content": f"question {i}?"}
    return {
        "chosen": [user, {"role": "assistant", "content": f"good answer {i}"}],
        "rejected": [user, {"role": "assistant", "content": f"bad {i}"}],
    }


def test_shipped_set_is_large_varied_and_well_formed():
    rows = read_source("builtin", "train")
    assert len(rows) >= 64
    assert len({row["category"] for row in rows}) >= 8
    assert len({row["prompt"] for row in rows}) == len(rows)
    for number, row in enumerate(rows):
        shaped = normalise(row, f"row {number}")
        assert shaped["chosen"][0]["content"] != shaped["rejected"][0]["content"]
    assert BUILTIN.name == "preferences.jsonl"


def test_plain_strings_become_one_user_and_one_assistant_turn():
    assert normalise(plain(1), "x") == {
        "prompt": [{"role": "user", "content": "question 1?"}],
        "chosen": [{"role": "assistant", "content": "good answer 1"}],
        "rejected": [{"role": "assistant", "content": "bad 1"}],
    }


def test_whole_conversations_share_their_prompt_turns():
    # Same result as the plain row: the shared user turn is the prompt, fed once.
    assert normalise(conversational(1), "x") == normalise(plain(1), "x")
    with_text_prompt = {**conversational(1), "prompt": "question 1?"}
    assert normalise(with_text_prompt, "x") == normalise(plain(1), "x")


def test_conversational_completions_with_a_message_prompt():
    system = {"role": "system", "content": "Be brief."}
    row = {
        "prompt": [system, {"role": "user", "content": "hi"}],
        "chosen": [{"role": "assistant", "content": "Hello!"}],
        "rejected": [{"role": "assistant", "content": "What do you want."}],
    }
    shaped = normalise(row, "x")
    assert shaped["prompt"][0] == system
    assert shaped["chosen"] == row["chosen"]


@pytest.mark.parametrize(
    ("row", "named"),
    [
        ({"prompt": "q", "chosen": "a"}, "'rejected'"),
        ({"prompt": "q", "rejected": "b"}, "'chosen'"),
        ({"chosen": "a", "rejected": "b"}, "'prompt'"),
        ({"prompt": "q", "chosen": "", "rejected": "b"}, "'chosen' is empty"),
        ({"prompt": "q", "chosen": [{"role": "assistant"}], "rejected": "b"}, "'chosen' must be"),
    ],
)
def test_a_bad_row_names_the_column(row, named):
    with pytest.raises(InputError, match=named):
        normalise(row, "dataset d.jsonl row 3")


def test_mixer_takes_fractions_of_both_shapes_and_holds_out_eval_rows(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [plain(i) for i in range(40)])
    b = write_jsonl(tmp_path / "b.jsonl", [conversational(100 + i) for i in range(20)])
    train, held_out, summary = mix({str(a): 0.5, str(b): 1.0}, ["train"], 0.25, seed=3)
    assert [u.used for u in summary.sources] == [20, 20]
    assert [u.available for u in summary.sources] == [40, 20]
    assert (len(train), len(held_out)) == (30, 10)
    assert (summary.train_rows, summary.eval_rows) == (30, 10)
    prompts = [row["prompt"][0]["content"] for row in train + held_out]
    assert len(set(prompts)) == 40  # no row used twice, none lost between train and eval
    assert {f"question {100 + i}?" for i in range(20)} <= set(prompts)  # all of b, fraction 1
    for row in train + held_out:
        assert set(row) == {"prompt", "chosen", "rejected"}
        assert row["chosen"][-1]["role"] == "assistant"


def test_mixer_is_seeded_and_fingerprints_the_rows(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [plain(i) for i in range(30)])
    first = mix({str(a): 0.5}, ["train"], 0.2, seed=0)
    again = mix({str(a): 0.5}, ["train"], 0.2, seed=0)
    other = mix({str(a): 0.5}, ["train"], 0.2, seed=1)
    assert first == again
    assert first[2].fingerprint == again[2].fingerprint
    assert other[2].fingerprint != first[2].fingerprint


def test_local_files_ignore_hub_split_names(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [plain(i) for i in range(4)])
    train, held_out, summary = mix({str(a): 1.0}, ["train_prefs", "test_prefs"], 0.0, seed=0)
    assert (len(train), len(held_out)) == (4, 0)
    assert [u.split for u in summary.sources] == ["train"]


def test_empty_split_and_missing_column_are_input_errors(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(InputError, match="empty.jsonl is empty"):
        mix({str(empty): 1.0}, ["train"], 0.0, seed=0)
    broken = write_jsonl(tmp_path / "broken.jsonl", [plain(0), {"prompt": "q", "chosen": "a"}])
    with pytest.raises(InputError, match=r"broken.jsonl row 2: no column 'rejected'"):
        mix({str(broken): 1.0}, ["train"], 0.0, seed=0)


def test_eval_fraction_must_leave_training_rows(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [plain(0)])
    with pytest.raises(InputError, match="leaves no training rows"):
        mix({str(a): 1.0}, ["train"], 0.5, seed=0)


def test_unknown_source_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="neither 'builtin', an existing file, nor a hub id"):
        read_source(str(tmp_path / "nope"), "train")
    with pytest.raises(InputError, match="use a .jsonl"):
        read_source(str(write_jsonl(tmp_path / "a.txt", [plain(0)])), "train")
