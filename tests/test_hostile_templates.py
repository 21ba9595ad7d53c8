"""Every template a user can pass renders in one bounded sandbox (judge/sandbox.py).

Each escape and each runaway below is tried through each way in: a judge template, the card's
section template and report.html's template. Each must end in one InputError naming the sandbox,
never in Python internals, a shell command, a MemoryError, a RecursionError or a hang.
"""

from __future__ import annotations

import time

import pytest

from judge.errors import InputError
from judge.sandbox import BoundedSandbox, TemplateFailure, render

ESCAPES = {
    "shell through cycler": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "globals of a filter": "{{ lipsum.__globals__ }}",
    "template internals": "{{ self._TemplateReference__context.environment }}",
}
RUNAWAYS = {
    "string product": "{{ 'a' * 10**12 }}",
    "huge range": "{% for i in range(10**12) %}{% endfor %}",
    "huge power": "{{ 9 ** (10 ** 9) }}",
    "recursive macro": "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "doubling namespace": "{% set ns = namespace(s='ab') %}{% for i in range(40) %}"
                          "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
    "doubling set": "{% set x = 'a' * 1000000 %}" + "{% set x = x ~ x %}" * 8 + "{{ x|length }}",
    "padding method": "{{ 'x'.ljust(10**11) }}",
    "padding filter": "{{ 'x' | center(10**11) }}",
    "format width": "{{ '{:>99999999999}'.format(1) }}",
    "percent width": "{{ '%099999999999d' % 1 }}",
    "lorem": "{{ lipsum(10**9) }}",
    "replace blow-up": "{{ ('a' * 1000000) | replace('a', 'bbbbbbbbbbbbbbbbbbbb') }}",
    "huge literal": "{{ " + "9" * 6000 + " }}",
    "deep parentheses": "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
}
PAYLOADS = {**ESCAPES, **RUNAWAYS}


def judge_template(tmp_path, body):
    from judge.templates.template import load_template

    path = tmp_path / "t.j2"
    path.write_text("{#- judge-template\nkind: pairwise\nlabels: {A: first, B: second, tie: tie}\n"
                    "parser: '^(A|B|tie)'\n-#}\n{{ instruction }} {{ answer_a }} {{ answer_b }}\n"
                    + body)
    load_template(str(path))  # renders a sample, as every run does before any model loads


def card_section(tmp_path, body):
    from judge.card.write import render_section

    path = tmp_path / "card.md.j2"
    path.write_text(body)
    render_section({"model_name": "m"}, str(path))


def report_page(tmp_path, body):
    from judge.report.html import RUN_PAGE, render

    path = tmp_path / "page.html.j2"
    path.write_text(body)
    render(str(path), RUN_PAGE, {})


@pytest.mark.parametrize("way", [judge_template, card_section, report_page],
                         ids=["judge template", "card section", "report page"])
@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_way_in_refuses_every_payload(tmp_path, way, payload):
    began = time.monotonic()
    with pytest.raises(InputError) as caught:
        way(tmp_path, PAYLOADS[payload])
    line = str(caught.value)
    assert "\n" not in line and len(line) < 600
    assert ("sandbox" in line or "cannot be compiled" in line or "line 1" in line), line
    assert "uid=" not in line and "<class" not in line
    assert time.monotonic() - began < 15


def test_the_sandbox_still_renders_ordinary_templates():
    env = BoundedSandbox()
    text = render(env.compile_source(
        "{{ '-' * 20 }} {{ 'x' | center(9) }} {{ range(3) | list }} {{ 2 ** 64 }} "
        "{{ '%05.1f' % 3.14159 }} {{ '{:>6}'.format('ok') }} {{ items | join(', ') }} "
        "{% set ns = namespace(n=0) %}{% for i in items %}{% set ns.n = ns.n + 1 %}{% endfor %}"
        "{{ ns.n }} {{ long | length }}"), {"items": ["a", "b"], "long": "y" * 20_000_000})
    assert text.split() == ["-" * 20, "x", "[0,", "1,", "2]", str(2**64), "003.1", "ok",
                            "a,", "b", "2", "20000000"]


def test_a_render_that_runs_too_long_is_stopped(monkeypatch):
    import judge.sandbox as sandbox

    monkeypatch.setattr(sandbox, "RENDER_SECONDS", 1.0)
    env = BoundedSandbox()
    loops = env.compile_source(
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    began = time.monotonic()
    with pytest.raises(TemplateFailure, match="ran for over 1 s"):
        render(loops, {})
    assert time.monotonic() - began < 5
