"""Real lm-eval on the shipped judge_mcq task with the tiny model (10 questions): the scores, the
cache and the CLI around lm-eval, not the model's answers.

    pytest tests/test_bench_lmeval.py -m slow
"""

from __future__ import annotations

import math
import statistics

import pytest
from click.testing import CliRunner
from helpers import judge_cli

from judge.benchmarks.lmeval import run_bench
from judge.benchmarks.paired import compare_bench
from judge.cli.main import cli
from judge.runs.folder import model_slug

pytestmark = pytest.mark.slow
LIMIT = 10


@pytest.fixture(scope="module")
def bench_run(tiny, module_tmp):
    out = module_tmp
    return out, run_bench(tiny, ["judge_mcq"], out, limit=LIMIT)


def test_scores_agree_with_the_per_question_log(bench_run):
    _, result = bench_run
    entry = result["tasks"]["judge_mcq"]
    samples = list(entry["samples"].values())
    assert entry["metric"] == "acc" and entry["n"] == LIMIT == len(samples)
    assert set(samples) <= {0.0, 1.0}
    assert entry["value"] == pytest.approx(statistics.fmean(samples))
    assert entry["stderr"] == pytest.approx(statistics.stdev(samples) / math.sqrt(LIMIT))
    assert 0.0 <= entry["metrics"]["acc_norm"] <= 1.0


def test_rerun_is_served_from_the_run_folder(bench_run, tiny):
    out, first = bench_run
    path = out / "bench" / f"{model_slug(tiny)}.json"
    before = path.read_bytes()
    again = run_bench(tiny, ["judge_mcq"], out, limit=LIMIT, lm=object())  # never used
    assert again == first
    assert path.read_bytes() == before


def test_an_already_loaded_model_gives_the_same_answers(bench_run, tiny, engines, tmp_path):
    from lm_eval.models.huggingface import HFLM

    engine = engines("hf", "tiny")  # the session's transformers engine: its weights, no 2nd load
    lm = HFLM(pretrained=engine.net, tokenizer=engine.tokenizer, batch_size=8)
    reused = run_bench(tiny, ["judge_mcq"], tmp_path, limit=LIMIT, lm=lm)
    assert reused["tasks"]["judge_mcq"]["samples"] == bench_run[1]["tasks"]["judge_mcq"]["samples"]


def test_a_model_against_itself_has_zero_delta_and_p_one(bench_run):
    _, result = bench_run
    row = compare_bench(result, result)["judge_mcq"]
    se = result["tasks"]["judge_mcq"]["stderr"]
    assert row["delta"] == 0.0 and row["p_value"] == 1.0
    assert row["stderr"] == pytest.approx(math.sqrt(2) * se)


def test_cli_prints_the_cached_score(bench_run, cache_dir, tiny):
    out, result = bench_run
    value = result["tasks"]["judge_mcq"]["value"]
    got = CliRunner().invoke(cli, ["bench", tiny.ref, "--tasks", "judge_mcq", "--limit",
                                   str(LIMIT), "--out", str(out), "--cache-dir", str(cache_dir)])
    assert got.exit_code == 0, got.output
    assert f"{100 * value:5.1f}%" in got.output and "judge_mcq" in got.output


def test_unknown_task_exits_2_with_one_line_and_no_file(tmp_path, cache_dir, tiny):
    proc = judge_cli("bench", tiny.ref, "--tasks", "no_such_task_xyz", "--out", str(tmp_path),
                     "--cache-dir", str(cache_dir))
    assert proc.code == 2
    lines = [line for line in proc.stderr.strip().splitlines() if line.startswith("judge:")]
    assert len(lines) == 1 and "no_such_task_xyz" in lines[0] and "hub" in lines[0]
    assert not (tmp_path / "bench").exists()
