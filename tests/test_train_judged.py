"""The judged win rate during training, for real: 4 ORPO steps on the tiny model with
--judge-every 2, 4 builtin prompts, the tiny model judging in both orders through judge's own hf
engine (its verdicts come from label probabilities: it never answers a label in text).

Then the kill the checkpoints exist for: the folder loses checkpoint-4 (as if the process died
after judging step 4, before saving it) and training resumes from checkpoint-2. Steps 3 and 4 are
trained again; the base is not answered again and nothing is judged twice.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import SMALL, metric_lines, train, weights
from judge.train.judged import FOLDER

from judge.engines import EngineOptions
from judge.engines.pool import EnginePool
from judge.pipeline.compare import shown_request
from judge.pipeline.generate import generate_stage
from judge.pipeline.judging import Judge, judge_stage
from judge.promptsets.load import load_prompts
from judge.records import Generation, Judgment, SamplingParams
from judge.runs.folder import model_slug
from judge.runs.ledger import Ledger
from judge.stats.pairwise import summarize
from judge.templates.template import load_template

pytestmark = pytest.mark.slow
KEYS = ("eval_judge_win_rate", "eval_judge_win_rate_low", "eval_judge_win_rate_high",
        "eval_judge_n", "eval_judge_ties", "eval_judge_invalid", "eval_judge_runtime")


def train_judged(cache_dir: Path, model: str, out: Path, *extra: str) -> dict:
    return train(cache_dir, "orpo", "--recipe", "smollm2-cpu", "--model", model, "--output-dir",
                 str(out), "--max-steps", "4", "--save-steps", "2", "--save-total-limit", "2",
                 *SMALL, "--judge-every", "2", "--judge-prompts", "builtin", "--judge-limit", "4",
                 "--judge", model, "--judge-answer-tokens", "32", *extra)


def cache_files(out: Path) -> dict[str, bytes]:
    root = out / FOLDER
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.jsonl"))}


@pytest.fixture(scope="module")
def run(module_tmp, cache_dir, tiny):
    out = module_tmp / "tuned"
    record = train_judged(cache_dir, tiny.ref, out)
    return out, record, metric_lines(out), cache_files(out), weights(out)


def test_the_metric_is_logged_at_every_nth_step_with_its_interval(run):
    out, record, logged, _, _ = run
    judged = [row for row in logged if "eval_judge_n" in row]
    assert [row["step"] for row in judged] == [2, 4]
    for row in judged:
        assert set(KEYS) <= set(row)
        assert 0 <= row["eval_judge_win_rate_low"] <= row["eval_judge_win_rate"] \
            <= row["eval_judge_win_rate_high"] <= 1
        assert row["eval_judge_n"] + row["eval_judge_invalid"] / 2 >= 4 - 1e-9  # 4 prompts
        assert row["eval_judge_ties"] <= row["eval_judge_n"] <= 4
        assert not any(k in row for k in ("loss", "rewards/accuracies"))
    # the judged line does not displace the step's own training line (logging_steps 1)
    assert [row["step"] for row in logged if "loss" in row] == [1, 2, 3, 4]
    assert record["judged"] == judged[-1]


def test_the_rate_is_judge_stats_summary_of_the_cached_lines(run, tiny):
    out, _, logged, files, _ = run
    generations = [n for n in files if n.startswith("generations/")]
    assert len(generations) == 3  # the base once, the policy at steps 2 and 4
    assert len(files) == 4  # and one verdict ledger for every step
    root = out / FOLDER

    def answers(prefix: str) -> dict[str, str]:
        (name,) = [n for n in generations if Path(n).name.startswith(prefix)]
        ledger = Ledger(root / name, Generation)
        return {g.prompt_id: g.output for g in ledger.records.values()}

    base, step4 = answers(model_slug(tiny)), answers("step-4-")
    assert len(base) == len(step4) == 4
    items = load_prompts("builtin", None, 4)
    (verdicts,) = [n for n in files if n.startswith("judgments/")]
    ledger = Ledger(root / verdicts, Judgment)
    judge = Judge(tiny, load_template("pairwise"), "both", SamplingParams(max_new_tokens=48))

    def no_engine(model, options):
        raise AssertionError("every verdict of step 4 is in the ledger")

    found, _ = judge_stage(EnginePool(EngineOptions(), no_engine), judge,
                           [shown_request(i) for i in items],
                           {pid: (base[pid], step4[pid]) for pid in base}, ledger, 16,
                           lambda done, tokens: None)
    assert sorted((j.prompt_id, j.order) for j in found) == sorted(
        (pid, order) for pid in base for order in ("base_first", "tuned_first"))
    stats = summarize([j.model_dump() for j in found])
    row = [r for r in logged if r.get("eval_judge_n") and r["step"] == 4][0]
    assert row["eval_judge_win_rate"] == pytest.approx(stats.win_rate)
    assert (row["eval_judge_win_rate_low"], row["eval_judge_win_rate_high"]) == \
        pytest.approx((stats.ci.low, stats.ci.high))
    assert (row["eval_judge_n"], row["eval_judge_invalid"]) == (stats.n, stats.n_invalid)


def test_a_killed_run_resumes_without_answering_or_judging_again(run, cache_dir, tiny):
    out, _, first_lines, files, trained = run
    shutil.rmtree(out / "checkpoint-4")  # the kill: step 4 judged, its checkpoint never saved
    record = train_judged(cache_dir, tiny.ref, out, "--resume")
    assert record["resumed_from"].endswith("checkpoint-2") and record["steps_run"] == 2
    assert cache_files(out) == files  # no new answer, no new verdict, base answers untouched
    again = [row for row in metric_lines(out)[len(first_lines):] if "eval_judge_n" in row]
    assert [row["step"] for row in again] == [4]
    first = [row for row in first_lines if row.get("eval_judge_n") and row["step"] == 4][0]
    assert {k: again[0][k] for k in KEYS[:-1]} == {k: first[k] for k in KEYS[:-1]}
    # resuming restored the checkpoint's weights, optimizer, scheduler and RNG state: on this
    # CPU the retrained step 4 is the same model, so the cached answers are its answers
    resumed = weights(out)
    assert resumed.keys() == trained.keys()
    assert all(resumed[k].equal(trained[k]) for k in trained)


# learning rates far enough from the base that the step-2 model answers differently
@pytest.mark.parametrize("lora", [["--learning-rate", "1e-3"],
                                  ["--lora", "4,8,0.0", "--learning-rate", "2e-2"]],
                         ids=["copy", "adapter-off"])
def test_a_resumed_run_without_base_answers_asks_the_base(tmp_path, cache_dir, tiny,
                                                          real_loader, lora):
    """Started without --judge-every, resumed with it: the base answers now (a loaded copy, or
    the adapter switched off), and its answers are the ones judge's hf engine gives the base."""
    out = tmp_path / "sft"
    common = ["--recipe", "smollm2-sft-cpu", "--model", tiny.ref, "--output-dir", str(out),
              "--save-steps", "1", "--max-length", "96", "--warmup-steps", "0",
              "--eval-fraction", "0", *lora]
    for extra in (["--max-steps", "1"],
                  ["--max-steps", "2", "--resume", "--judge-every", "2", "--judge-limit", "2",
                   "--judge-answer-tokens", "16", "--judge", tiny.ref]):
        train(cache_dir, "sft", *common, *extra)
    assert [row["step"] for row in metric_lines(out) if "eval_judge_n" in row] == [2]
    def answers(prefix: str) -> dict[str, Generation]:
        (name,) = [n for n in cache_files(out) if n.startswith(f"generations/{prefix}")]
        return {g.prompt_id: g for g in Ledger(out / FOLDER / name, Generation).records.values()}

    cached, step2 = answers(model_slug(tiny)), answers("step-2-")
    assert any(step2[pid].output != cached[pid].output for pid in cached)  # not the base

    items = load_prompts("builtin", None, 2)
    fresh = Ledger(tmp_path / "hf.jsonl", Generation)
    found, _ = generate_stage(EnginePool(EngineOptions(kind="hf"), real_loader), tiny, items,
                              SamplingParams(max_new_tokens=16), fresh, 16,
                              lambda done, tokens: None)
    assert {pid: (g.key, g.output) for pid, g in found.items()} == \
        {pid: (g.key, g.output) for pid, g in cached.items()}
