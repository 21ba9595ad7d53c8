"""The docs site builds with --strict, and what it generates matches the code it is generated from.

    .venv/bin/pytest tests/test_docs.py

One build per module (a few seconds of CPU): a broken link, a missing anchor, a page left out of the
nav or a docstring mkdocstrings cannot read fails the build, and so this module.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import click
import pytest
from helpers import ROOT

from judge.cli.main import cli

# Words that tell a story of the project instead of how it is: they belong in CHANGELOG.md.
HISTORY = re.compile(r"\b(this round|used to|before this (change|release)|at commit|no longer)\b",
                     re.IGNORECASE)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def commands(group: click.Group, prefix: str) -> list[tuple[str, click.Command]]:
    """Every command under `group`, by its full name (`judge templates import`)."""
    found = []
    for name, command in sorted(group.commands.items()):
        found.append((f"{prefix} {name}", command))
        if isinstance(command, click.Group):
            found += commands(command, f"{prefix} {name}")
    return found


def test_the_cli_reference_names_every_command_and_option(site):
    page = unescape((site / "reference" / "cli" / "index.html").read_text())
    assert "Sentinel" not in page  # click's marker for "no default" is not shown as one
    listed = commands(cli, "judge")
    assert len(listed) >= 15  # eleven commands, train's three methods, templates' four
    for full_name, command in listed:
        assert f'id="{full_name.replace(" ", "-")}"' in page, full_name
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert param.opts[0] in page, (full_name, param.opts[0])


def test_the_schemas_are_the_records(site):
    from judge.records import Judgment
    from judge.runs.summary import Summary

    schemas = site / "reference" / "schemas"
    for name, record in (("summary", Summary), ("judgment", Judgment)):
        written = json.loads((schemas / f"{name}.schema.json").read_text())
        assert written == record.model_json_schema(), name
    formats = (site / "reference" / "formats" / "index.html").read_text()
    for field in Summary.model_json_schema()["properties"]:
        assert f"<code>{field}</code>" in formats, field


def test_the_home_page_is_the_readme_and_the_example_is_in_the_site(site):
    home = unescape((site / "index.html").read_text())
    assert "is the tuned model\nactually better than its base" in home
    for name in ("report.html", "report.png", "summary.json", "judge_eval.png"):
        committed = (ROOT / "results" / "example" / name).read_bytes()
        assert (site / "example" / name).read_bytes() == committed, name
    example = (site / "example" / "index.html").read_text()
    assert "By category" in example and 'src="judge_eval.png"' in example


def test_the_readme_is_a_front_page():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 300
    assert "make test" in text.split("\n## ")[0]  # .ci/run calls it: the newcomer's command
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), target


def test_no_history_in_the_readme_or_the_docs():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    for page in pages:
        for number, line in enumerate(page.read_text().splitlines(), 1):
            assert not HISTORY.search(line), f"{page.relative_to(ROOT)}:{number}: {line}"
