"""Property-based fuzzing of every way in: file readers, user templates, numeric options and URLs.

Each example drives the real `judge` CLI in-process with a generated hostile value and checks the
contract (DESIGN.md, "Exit codes and errors"): exit 2 for bad input (1 where a service is what
failed), at most a few lines on stderr, no traceback, no existing file changed and nothing new
(no temp file left), within a time bound. No model is loaded: compare runs on answers files with
its judge on an OpenAI-compatible URL where nothing listens, so a value that passes every check
ends at exit 1 (the service), never in a model. Seeded (derandomize) with a fixed example budget.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from unittest import mock

import pytest
from helpers import LIMIT_S, run_judge, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenes import Setup

DEAD = "http://127.0.0.1:9/v1"  # the discard port: connection refused at once
FUZZ = settings(max_examples=12, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
HEADER = ("{#- judge-template\nkind: pairwise\nlabels: {A: first, B: second, tie: tie}\n"
          "parser: '^(A|B|tie)'\nexamples:\n  - {output: 'A', verdict: A}\n-#}\n")
BODY = "{{ instruction }} {{ answer_a }} {{ answer_b }}\n"


def check_contract(root: Path, args: list[str], codes: tuple[int, ...] = (2,),
                   unblock: Path | None = None) -> str:
    """Run judge and assert the contract; the error line comes back."""
    before = snapshot(root)
    code, _, err, seconds = run_judge(args, unblock)
    assert seconds < LIMIT_S, f"took {seconds:.0f} s: {args}"
    assert "Traceback" not in err, err[-3000:]
    assert code in codes, f"exit {code!r} for {args}: {err[-2000:]}"
    lines = err.strip().splitlines()
    assert (code == 0 or len(lines) >= 1) and len(lines) <= 3, err[-3000:]
    assert snapshot(root) == before, f"files changed by {args}"
    return lines[-1] if lines else ""


@pytest.fixture(autouse=True)
def quick_sandbox():
    """A render's time limit well inside LIMIT_S (the shipped one is a minute)."""
    try:
        import judge.sandbox as sandbox
    except ImportError:  # a judge without the sandbox: nothing to shorten
        yield
        return
    with mock.patch.object(sandbox, "RENDER_SECONDS", 5.0):
        yield


@pytest.fixture(scope="module")
def ground(tmp_path_factory) -> Path:
    """Two answers files of three prompts and a valid prompt set: what a run needs, model-free."""
    root = tmp_path_factory.mktemp("fuzz")
    for name in ("a", "b"):
        rows = [{"instruction": f"Question {i}?", "output": f"{name} answer {i}",
                 "generator": name} for i in range(3)]
        (root / f"{name}.json").write_text(json.dumps(rows))
    (root / "good.jsonl").write_text("".join(
        json.dumps({"prompt_id": str(i), "score": s}) + "\n" for i, s in enumerate([1, 0, .5])))
    return root


def compare_args(root: Path, *extra: str) -> list[str]:
    return ["compare", str(root / "a.json"), str(root / "b.json"), "--engine", "openai",
            "--base-url", DEAD, "--request-timeout", "2", "--max-retries", "0",
            "--out", str(root / "never" / "run"), *extra]


# --- hostile file contents -----------------------------------------------------------------

def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


JSON_SCALARS = st.sampled_from(["1", '"text"', "null", "true", "3.5", '{"a": 1}', "[1, 2]",
                                "[[]]", '[{"prompt": 3}]', "9" * 5000, "-Infinity", "NaN"])
LINES = st.one_of(
    JSON_SCALARS,
    st.integers(1000, 200_000).map(nested),
    st.integers(1000, 50_000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.text(min_size=1, max_size=40).filter(lambda s: "\n" not in s),
    st.sampled_from(['{"prompt": "hi"', '{"prompt_id": "1", "score": "x"}',
                     '{"prompt_id": "1", "winner": "tuned", "weight": 0}',
                     '{"prompt_id": "1", "winner": "tuned", "weight": -2}',
                     '{"prompt_id": "1", "winner": "tuned", "weight": "x"}',
                     '{"prompt_id": "1", "score": 1e999}', "\ufeff{}", "\x00\x01"]),
)
FILES = st.lists(LINES, min_size=1, max_size=4).map("\n".join) | LINES


@FUZZ
@given(text=FILES, suffix=st.sampled_from([".jsonl", ".json"]))
def test_hostile_judgment_files(ground, tmp_path_factory, text, suffix):
    root = tmp_path_factory.mktemp("stats")
    path = root / f"j{suffix}"
    path.write_text(text)
    command = ["stats", "agreement"][len(text) % 2]
    check_contract(root, [command, str(path)])


@FUZZ
@given(text=FILES, suffix=st.sampled_from([".jsonl", ".json", ".csv"]))
def test_hostile_prompt_files(ground, tmp_path_factory, text, suffix):
    root = tmp_path_factory.mktemp("prompts")
    path = root / f"p{suffix}"
    path.write_text(text)
    # a file that happens to be a valid prompt set reaches the unreachable judge: exit 1
    check_contract(root, compare_args(ground, "--prompts", str(path)), codes=(1, 2))


@FUZZ
@given(text=FILES, suffix=st.sampled_from([".jsonl", ".json"]))
def test_hostile_answers_files(ground, tmp_path_factory, text, suffix):
    root = tmp_path_factory.mktemp("answers")
    path = root / f"answers{suffix}"
    path.write_text(text)
    args = compare_args(ground)
    args[1] = str(path)
    check_contract(root, args, codes=(1, 2))


SPECIAL = ["fifo", "folder", "/dev/zero", "/dev/null", "missing", "link-to-folder"]


def special(root: Path, kind: str, suffix: str) -> Path:
    path = root / f"special{suffix}"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "link-to-folder":
        (root / "dir").mkdir()
        path.symlink_to(root / "dir")
    elif kind.startswith("/dev/"):
        path.symlink_to(kind)
    return path


@pytest.mark.parametrize("kind", SPECIAL)
@pytest.mark.parametrize("where", ["stats", "agreement", "prompts", "answers", "template",
                                   "templates check", "templates import", "template source"])
def test_special_files_as_inputs(ground, tmp_path, kind, where):
    """Every file reader given what is not a regular file, another project's judge prompt file
    (imported on the way in) among them."""
    suffix = (".jsonl" if where in ("templates import", "template source") else ".j2"
              if "template" in where else ".json" if where == "answers" else ".jsonl")
    path = special(tmp_path, kind, suffix)
    source = f"{path}#pair-v2"  # a FastChat judge_prompts.jsonl, by prompt name
    args = {"stats": ["stats", str(path)], "agreement": ["agreement", str(path)],
            "prompts": compare_args(ground, "--prompts", str(path)),
            "template": compare_args(ground, "--template", str(path)),
            "templates check": ["templates", "check", str(path)],
            "templates import": ["templates", "import", source, "--out",
                                 str(tmp_path / "out" / "t.j2")],
            "template source": compare_args(ground, "--template", source)}.get(where)
    if where == "answers":
        args = compare_args(ground)
        args[1] = str(path)
    check_contract(tmp_path, args, unblock=path if kind == "fifo" else None)


# --- hostile templates ---------------------------------------------------------------------

# Sizes no machine can allocate (malloc fails at once), so the fuzz stays safe to run against a
# judge without bounds; the sandbox refuses anything over 10**7.
HUGE = st.sampled_from([10**12, 10**15, 2**62])
JINJA = st.one_of(
    HUGE.map(lambda n: f"{{{{ 'a' * {n} }}}}"),
    HUGE.map(lambda n: f"{{% for i in range({n}) %}}x{{% endfor %}}"),
    HUGE.map(lambda n: f"{{{{ 'x'.ljust({n}) }}}}"),
    HUGE.map(lambda n: f"{{{{ 'x' | center({n}) }}}}"),
    HUGE.map(lambda n: f"{{{{ lipsum({n}) }}}}"),
    st.sampled_from([8, 13, 14]).map(lambda n: f"{{{{ '%0{'9' * n}d' % 1 }}}}"),
    st.integers(5000, 20_000).map(lambda n: "{{ " + "9" * n + " }}"),
    st.integers(24, 27).map(lambda n: "{% set ns = namespace(s='ab') %}{% for i in range("
                            f"{n}) %}}{{% set ns.s = ns.s ~ ns.s %}}{{% endfor %}}{{{{ ns.s }}}}"),
    st.sampled_from([
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ joiner.__init__.__globals__ }}",
        "{{ self._TemplateReference__context }}",
        "{{ lipsum.__globals__['os'].listdir('/') }}",
        "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
        "{{ 2 ** 1000000 }}",
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{{ ('a' * 1000000) | replace('a', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa') }}",
        "{% if %}", "{{ x", "{% for %}{% endfor %}", "{{ 1 / 0 }}", "{{ undefined_name.x }}",
        "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}",
    ]),
)


@FUZZ
@given(body=JINJA)
def test_hostile_judge_templates(tmp_path_factory, body):
    root = tmp_path_factory.mktemp("tpl")
    path = root / "t.j2"
    path.write_text(HEADER + BODY + "{{ answer_a }}" + body)
    check_contract(root, ["templates", "check", str(path)])


@FUZZ
@given(body=JINJA, kind=st.sampled_from(["card", "report"]))
def test_hostile_view_templates(scripted_run, tmp_path_factory, body, kind):
    """The card section and report.html templates, through `judge card` and `judge report`."""
    root = tmp_path_factory.mktemp("view")
    path = root / "t.j2"
    path.write_text(body)
    card = root / "README.md"
    card.write_text("# my model\n")
    args = (["card", str(scripted_run), "--card", str(card), "--template", str(path)]
            if kind == "card" else ["report", str(scripted_run), "--report-template", str(path)])
    before = snapshot(scripted_run)
    check_contract(root, args)
    assert snapshot(scripted_run) == before


# What is wrong with a template before it renders: found when a run starts, before any work
UNCOMPILABLE = st.one_of(
    st.sampled_from(["{% if %}", "{{ x", "{% for %}{% endfor %}", "{% endif %}", "{{ }}",
                     "{% macro %}", "{{ 1 +* 2 }}", "{% extends 7 %}{% block %}"]),
    st.integers(5000, 20_000).map(lambda n: "{{ " + "9" * n + " }}"),
    st.integers(3000, 20_000).map(lambda n: "{{ " + "(" * n + "1" + ")" * n + " }}"),
)


@FUZZ
@given(body=UNCOMPILABLE | st.just(None))
def test_bad_card_template_is_refused_before_any_work(ground, tmp_path_factory, body):
    """--card-template: missing, or not a template, is exit 2 before the judge is even asked
    (the judge's server here is unreachable: a late check would end in exit 1)."""
    root = tmp_path_factory.mktemp("cardtpl")
    path = root / "section.md.j2"
    if body is not None:
        path.write_text(body)
    check_contract(root, compare_args(ground, "--card", str(root / "README.md"),
                                      "--card-template", str(path)))


CATASTROPHIC = st.sampled_from([r"^(a+)+$", r"^(a|a)*$", r"^(a|aa)+$", r"^(\w+\s?)*$",
                                r"^((a+)*)+b$", r"(x+x+)+y"])


@settings(FUZZ, max_examples=6)
@given(parser=CATASTROPHIC, n=st.integers(30, 60))
def test_backtracking_parser_regex(tmp_path_factory, parser, n):
    """A regex stuck in C cannot be interrupted from Python: this one runs in a forked child,
    killed at LIMIT_S."""
    root = tmp_path_factory.mktemp("regex")
    path = root / "t.j2"
    header = ("{#- judge-template\nkind: pairwise\nlabels: {A: first, B: second, tie: tie}\n"
              f"parser: '({parser})'\nexamples:\n  - {{output: '{'a' * n}!', verdict: null}}\n"
              "-#}\n")
    path.write_text(header + BODY)
    found = run_forked(["templates", "check", str(path)])
    if found is None:
        pytest.fail(f"`judge templates check` with parser {parser!r} ran past {LIMIT_S:.0f} s")
    code, err = found
    # the time bound is the point: a pattern `regex` runs fast is fine (0), one it cannot is 2
    assert code in (0, 2) and "Traceback" not in err, err[-2000:]
    assert len(err.strip().splitlines()) <= 3


def run_forked(args: list[str]) -> tuple[object, str] | None:
    """run_judge in a forked child: (exit code, stderr), or None when it ran past LIMIT_S and was
    killed (what nothing in the parent could interrupt)."""
    import select
    import signal

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, report, leave without pytest's teardown
        os.close(read)
        code, _, err, _ = run_judge(args)
        os.write(write, json.dumps([code, err[-4000:]]).encode())
        os._exit(0)
    os.close(write)
    ready, _, _ = select.select([read], [], [], LIMIT_S)
    if not ready:
        os.kill(pid, signal.SIGKILL)
    data = os.read(read, 1 << 16) if ready else b""
    os.close(read)
    os.waitpid(pid, 0)
    return tuple(json.loads(data)) if data else None  # type: ignore[return-value]


# --- numbers and URLs at the CLI edge ------------------------------------------------------

NON_FINITE = st.sampled_from(["nan", "inf", "-inf", "NaN", "1e999"])
OPTIONS = st.one_of(
    st.tuples(st.just("--confidence"), NON_FINITE | st.sampled_from(["0", "1", "-0.5", "2"])),
    st.tuples(st.just("--seed"), st.integers(-10**12, -1).map(str)
              | st.integers(2**32, 2**70).map(str)),
    st.tuples(st.just("--bootstrap"), st.integers(10**6, 10**12).map(str)
              | st.integers(-10, 99).map(str)),
    st.tuples(st.just("--temperature"), NON_FINITE | st.sampled_from(["-1", "-1e-9"])),
    st.tuples(st.just("--kv-cache-gb"), NON_FINITE | st.sampled_from(["0", "-3"])),
    st.tuples(st.just("--request-timeout"), NON_FINITE | st.sampled_from(["0", "-1"])),
    st.tuples(st.just("--gpu-memory-utilization"), NON_FINITE | st.sampled_from(["0", "1.5"])),
    st.tuples(st.sampled_from(["--max-new-tokens", "--chunk", "--judge-max-new-tokens"]),
              st.integers(-10**6, 0).map(str) | st.just("x")),
    st.tuples(st.just("--limit"), st.integers(-10**6, 0).map(str)),
    st.tuples(st.just("--base-url"), st.sampled_from(
        ["http://[::1", "ftp://127.0.0.1/v1", "", "http://", "://x", "http://h:99999999/v1",
         "javascript:alert(1)", "http://exa mple.com/v1", "\x00"])),
)


@FUZZ
@given(option=OPTIONS)
def test_hostile_numbers_and_urls_in_compare(ground, option):
    """Refused at the edge, before the judge's server is asked anything (so: exit 2, not 1)."""
    name, value = option
    args = compare_args(ground)
    if name == "--base-url":
        args[args.index("--base-url") + 1] = value
    else:
        args += [name, value]
    check_contract(ground, args)


@FUZZ
@given(option=st.one_of(
    st.tuples(st.just("--confidence"), NON_FINITE),
    st.tuples(st.just("--seed"), st.integers(-10**9, -1).map(str)),
    st.tuples(st.just("--bootstrap"), st.sampled_from(["-1", "0", "99", "x"]))))
def test_hostile_numbers_in_stats(ground, option):
    check_contract(ground, ["stats", str(ground / "good.jsonl"), *option])


RECIPE_VALUES = st.one_of(
    st.tuples(st.just("learning_rate"), st.sampled_from([".nan", ".inf", "-.inf", "0", "-1e-5",
                                                         "x", "[]", "{}"])),
    st.tuples(st.sampled_from(["max_steps", "per_device_train_batch_size"]),
              st.sampled_from(["x", "1.5", ".nan", "[1]"])),
    st.tuples(st.just("datasets"), st.sampled_from(["{builtin: 0}", "{builtin: -1}",
                                                    "{builtin: .nan}", "{builtin: x}", "[]",
                                                    "{builtin: 2}"])),
    st.tuples(st.just("eval_fraction"), st.sampled_from(["1", "-0.1", ".nan", "x"])),
    st.tuples(st.just("lora"), st.sampled_from(["'1,2'", "'0,1,0.1'", "'a,b,c'", "'8,16,1.5'"])),
    st.tuples(st.just("beta"), st.sampled_from([".nan", "-1", "0"])),
)


@FUZZ
@given(field=RECIPE_VALUES)
def test_hostile_recipe_values(tmp_path_factory, field):
    """A recipe's values are checked when it is read, before any model loads (the reader and
    the recipe builder that `judge train` and `judge sweep` call first)."""
    from judge.train.recipe import build_recipe, read_recipe_file

    from judge.errors import InputError

    root = tmp_path_factory.mktemp("recipe")
    path = root / "r.yaml"
    path.write_text(f"model: smollm2\n{field[0]}: {field[1]}\n")
    with pytest.raises(InputError):
        build_recipe(read_recipe_file(path), {}, {}, str(path))


# --- outputs that cannot be written --------------------------------------------------------

@pytest.mark.parametrize("name", ["report.html", "report.md", "winrate.png", "verdicts.csv"])
def test_an_output_that_is_a_folder_is_refused_and_leaves_no_temp(scripted_run, tmp_path, name):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(scripted_run, run)
    (run / name).unlink()
    (run / name).mkdir()
    check_contract(tmp_path, ["report", str(run)])


# --- the scripted run the view tests read ----------------------------------------------------

@pytest.fixture(scope="module")
def scripted_run(tmp_path_factory) -> Path:
    """A real run folder judged by the scripted engine (no model loads)."""
    setup = Setup(tmp_path_factory.mktemp("scripted"))
    setup.replies = {"": "A"}
    setup.run()
    return setup.tmp / "run"
