"""Files other tools read and write: alpaca_eval's annotations.json and leaderboard.csv written
from our ledgers (read back by alpaca_eval's own win-rate code and by `judge stats`), and
lm-eval's --log_samples files taken as answers files. The judge is the scripted one (exact
verdicts); the lm-eval lines are written here in the shape lm-eval's EvaluationTracker writes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers import ROOT, judge_cli, snapshot, write_jsonl
from scenes import ANSWER_PROMPTS, Board, alpaca_eval, answers_of, ref_file

import judge
from judge.frames import flat_fields
from judge.models.answers import read_answers

# what alpaca_eval's own code says about its dependencies
pytestmark = [pytest.mark.filterwarnings("ignore:pkg_resources:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:The inplace keyword")]
SAME = ("n", "wins", "ties", "losses", "win_rate", "standard_error", "discrete_win_rate", "ci",
        "p_value")


def board_with_exports(tmp_path: Path) -> Path:
    b = Board(tmp_path)
    m1 = alpaca_eval(tmp_path / "m1.json", answers_of("m1"), "m1")
    m2 = alpaca_eval(tmp_path / "m2.json", answers_of("m2"), "m2")
    b.run(ref_file(tmp_path), m2, m1, export=["alpaca_eval"])
    return tmp_path / "lb"


def test_alpaca_eval_files_round_trip_through_alpaca_eval_and_judge_stats(tmp_path):
    from alpaca_eval.metrics import get_winrate  # alpaca_eval's own reader of its annotations

    lb = board_with_exports(tmp_path)
    m1 = json.loads((lb / "m1" / "alpaca_eval" / "annotations.json").read_text())
    # one record per prompt, baseline first; preference 1 + the prompt's score (orders averaged)
    assert [r["preference"] for r in m1] == [2.0, 2.0, 1.5]
    assert m1[0] == {"instruction": ANSWER_PROMPTS["q1"],
                     "output_1": "ref answer to Name a colour.", "generator_1": "ref",
                     "output_2": "m1 answer to Name a colour.", "generator_2": "m1",
                     "annotator": "judge@pairwise", "preference": 2.0, "dataset": "chat"}
    m2 = json.loads((lb / "m2" / "alpaca_eval" / "annotations.json").read_text())
    assert [r["preference"] for r in m2] == [1.0, 2.0, 1.5]
    # the leaderboard's table: alpaca_eval's columns, percent, best first
    table = pd.read_csv(lb / "alpaca_eval" / "leaderboard.csv", index_col=0)
    assert list(table.index) == ["m1", "m2"]
    assert list(table.columns) == ["win_rate", "standard_error", "n_wins", "n_wins_base",
                                   "n_draws", "n_total", "discrete_win_rate",
                                   "length_controlled_winrate", "lc_standard_error", "mode",
                                   "avg_length"]
    assert table["length_controlled_winrate"].isna().all()  # alpaca_eval's own: not ours to give
    # alpaca_eval's evaluate() takes it as a precomputed leaderboard (AlpacaEval 2: sorted by the
    # length-controlled column, empty here) and gives its table back
    from alpaca_eval.main import evaluate

    theirs, _ = evaluate(model_outputs=None, precomputed_leaderboard=str(
        lb / "alpaca_eval" / "leaderboard.csv"), output_path=None, max_instances=1,
        is_cache_leaderboard=False, is_return_instead_of_print=True)
    assert list(theirs.index) == ["m1", "m2"]
    assert theirs.loc["m1", "win_rate"] == pytest.approx(100 * 5 / 6)
    assert table.loc["m1", "win_rate"] == pytest.approx(100 * 5 / 6)
    assert table.loc["m2", "win_rate"] == pytest.approx(50.0)
    for name, records in (("m1", m1), ("m2", m2)):
        theirs = get_winrate(annotations=records)
        for column in ("win_rate", "standard_error", "n_wins", "n_wins_base", "n_draws",
                       "n_total", "discrete_win_rate"):
            assert table.loc[name, column] == pytest.approx(float(theirs[column])), column
        # judge stats reads the annotations back to the numbers of the run's summary.json
        ran = judge_cli("stats", str(lb / name / "alpaca_eval" / "annotations.json"), "--json",
                        "--bootstrap", "200")
        read = json.loads(ran.stdout)
        summary = json.loads((lb / name / "summary.json").read_text())["pairwise"]
        assert read["format"] == "alpaca_eval"
        assert flat_fields({k: read[k] for k in SAME}) == pytest.approx(
            flat_fields({k: summary[k] for k in SAME}))
        one = pd.read_csv(lb / name / "alpaca_eval" / "leaderboard.csv", index_col=0)
        pd.testing.assert_series_equal(one.loc[name], table.loc[name])


def test_judge_report_exports_a_finished_folder_from_its_ledgers(tmp_path):
    lb = board_with_exports(tmp_path)
    made = {p: p.read_bytes() for p in lb.rglob("alpaca_eval/*")}
    for path in made:
        path.unlink()
    ran = judge_cli("report", str(lb), "--export", "alpaca_eval")
    assert ran.code == 0, ran.stderr
    assert {p: p.read_bytes() for p in lb.rglob("alpaca_eval/*")} == made
    run = lb / "m1"
    before = snapshot(run)
    bad = judge_cli("report", str(run / "judgments"), "--export", "alpaca_eval")
    assert "is neither a run folder" in bad.error_line()
    assert snapshot(run) == before
    sweep_like = tmp_path / "elsewhere"
    sweep_like.mkdir()
    (sweep_like / "sweep.json").write_text("{}")
    with pytest.raises(judge.InputError, match="neither a run folder"):
        judge.report(sweep_like, export=["alpaca_eval"])  # refused before any page is written
    assert [p.name for p in sweep_like.iterdir()] == ["sweep.json"]
    written = judge.report(run, export=["alpaca_eval"])
    assert run / "alpaca_eval" / "annotations.json" in written


# lm-eval's samples_<task>_<date>.jsonl lines for a generate_until task: the doc, the request's
# arguments (context, then the sampling settings), the raw and the filtered responses
def lm_eval_samples(folder: Path, task: str, answers: dict[str, str]) -> str:
    rows = []
    for n, (qid, text) in enumerate(ANSWER_PROMPTS.items()):
        doc = {"key": n, "prompt": text, "instruction_id_list": ["detectable_format:title"]}
        context = f"<|im_start|>user\n{text}<|im_end|>\n<|im_start|>assistant\n"
        rows.append({
            "doc_id": n, "doc": doc, "target": "0",
            "arguments": {"gen_args_0": {"arg_0": context,
                                         "arg_1": {"until": [], "do_sample": False}}},
            "resps": [[answers[qid] + "  "]], "filtered_resps": [answers[qid]],
            "filter": "none", "metrics": ["prompt_level_strict_acc"],
            "doc_hash": "d", "prompt_hash": "p", "target_hash": "t",
            "prompt_level_strict_acc": False})
    return str(write_jsonl(folder / f"samples_{task}_2026-01-02T03-04-05.678901.jsonl", rows))


def test_lm_eval_samples_are_answers_files(tmp_path):
    ref = lm_eval_samples(tmp_path / "lm" / "org__ref", "ifeval",
                          {q: f"ref answer to {t}" for q, t in ANSWER_PROMPTS.items()})
    m1 = lm_eval_samples(tmp_path / "lm" / "org__m1", "ifeval", answers_of("m1"))
    found = read_answers(m1)
    assert (found.format, found.name) == ("lm_eval_samples", "org__m1")
    first = found.rows[0]
    assert (first.prompt_id, first.prompt, first.outputs, first.category) == (
        "0", "Name a colour.", ["m1 answer to Name a colour."], "ifeval")
    b = Board(tmp_path)
    result = judge.compare(ref, m1, judge=b.judge, loader=b.load, engine="hf", verdict="text",
                           bootstrap=200, out=str(tmp_path / "run"),
                           cache_dir=str(tmp_path / "cache"), progress=False)
    assert b.loaded == ["judge"]  # the samples answered: no model loads but the judge
    pw = result.summary.pairwise
    assert (pw.wins, pw.ties, pw.losses) == (2, 1, 0)  # as with the same answers in any format
    assert set(result.to_pandas()["category"]) == {"ifeval"}


# written by lm-eval 0.4.13 itself: simple_evaluate(log_samples=True, limit=3) with the tiny model
# on a generate_until task of three prompts (doc_to_text "{{prompt}}", max_gen_toks 8), saved by
# its EvaluationTracker.save_results_samples into OUT/org__tiny/
LM_EVAL_RUN = ROOT / "tests" / "data" / "lm_eval" / "org__tiny"


def test_a_real_lm_eval_samples_file_reads_as_answers():
    (path,) = LM_EVAL_RUN.glob("samples_judge_gen_*.jsonl")
    found = read_answers(str(path))
    assert (found.format, found.name) == ("lm_eval_samples", "org__tiny")
    assert [r.prompt for r in found.rows] == ["Name a colour.", "Count to three.", "Say hello."]
    assert [r.prompt_id for r in found.rows] == ["0", "1", "2"]
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r.outputs for r in found.rows] == [[line["filtered_resps"][0]] for line in lines]
    assert {r.category for r in found.rows} == {"judge_gen"}


def test_lm_eval_samples_without_answers_are_refused(tmp_path):
    rows = [{"doc_id": 0, "doc": {"question": "2 + 2?", "choices": ["3", "4"]}, "target": "1",
             "arguments": {"gen_args_0": {"arg_0": "Q: 2 + 2?\nA:", "arg_1": " 3"},
                           "gen_args_1": {"arg_0": "Q: 2 + 2?\nA:", "arg_1": " 4"}},
             "resps": [[["-2.1", "False"]], [["-0.3", "True"]]],
             "filtered_resps": [["-2.1", "False"], ["-0.3", "True"]], "filter": "none"}]
    scores = write_jsonl(tmp_path / "m" / "samples_mcq_2026-01-02T03-04-05.678901.jsonl", rows)
    other = alpaca_eval(tmp_path / "o.json", answers_of("o"), "o")
    ran = judge_cli("compare", other, str(scores), "--out", str(tmp_path / "run"))
    assert "scores choices (loglikelihood)" in ran.error_line()
    assert not (tmp_path / "run").exists()
    # a doc without a prompt field: the context lm-eval sent is the prompt
    no_field = dict(rows[0], doc={"id": 7},
                    arguments={"gen_args_0": {"arg_0": "Say hi.", "arg_1": {"until": []}}},
                    filtered_resps=["hi"])
    path = write_jsonl(tmp_path / "n" / "samples_t_2026-01-02T03-04-05.678901.jsonl", [no_field])
    assert read_answers(str(path)).rows[0].prompt == "Say hi."
