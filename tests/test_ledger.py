"""The append-only ledger: resume, torn last lines, damaged files."""

from __future__ import annotations

import pytest

from judge.errors import InputError
from judge.files import read_jsonl, write_atomic
from judge.records import Generation
from judge.runs.ledger import Ledger, content_key


def gen(key: str, output: str = "hi") -> Generation:
    return Generation(key=key, prompt_id=key, prompt="p", output=output, tokens=1, model="m",
                      params_hash="x")


def test_append_then_reload_keeps_records_and_skips_known_keys(tmp_path):
    path = tmp_path / "g.jsonl"
    ledger = Ledger(path, Generation)
    ledger.append([gen("a"), gen("b")])
    ledger.append([gen("a", output="changed")])  # known key: not written again
    again = Ledger(path, Generation)
    assert list(again.records) == ["a", "b"]
    assert again.get("a").output == "hi"
    assert path.read_text().count("\n") == 2


def test_torn_last_line_is_dropped_with_warning_and_cut(tmp_path, caplog):
    path = tmp_path / "g.jsonl"
    Ledger(path, Generation).append([gen("a")])
    with path.open("a") as fh:
        fh.write('{"key": "b", "prompt_id": "b", "pro')  # a kill in the middle of a write
    ledger = Ledger(path, Generation)
    assert list(ledger.records) == ["a"]
    assert "torn last line" in caplog.text
    ledger.append([gen("c")])
    rows, _ = read_jsonl(path)
    assert [r["key"] for r in rows] == ["a", "c"]


def test_last_line_without_newline_but_complete_is_kept(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text(gen("a").model_dump_json())  # no trailing newline
    ledger = Ledger(path, Generation)
    ledger.append([gen("b")])
    assert [r["key"] for r in read_jsonl(path)[0]] == ["a", "b"]


def test_damaged_line_inside_the_file_is_an_input_error(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text(gen("a").model_dump_json() + "\nnot json\n" + gen("b").model_dump_json() + "\n")
    before = path.read_bytes()
    with pytest.raises(InputError, match=r"g.jsonl:2"):
        Ledger(path, Generation)
    assert path.read_bytes() == before


def test_record_with_unknown_field_is_an_input_error(tmp_path):
    path = tmp_path / "g.jsonl"
    row = gen("a").model_dump() | {"surprise": 1}
    import json

    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(InputError, match="surprise"):
        Ledger(path, Generation)


def test_content_key_is_stable_and_order_independent_for_dicts():
    assert content_key({"a": 1, "b": 2}) == content_key({"b": 2, "a": 1})
    assert content_key("x", 1) != content_key("x", 2)
    assert len(content_key("x")) == 16


def test_write_atomic_replaces_whole_file(tmp_path):
    path = tmp_path / "s.json"
    write_atomic(path, "one")
    write_atomic(path, "two")
    assert path.read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]
