"""Prompt sets: the built-in set and files in every supported format."""

from __future__ import annotations

import json

import pytest

from judge.errors import InputError, ServiceError
from judge.promptsets.load import load_prompts

ROWS = [
    {"instruction": "Say hello.", "prompt_id": "x1", "category": "chat"},
    {"instruction": "Add 2 and 3.", "prompt_id": "x2", "category": "math"},
]


def test_builtin_set_is_varied_and_categorised():
    items = load_prompts("builtin")
    assert len(items) >= 40
    assert all(item.category for item in items)
    assert len({item.category for item in items}) >= 8
    assert len({item.prompt_id for item in items}) == len(items)


def write(tmp_path, suffix: str, rows: list[dict]):
    path = tmp_path / f"set{suffix}"
    if suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif suffix == ".json":
        path.write_text(json.dumps(rows))
    else:
        import pyarrow as pa
        import pyarrow.csv
        import pyarrow.parquet

        table = pa.Table.from_pylist(rows)
        (pyarrow.csv.write_csv if suffix == ".csv" else pyarrow.parquet.write_table)(table, path)
    return path


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".csv", ".parquet"])
def test_files_of_every_format_load_with_instruction_column(tmp_path, suffix):
    items = load_prompts(str(write(tmp_path, suffix, ROWS)))
    assert [(i.prompt_id, i.prompt, i.category) for i in items] == [
        ("x1", "Say hello.", "chat"),
        ("x2", "Add 2 and 3.", "math"),
    ]


def test_prompt_column_and_row_number_ids(tmp_path):
    path = write(tmp_path, ".jsonl", [{"q": "one"}, {"q": "two"}, {"q": "three"}])
    items = load_prompts(str(path), column="q", limit=2)
    assert [(i.prompt_id, i.prompt) for i in items] == [("0", "one"), ("1", "two")]


@pytest.mark.parametrize(
    ("rows", "column", "message"),
    [
        ([], None, "is empty"),
        ([{"text": "hi"}], None, "no column 'prompt' or 'instruction'"),
        ([{"prompt": "a", "prompt_id": 1}, {"prompt": "b", "prompt_id": 1}], None, "duplicate"),
        ([{"prompt": ""}], None, "no text"),
        ([{"prompt": "a"}], "question", "no column 'question'"),
    ],
)
def test_bad_prompt_files_are_input_errors(tmp_path, rows, column, message):
    path = write(tmp_path, ".jsonl", rows)
    with pytest.raises(InputError, match=message):
        load_prompts(str(path), column=column)


@pytest.mark.parametrize("limit", [0, -3])
def test_limit_must_be_positive(limit):
    with pytest.raises(InputError, match="--limit"):
        load_prompts("builtin", limit=limit)


def test_unknown_source_and_suffix(tmp_path):
    with pytest.raises(InputError, match="neither"):
        load_prompts("no such thing")
    bad = tmp_path / "prompts.txt"
    bad.write_text("hello")
    with pytest.raises(InputError, match=".jsonl"):
        load_prompts(str(bad))


def test_hub_id_offline_fails_with_one_clear_error():
    with pytest.raises(ServiceError, match="could not be loaded from the hub"):
        load_prompts("judge-tests/does-not-exist@eval")


def test_anchor_prompt_sets_load_as_their_authors_wrote_them(tmp_path):
    # MT-Bench question.jsonl: two turns, one reference answer per turn
    mt_bench = write(tmp_path, ".jsonl", [
        {"question_id": 111, "category": "math", "turns": ["What is 3 + 4?", "And times 2?"],
         "reference": ["7", "14"]},
        {"question_id": 81, "category": "writing", "turns": ["Write a haiku.", "Shorter."]},
    ])
    math_item, writing = load_prompts(str(mt_bench))
    assert (math_item.prompt_id, math_item.category, math_item.turns) == (
        "111", "math", ["What is 3 + 4?", "And times 2?"])
    assert math_item.reference == "[Turn 1] 7\n\n[Turn 2] 14"
    assert writing.reference is None


def test_arena_hard_and_alpaca_eval_prompt_sets(tmp_path):
    # arena-hard v0.1 question.jsonl: turns as {"content": ...} objects
    arena = tmp_path / "arena.jsonl"
    arena.write_text(json.dumps({"question_id": "328c", "category": "arena-hard-v0.1",
                                 "cluster": "poems", "turns": [{"content": "Write a poem."}]})
                     + "\n")
    (item,) = load_prompts(str(arena))
    assert (item.prompt_id, item.prompt, item.turns) == ("328c", "Write a poem.", None)
    v2 = write(tmp_path, ".json", [{"uid": "x9", "category": "hard_prompt", "prompt": "Sort."}])
    assert [(i.prompt_id, i.category) for i in load_prompts(str(v2))] == [("x9", "hard_prompt")]
    alpaca = write(tmp_path, ".jsonl", [
        {"instruction": "Name a fruit.", "dataset": "helpful_base", "output": "Apple.",
         "generator": "gpt4"},
        {"instruction": "Say hi.", "dataset": "koala", "output": "Hi.", "generator": "gpt4"},
    ])
    assert [(i.prompt, i.category) for i in load_prompts(str(alpaca))] == [
        ("Name a fruit.", "helpful_base"), ("Say hi.", "koala")]


@pytest.mark.parametrize(("rows", "message"), [
    ([{"prompt": "a", "category": "math"}, {"prompt": "b", "category": 2}], "mixes types"),
    ([{"prompt": "a", "category": ["x"]}], "category"),
    ([{"turns": [{"text": "no content key"}]}], "'content'"),
    ([{"prompt": "a", "reference": {"answer": 1}}], "'reference'"),
])
def test_bad_anchor_style_columns_are_input_errors(tmp_path, rows, message):
    with pytest.raises(InputError, match=message):
        load_prompts(str(write(tmp_path, ".jsonl", rows)))
