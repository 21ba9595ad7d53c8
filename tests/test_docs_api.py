"""docs/guides/python-api.md runs as written: its Python blocks, in order, in one namespace, with
the tiny random model in place of every model the page names (the real transformers engine; the
page's numbers are whatever the tiny model gives, so only that every block runs is checked, plus
what the page itself asserts)."""

from __future__ import annotations

import re

import pytest
import tqdm.std
from helpers import ROOT, chdir

PAGE = ROOT / "docs" / "guides" / "python-api.md"
MODELS = ("path/to/checkpoint-100", "path/to/tuned", "smollm2")


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_the_python_api_page_runs(tmp_path, tiny, cache_dir, monkeypatch, capsys):
    blocks = python_blocks(PAGE.read_text())
    assert len(blocks) >= 5
    untouched = vars(tqdm.std.tqdm)["__init__"]
    monkeypatch.setenv("JUDGE_CACHE_DIR", str(cache_dir))
    namespace: dict = {}
    with chdir(tmp_path):
        for number, block in enumerate(blocks, start=1):
            for model in MODELS:
                block = block.replace(f'"{model}"', repr(tiny.path)).replace(
                    f"={model}", f"={tiny.path}")
            try:
                exec(compile(block, f"{PAGE.name} block {number}", "exec"), namespace)
            except Exception as err:  # the page's block, named, for whoever edits the page
                pytest.fail(f"block {number} of {PAGE.name} fails: {err!r}\n{block}")
    assert vars(tqdm.std.tqdm)["__init__"] is untouched
    shown = capsys.readouterr().out
    assert "win rate" in shown and "Invalid value for '--confidence'" in shown
    assert (tmp_path / "results" / "notebook" / "alpaca_eval" / "annotations.json").is_file()
    assert len(namespace["verdicts"]) == 4 and namespace["pw"].n <= 4  # limit=4
    assert list(namespace["board"].to_pandas()["name"]) == ["ckpt-100", "final"]
