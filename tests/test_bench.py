"""Benchmark bookkeeping without a model: the paired comparison, metric choice, the shipped task,
and the per-task cache.

    pytest tests/test_bench.py
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml
from lm_eval.api.model import LM

from judge.benchmarks.lmeval import (
    SHIPPED,
    check_tasks,
    pick_metric,
    run_bench,
    write_shipped_tasks,
)
from judge.benchmarks.paired import compare_bench, mcnemar_exact
from judge.errors import InputError
from judge.runs.folder import model_slug


def result(value, stderr, samples=None, limit=10, metric="acc"):
    settings = {"limit": limit, "num_fewshot": None, "source": "judge:x"}
    entry = {"settings": settings, "metric": metric, "value": value, "stderr": stderr, "n": 10,
             "metrics": {}, "samples": samples}
    return {"tasks": {"t": entry}}


def test_delta_and_its_standard_error_from_the_two_stderrs():
    row = compare_bench(result(0.50, 0.03), result(0.60, 0.04))["t"]
    assert row["metric"] == "acc"
    assert (row["base"], row["tuned"]) == (0.50, 0.60)
    assert row["delta"] == pytest.approx(0.10)
    assert row["stderr"] == pytest.approx(0.05)  # sqrt(0.03² + 0.04²)
    assert row["p_value"] is None  # no per-sample logs, no paired test


# (base outcomes, tuned outcomes, p, base-only, tuned-only), p by hand from Binomial(n, 1/2):
MCNEMAR = [
    ("1010", "1010", 1.0, 0, 0),  # no discordant pair
    ("100000", "011111", 14 / 64, 1, 5),  # 2 * P(X >= 5 | n=6) = 2 * 7/64
    ("1111", "0000", 2 / 16, 4, 0),  # 2 * P(X = 0 | n=4)
    ("10", "01", 1.0, 1, 1),
]


@pytest.mark.parametrize(("base", "tuned", "p", "only_base", "only_tuned"), MCNEMAR)
def test_mcnemar_exact_by_hand(base, tuned, p, only_base, only_tuned):
    as_dict = lambda s: {str(i): float(c) for i, c in enumerate(s)}  # noqa: E731
    got = mcnemar_exact(as_dict(base), as_dict(tuned))
    assert got is not None
    assert got[0] == pytest.approx(p)
    assert got[1:] == (only_base, only_tuned)


def test_paired_test_only_for_0_1_outcomes_on_shared_questions():
    assert mcnemar_exact({"0": 0.5}, {"0": 1.0}) is None
    assert mcnemar_exact({"0": 1.0}, {"1": 1.0}) is None
    row = compare_bench(result(0.5, 0.1, {"0": 1.0, "1": 0.0}),
                        result(1.0, 0.0, {"0": 1.0, "1": 1.0}))["t"]
    assert row["test"] == "mcnemar_exact" and row["p_value"] == 1.0
    assert row["discordant"] == {"base_only": 0, "tuned_only": 1}


def test_mismatched_runs_are_input_errors():
    with pytest.raises(InputError, match="different settings"):
        compare_bench(result(0.5, 0.1, limit=10), result(0.5, 0.1, limit=20))
    with pytest.raises(InputError, match="tuned model only"):
        compare_bench({"tasks": {}}, result(0.5, 0.1))


@pytest.mark.parametrize(("block", "expected"), [
    ({"acc_norm,none": 0.3, "acc,none": 0.2, "acc_stderr,none": 0.1}, ("acc", "none")),
    ({"exact_match,flexible": 0.4, "exact_match,none": 0.3}, ("exact_match", "none")),
    ({"mystery,none": 0.7, "alias": "x"}, ("mystery", "none")),
    ({"alias": "only text", "acc_stderr,none": "N/A"}, None),
])
def test_headline_metric_choice(block, expected):
    assert pick_metric(block) == expected


def test_shipped_task_points_at_its_data_by_absolute_path(tmp_path):
    hashes = write_shipped_tasks(tmp_path)
    assert "judge_mcq" in hashes
    config = yaml.safe_load((tmp_path / "judge_mcq.yaml").read_text())
    data = config["dataset_kwargs"]["data_files"]["test"]
    assert data == str((SHIPPED / "judge_mcq" / "judge_mcq.jsonl").resolve())
    assert config["output_type"] == "multiple_choice"
    rows = [json.loads(line) for line in Path(data).read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 50
    assert len({r["id"] for r in rows}) == len({r["question"] for r in rows}) == len(rows)
    for r in rows:
        assert len(r["choices"]) == len(set(r["choices"])) == 4
        assert r["answer"] in range(4)
    # the answer position is balanced, so always picking one letter scores 25%
    assert {sum(r["answer"] == k for r in rows) for k in range(4)} == {len(rows) // 4}


class Untouchable(LM):
    """Stands in for a loaded model in runs that must not evaluate anything."""

    def loglikelihood(self, requests, disable_tqdm=False):
        raise AssertionError("the model was used although the cache had the answer")

    loglikelihood_rolling = generate_until = loglikelihood


def cached_file(out, model, limit, fingerprint=None):
    source = "judge:" + write_shipped_tasks(out.parent)["judge_mcq"]
    entry = {"settings": {"limit": limit, "num_fewshot": None, "source": source},
             "metric": "acc", "value": 0.5, "stderr": 0.2, "n": limit, "metrics": {"acc": 0.5},
             "samples": None}
    owner = model.model_dump() | ({"fingerprint": fingerprint} if fingerprint else {})
    path = out / "bench" / f"{model_slug(model)}.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"schema": "judge.bench/1", "model": owner,
                                "tasks": {"judge_mcq": entry}}))
    return path, entry


def test_cached_task_is_reused_without_touching_the_model(tmp_path, fake_model):
    out = tmp_path / "run"
    path, entry = cached_file(out, fake_model, limit=5)
    before = path.read_bytes()
    got = run_bench(fake_model, ["judge_mcq"], out, limit=5, lm=Untouchable())
    assert got["tasks"] == {"judge_mcq": entry}
    assert path.read_bytes() == before


def test_changed_settings_or_model_mean_a_new_evaluation(tmp_path, fake_model):
    out = tmp_path / "run"
    cached_file(out, fake_model, limit=5)
    with pytest.raises(AssertionError, match="the model was used"):
        run_bench(fake_model, ["judge_mcq"], out, limit=6, lm=Untouchable())
    other = tmp_path / "other"
    cached_file(other, fake_model, limit=5, fingerprint="someone-else")
    with pytest.raises(AssertionError, match="the model was used"):
        run_bench(fake_model, ["judge_mcq"], other, limit=5, lm=Untouchable())


def test_bad_inputs_fail_before_any_model(tmp_path, fake_model):
    with pytest.raises(InputError, match="no benchmark task"):
        run_bench(fake_model, [" "], tmp_path)
    with pytest.raises(InputError, match="include-path"):
        run_bench(fake_model, ["judge_mcq"], tmp_path, include_path=tmp_path / "missing")
    broken = tmp_path / "bench" / f"{model_slug(fake_model)}.json"
    broken.parent.mkdir()
    broken.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        run_bench(fake_model, ["judge_mcq"], tmp_path, lm=Untouchable())
    assert broken.read_text() == "{not json"


def test_stderr_of_delta_is_none_when_a_side_has_none():
    row = compare_bench(result(0.5, None), result(0.6, 0.1))["t"]
    assert row["stderr"] is None and math.isclose(row["delta"], 0.1)


def test_check_tasks_accepts_the_shipped_task_and_rejects_bad_input(tmp_path):
    check_tasks(["judge_mcq"])  # local: no hub, no model
    with pytest.raises(InputError, match="include-path"):
        check_tasks(["judge_mcq"], tmp_path / "missing")


def test_own_task_folder_is_found_by_name(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    data = tmp_path / "rows.jsonl"
    data.write_text('{"q": "One plus one?", "choices": ["2", "3"], "answer": 0}\n')
    (folder / "my_task.yaml").write_text(
        f"task: my_task\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {data}\n"
        "test_split: test\noutput_type: multiple_choice\ndoc_to_text: '{{q}}'\n"
        "doc_to_choice: '{{choices}}'\ndoc_to_target: '{{answer}}'\n"
    )
    check_tasks(["my_task", "judge_mcq"], folder)  # found: no error
    with pytest.raises(InputError, match="my_tusk"):  # the same lookup does refuse a wrong name
        check_tasks(["my_tusk"], folder)
