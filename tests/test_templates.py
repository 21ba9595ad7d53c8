"""Judge templates: declared verdict formats, strict and sandboxed rendering."""

from __future__ import annotations

import pytest

from judge.errors import InputError
from judge.templates.template import load_template, shipped

HEADER = """{#- judge-template
kind: pairwise
labels: {A: first, B: second, tie: tie}
parser: '^(A|B|tie)'
-#}
"""


PAIR_TEMPLATES = sorted(p for p in shipped().values() if p.parent.name != "pointwise")


@pytest.mark.parametrize("path", PAIR_TEMPLATES, ids=lambda p: p.stem)
def test_every_shipped_template_parses_its_declared_examples(path):
    template = load_template(str(path))
    assert template.spec.examples, "a shipped template declares example replies"
    for example in template.spec.examples:
        assert template.parse(example.output) == example.verdict, example.output
    chat = template.render(instruction="Q?", answer_a="first answer", answer_b="second answer")
    text = chat[-1].content
    assert text.index("first answer") < text.index("second answer")


def test_default_parser_does_not_mistake_an_article_for_a_verdict():
    template = load_template("pairwise")
    assert template.parse("A good answer would mention Paris.") is None
    assert template.parse("B.") == "B"
    assert template.parse("Tie: both are fine") == "tie"
    assert template.parse("The answer is B.") is None  # counted as unparsed, never guessed


def test_missing_variable_is_reported_by_name(tmp_path):
    path = tmp_path / "t.j2"
    path.write_text(HEADER + "{{ instruction }} {{ answer_a }} {{ answer_b }} {{ rubric }}")
    with pytest.raises(InputError, match="rubric"):
        load_template(str(path))


def test_template_without_header_is_refused(tmp_path):
    path = tmp_path / "plain.j2"
    path.write_text("Which is better? {{ answer_a }} or {{ answer_b }}")
    with pytest.raises(InputError, match="declares no verdict format"):
        load_template(str(path))


def test_parser_without_group_is_refused(tmp_path):
    path = tmp_path / "t.j2"
    path.write_text(HEADER.replace("'^(A|B|tie)'", "'^A|B'") + "{{ instruction }}")
    with pytest.raises(InputError, match="capture group"):
        load_template(str(path))


def test_sandbox_refuses_attribute_tricks(tmp_path):
    path = tmp_path / "evil.j2"
    path.write_text(HEADER + "{{ instruction.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(InputError, match="sandbox|unsafe|attribute"):
        load_template(str(path))


def test_unknown_template_name_lists_shipped_ones():
    with pytest.raises(InputError, match="pairwise"):
        load_template("no-such-template")
