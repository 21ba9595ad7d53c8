"""The Python API (judge/api/): what a notebook calls, on the scripted judge for exact numbers.

`judge.compare`, `judge.leaderboard`, `judge.stats`, `judge.agreement` and `judge.report` take
the CLI's options as keyword arguments and give the records the CLI prints; bad settings raise
InputError with the CLI's line; importing and calling the API leaves tqdm as it found it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import tqdm.std
from helpers import judge_cli, write_jsonl
from scenes import TABLE, Board, alpaca_eval, answers_of, ref_file

import judge
from judge import InputError


def scripted(b: Board, **options):
    """judge.compare's settings for a Board scene: the scripted judge, exact verdicts."""
    return {"judge": b.judge, "loader": b.load, "engine": "hf", "verdict": "text",
            "bootstrap": 200, "cache_dir": str(b.tmp / "cache"), **options}


def test_compare_returns_the_summary_and_the_verdicts_and_leaves_tqdm_alone(tmp_path, capsys):
    untouched = vars(tqdm.std.tqdm)["__init__"]  # the class's own entry
    b = Board(tmp_path)
    ref = ref_file(tmp_path)
    m1 = alpaca_eval(tmp_path / "m1.json", answers_of("m1"), "m1")
    result = judge.compare(ref, m1, **scripted(b, out=str(tmp_path / "run")))
    assert vars(tqdm.std.tqdm)["__init__"] is untouched  # no process-wide patch from the library
    assert "judge" in capsys.readouterr().err  # tqdm.auto's bars: one per stage, on stderr
    pw = result.summary.pairwise
    # colour and counting won in both orders; hello: the first shown wins, (1 + 0)/2 = a tie
    assert (pw.wins, pw.ties, pw.losses, pw.n) == (2, 1, 0, 3)
    assert pw.win_rate == pytest.approx(5 / 6)
    on_disk = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert result.summary.as_json() == on_disk and result.folder == str(tmp_path / "run")
    frame = result.to_pandas()
    assert list(frame["outcome"]) == ["tuned", "tuned", "tie"]
    assert list(frame["score"]) == [1.0, 1.0, 0.5]
    assert list(frame["split"]) == [False, False, True]
    assert frame["tuned_answer"][0] == "m1 answer to Name a colour."
    assert frame["prompt"][2] == "Say hello." and frame["category"][2] == "math"
    numbers = result.summary.to_pandas().set_index("field")["value"]
    assert numbers["pairwise.win_rate"] == pytest.approx(5 / 6)
    # the folder read back is the same record; judge.report writes its pages again
    assert judge.read_comparison(tmp_path / "run") == result
    written = judge.report(tmp_path / "run")
    assert written[0].name == "report.html"


def test_the_cli_is_the_api_and_its_tqdm_patch_ends_with_the_command(tmp_path):
    untouched = vars(tqdm.std.tqdm)["__init__"]  # the class's own entry
    b = Board(tmp_path)
    ref, m1 = ref_file(tmp_path), alpaca_eval(tmp_path / "m1.json", answers_of("m1"), "m1")
    result = judge.compare(ref, m1, **scripted(b, out=str(tmp_path / "run"), progress=False))
    (lines,) = (tmp_path / "run" / "judgments").glob("*.jsonl")
    ran = judge_cli("stats", str(lines), "--json", "--bootstrap", "200")
    assert ran.code == 0, ran.stderr
    assert vars(tqdm.std.tqdm)["__init__"] is untouched  # the CLI hid bars for its command only
    from_cli = json.loads(ran.stdout)
    from_api = judge.stats(lines, bootstrap=200)
    assert from_api.numbers == from_cli
    assert {k: from_cli[k] for k in on_disk_pairwise(result)} == on_disk_pairwise(result)
    table = from_api.to_pandas().set_index("field")["value"]
    assert table["wins"] == 2 and table["format"] == "judge"


def on_disk_pairwise(result) -> dict:
    return result.summary.as_json()["pairwise"]


def test_settings_are_checked_like_the_cli_and_raise_one_line(tmp_path):
    base, tuned = ref_file(tmp_path), alpaca_eval(tmp_path / "m.json", answers_of("m"), "m")
    out = tmp_path / "run"
    bad = [({"confidence": 5.0}, "Invalid value for '--confidence': Input should be less than "
            "or equal to 0.999"),
           ({"bootstrap": 5}, "Invalid value for '--bootstrap'"),
           ({"base_urls": [1]}, "Invalid value for '--base-url'"),
           ({"engine": "tpu"}, "Invalid value for '--engine'"),
           ({"limt": 3}, "no such setting: limt (did you mean limit?)"),
           ({"judge": []}, "Invalid value for '--judge'")]
    for options, line in bad:
        with pytest.raises(InputError) as err:
            judge.compare(base, tuned, out=str(out), progress=False, **options)
        assert str(err.value).startswith(line) and "\n" not in str(err.value)
        assert not out.exists()  # nothing written
    # the CLI names the option the same way (click words the rest)
    ran = judge_cli("compare", base, tuned, "--confidence", "5", "--out", str(out))
    assert "Invalid value for '--confidence'" in ran.error_line()
    with pytest.raises(InputError, match="--judge and --pairs go together"):
        judge.agreement(pairs=str(tmp_path / "p.jsonl"))


def test_keyword_arguments_fill_the_one_settings_record():
    from judge.api.settings import compare_config
    from judge.engines import EngineOptions

    first = compare_config("a", "b", None, {
        "limit": 3, "judge": ["j1", "j2@graded"], "bench": "x, y", "engine": "hf",
        "dtype": "float32", "base_urls": "http://h/v1", "cache_dir": "/c"})
    assert (first.judge, first.panel, first.bench, first.limit) == ("j1", ["j2@graded"],
                                                                    ["x", "y"], 3)
    assert (first.engine.kind, first.engine.dtype, first.engine.base_urls) == (
        "hf", "float32", ("http://h/v1",))
    assert first.out == "results/a-vs-b" and first.cache_dir == "/c"
    # a record given whole, options over it; another pair gets its own folder
    again = compare_config("a", "c", first, {"seed": 5})
    assert (again.limit, again.panel, again.engine.kind) == (3, ["j2@graded"], "hf")
    assert again.engine.seed == again.seed == 5 and again.out == "results/a-vs-c"
    assert compare_config("a", "b", first, {}).model_dump() == first.model_dump()
    served = compare_config("a", "b", None, {"engine": EngineOptions(kind="openai",
                                                                     api_key="k")})
    assert served.engine.api_key == "k" and served.engine.kind == "openai"


def test_leaderboard_stats_and_agreement_return_their_records(tmp_path):
    b = Board(tmp_path)
    ref = ref_file(tmp_path)
    m1 = alpaca_eval(tmp_path / "m1.json", answers_of("m1"), "m1")
    m2 = alpaca_eval(tmp_path / "m2.json", answers_of("m2"), "m2")
    options = scripted(b, out=str(tmp_path / "lb"), progress=False)
    board = judge.leaderboard(ref, [m2, m1], **options)
    frame = board.to_pandas()
    assert list(frame["name"]) == ["m1", "m2"] and list(frame["rank"]) == [1, 2]
    assert list(frame["win_rate"]) == pytest.approx([5 / 6, 1 / 2])
    assert frame["categories.chat.win_rate"][0] == 1.0  # nested numbers: dotted columns
    models = judge.stats(tmp_path / "lb", bootstrap=200)  # a leaderboard folder: Bradley–Terry
    assert models.kind == "models" and models.numbers["baseline"] == "ref"
    assert set(models.to_pandas()["model"]) == {"ref", "m1", "m2"}
    verdicts = write_jsonl(tmp_path / "v.jsonl", [
        {"id": i, "label": label, "verdict": v, "verdict_swapped": s} for i, label, v, s in TABLE])
    found = judge.agreement(verdicts)
    ran = judge_cli("agreement", str(verdicts), "--json")
    assert found.numbers == json.loads(ran.stdout) and found.format == "agreement"
    assert found.to_pandas().set_index("field")["value"]["n"] == len(TABLE)


def test_import_judge_stays_light_and_the_names_are_there():
    code = ("import sys, judge\n"
            "heavy = [m for m in ('judge.api', 'judge.pipeline', 'pandas', 'torch') "
            "if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "from judge import compare, leaderboard, stats, agreement, report\n"
            "import judge.stats.pairwise, judge.report.export\n"
            "from judge import stats as again\n"
            "assert all(callable(f) for f in (compare, leaderboard, stats, agreement, report))\n"
            "assert callable(again) and callable(judge.report)\n"
            "assert 'pandas' not in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
