"""`judge stats` as a user meets it: same numbers as compare, three formats, one-line errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import judge_cli
from scenes import ScriptedEngine, make_folder

from judge.cli.main import cli
from judge.engines import EngineOptions
from judge.pipeline.compare import CompareConfig, run_compare


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))

PROMPTS = [f"Question number {i}?" for i in range(6)]


def scripted_loader(model, options):
    """Base and tuned answer with texts of varied length; the judge follows a fixed script."""
    role = Path(model.path).name
    answers = {p: f"base answer {i}" + "." * (3 * i) for i, p in enumerate(PROMPTS)}
    if role == "tuned":
        answers = {p: f"tuned reply {i}" + "!" * (7 * i % 11) for i, p in enumerate(PROMPTS)}
    replies = {
        "Answer A:\nbase answer 0": "A.", "Answer A:\ntuned reply 0": "A.",  # position bias: tie
        "Answer A:\nbase answer 1": "B", "Answer A:\ntuned reply 1": "A",  # tuned both times
        "base answer 2": "Hmm.", "base answer 3": "Hmm.",  # no text verdict
        "base answer 4": "tie",
        "Answer A:\nbase answer 5": "A", "Answer A:\ntuned reply 5": "B",  # base both times
    }
    probs = {"base answer 2": {"A": 0.2, "B": 0.7, "tie": 0.1}}  # q3 gets none: invalid
    if role != "judge":
        replies, probs = {}, {}
    return ScriptedEngine(model, replies=replies, probs=probs, answers=answers)


@pytest.fixture
def compare_run(tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"prompt_id": f"q{i}", "prompt": p,
                                           "category": "math" if i < 3 else "chat"}) + "\n"
                               for i, p in enumerate(PROMPTS)))

    def run(**options) -> tuple[dict, Path]:
        out = tmp_path / "run"
        config = CompareConfig(
            base=make_folder(tmp_path, "base"), tuned=make_folder(tmp_path, "tuned"),
            judge=make_folder(tmp_path, "judge"), prompts=str(prompts), out=str(out),
            cache_dir=str(tmp_path / "cache"), engine=EngineOptions(kind="hf"), **options)
        run_compare(config, lambda name, total: lambda done, tokens: None, scripted_loader)
        (judgments,) = (out / "judgments").glob("*.jsonl")
        return json.loads((out / "summary.json").read_text()), judgments

    return run


@pytest.mark.parametrize("options, flags", [
    ({}, []),
    ({"confidence": 0.9, "bootstrap": 300, "seed": 7},
     ["--confidence", "0.9", "--bootstrap", "300", "--seed", "7"]),
])
def test_stats_reproduces_compare_summary(compare_run, options, flags):
    summary, judgments = compare_run(**options)
    result = CliRunner().invoke(cli, ["stats", str(judgments), "--json", *flags])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["format"] == "judge"
    assert {k: out[k] for k in summary["pairwise"]} == summary["pairwise"]
    # the lines carry their prompt's category, so the per-category block comes back too
    assert out["by_category"] == summary["by_category"] and list(out["by_category"]) == [
        "chat", "math"]
    # q0-q2 math: tie, tuned, tie -> .5, 1, .5; q3 invalid, q4 tie, q5 base -> chat .5, 0
    assert summary["by_category"]["math"]["win_rate"] == pytest.approx(2 / 3)
    assert summary["by_category"]["chat"]["n"] == 2
    # lengths are in the file, the answers themselves are not: the length bias comes back, the
    # list bias only in compare's summary (it read the answers), with the reason here
    for key in ("first_position_rate", "position_consistency", "prefer_longer", "n_prefer_longer"):
        assert out["bias"][key] == summary["bias"][key]
    assert out["bias"]["prefer_lists"] is None and "texts" in out["bias"]["reasons"]["prefer_lists"]
    assert summary["bias"]["reasons"].get("prefer_lists", "").startswith("no decisive")
    pw = summary["pairwise"]
    # the script: q0 tie (position bias), q1 tuned, q2 tie by log-probs, q3 invalid, q4 tie,
    # q5 base; so 5 items, 2 invalid lines, and the log-prob lines of q2 give p_tuned .75 and .25
    assert (pw["n"], pw["n_invalid"], pw["wins"], pw["ties"], pw["losses"]) == (5, 2, 1, 3, 1)
    assert pw["win_rate"] == pytest.approx(0.5)
    assert pw["lc_win_rate"] is not None and pw["lc_model"]["length_sd"] > 0
    assert pw["position_consistency"] == pytest.approx(3 / 5)  # q1, q4, q5 agree; q0, q2 flip


def test_stats_shows_a_table_for_each_format(tmp_path):
    pairwise = tmp_path / "pairwise.jsonl"
    pairwise.write_text("".join(json.dumps({"prompt_id": str(i), "preference": p}) + "\n"
                                for i, p in enumerate([2, 1.5, 1.9, 1])))
    battles = tmp_path / "battles.jsonl"
    rows = [{"prompt_id": f"b{i}", "model_a": a, "model_b": b, "winner": w} for i, (a, b, w) in
            enumerate([("x", "y", "model_b"), ("x", "y", "model_a"), ("y", "z", "model_b"),
                       ("x", "z", "tie"), ("x", "y", "model_b")])]
    battles.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ratings = tmp_path / "ratings.jsonl"
    rated = [{"prompt_id": str(i), "rating_base": b, "rating_tuned": t}
             for i, (b, t) in enumerate([(3, 5), (4, 4), (2, 6)])]
    ratings.write_text("".join(json.dumps(r) + "\n" for r in rated))
    runner = CliRunner()
    shown = runner.invoke(cli, ["stats", str(pairwise)])
    assert shown.exit_code == 0 and "length-controlled win rate" in shown.output
    assert "2 / 1 / 1" in shown.output  # scores 1, .5, .9, 0: wins / ties / losses
    shown = runner.invoke(cli, ["stats", str(battles), "--baseline", "x", "--bootstrap", "200"])
    assert shown.exit_code == 0 and "baseline x" in shown.output and "z" in shown.output
    as_json = runner.invoke(cli, ["stats", str(battles), "--baseline", "x", "--bootstrap", "200",
                                  "--json"])
    fit = json.loads(as_json.output)
    assert (fit["format"], fit["baseline"], fit["n"], fit["n_invalid"]) == ("battles", "x", 5, 0)
    models = fit["models"]
    assert {m: (v["battles"], v["wins"], v["losses"], v["ties"]) for m, v in models.items()} == {
        "x": (4, 1, 2, 1), "y": (4, 2, 2, 0), "z": (2, 1, 0, 1)}
    # Bradley-Terry, a tie half a win, x fixed at 0: the fit makes each model's expected score
    # its observed one. y: 2 of 3 against x, 0 of 1 against z; z: 1 of 1 against y, 1/2 of 1
    # against x (the ridge moves this by less than 1e-3)
    y, z = models["y"]["strength"], models["z"]["strength"]
    assert models["x"]["strength"] == 0.0
    assert 3 * sigmoid(y) + sigmoid(y - z) == pytest.approx(2, abs=1e-3)
    assert sigmoid(z - y) + sigmoid(z) == pytest.approx(1.5, abs=1e-3)
    for v in models.values():  # Elo 1000 + 400 log10(e) s, win rate against x: sigmoid(s)
        assert v["elo"] == pytest.approx(1000 + 400 * v["strength"] / math.log(10))
        assert v["win_rate"] == pytest.approx(sigmoid(v["strength"]))
        assert v["ci"]["low"] <= v["win_rate"] <= v["ci"]["high"]
    shown = runner.invoke(cli, ["stats", str(ratings)])
    assert shown.exit_code == 0 and "Wilcoxon" in shown.output and "+2.000" in shown.output
    as_json = runner.invoke(cli, ["stats", str(ratings), "--json"])
    # differences 2, 0, 4: mean 2, sd 2, SE 2/sqrt(3); two higher, one equal. Wilcoxon drops the
    # zero: ranks 1 and 2 both positive, P(W+ >= 3) = 1/4 of the 4 sign patterns, two-sided 0.5.
    # Bootstrap means of 3 draws from {2, 0, 4}: all 0 or all 4 each happen 1 time in 27 (3.7%),
    # more than the 2.5% in each tail, so the 95% interval is [0, 4].
    assert json.loads(as_json.output) == {
        "format": "ratings", "n": 3, "n_invalid": 0, "mean_base": 3.0, "mean_tuned": 5.0,
        "mean_difference": 2.0, "standard_error": pytest.approx(2 / math.sqrt(3)),
        "ci": {"method": "paired_bootstrap", "level": 0.95, "low": 0.0, "high": 4.0,
               "resamples": 2000, "seed": 0},
        "higher": 2, "lower": 0, "equal": 1, "p_value": pytest.approx(0.5)}


def test_a_torn_last_line_is_dropped_not_fatal(tmp_path):
    path = tmp_path / "j.jsonl"
    text = '{"prompt_id": "a", "winner": "tuned"}\n{"prompt_id": "b", "winner": "base"}\n{"prom'
    path.write_text(text)
    done = judge_cli("stats", str(path), "--json")
    assert done.code == 0
    assert json.loads(done.stdout)["n"] == 2 and "torn" in done.stderr
    assert path.read_text() == text


def bad_files(tmp: Path) -> dict[str, tuple[str, list[str], str]]:
    """name -> (file content, extra flags, a word the error line must contain)."""
    ok = '{"prompt_id": "a", "score": 1.0}\n'
    return {
        "empty": ("", [], "no lines"),
        "blank lines only": ("\n\n", [], "no lines"),
        "no valid line": ('{"prompt_id": "a", "winner": "invalid"}\n', [], "no valid"),
        "score above 1": ('{"prompt_id": "a", "score": 1.5}\n', [], "outside"),
        "preference below 1": ('{"prompt_id": "a", "preference": 0.5}\n', [], "outside"),
        "unknown winner": ('{"prompt_id": "a", "winner": "tunned"}\n', [], "unknown winner"),
        "text score": ('{"prompt_id": "a", "score": "high"}\n', [], "not a number"),
        "models and pairwise": (ok + '{"prompt_id": "b", "model_a": "x", "model_b": "y", '
                                '"score": 1}\n', [], "mixed formats"),
        "score and winner lines": (ok + '{"prompt_id": "b", "winner": "tuned"}\n', [],
                                   "mixed formats"),
        "score against winner": ('{"prompt_id": "a", "score": 0.9, "winner": "base"}\n', [],
                                 "disagrees"),
        "ratings and verdict": ('{"prompt_id": "a", "rating_base": 1, "rating_tuned": 2, '
                                '"score": 1}\n', [], "both"),
        "no prompt id": ('{"score": 1.0}\n', [], "prompt_id"),
        "twice one order": ('{"prompt_id": "a", "order": "base_first", "winner": "tie"}\n' * 2,
                            [], "twice"),
        "some lengths": (ok.replace("}", ', "len_base": 3, "len_tuned": 4}') +
                         '{"prompt_id": "b", "score": 0.0}\n', [], "len_base"),
        "broken middle line": (ok + "{oops\n" + ok.replace('"a"', '"b"'), [], "not a JSON"),
        "baseline on pairwise": (ok, ["--baseline", "x"], "model_a"),
        "unknown baseline": ('{"prompt_id": "a", "model_a": "x", "model_b": "y", "score": 1}\n',
                             ["--baseline", "w"], "--baseline w"),
        "bad option": (ok, ["--bootstrap", "5"], "bootstrap"),
    }


def test_bad_inputs_exit_2_with_one_line_and_change_nothing(tmp_path):
    for name, (content, flags, word) in bad_files(tmp_path).items():
        path = tmp_path / f"{name.replace(' ', '-')}.jsonl"
        path.write_text(content)
        line = judge_cli("stats", str(path), *flags, cwd=tmp_path).error_line(2)
        assert word in line, (name, line)
        assert path.read_text() == content, name
    missing = judge_cli("stats", str(tmp_path / "nope.jsonl")).error_line(2)
    assert "does not exist" in missing
