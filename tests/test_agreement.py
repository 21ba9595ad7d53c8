"""`judge agreement`: a judge against human labels, from a verdicts file or by running the judge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import NO_PROGRESS, judge_cli, write_jsonl
from scenes import PAIRS, TABLE, ScriptedEngine

from judge.cli.main import cli
from judge.engines import EngineOptions
from judge.pipeline.agreement import AgreementConfig, run_agreement
from judge.runs.folder import model_slug
from judge.stats.agreement import AgreementLine, agreement, cohen_kappa


def lines(table) -> list[AgreementLine]:
    return [AgreementLine(id=i, label=a, verdict=v, verdict_swapped=w) for i, a, v, w in table]


def test_agreement_table_by_hand():
    r = agreement(lines(TABLE))
    # every pair counts; item 5 has an invalid verdict, which is simply wrong
    assert (r.n, r.n_invalid, r.n_valid) == (6, 1, 5)
    # original A A tie B invalid B vs labels A B tie B A A: right on 1, 3, 4 -> 3/6
    assert r.accuracy_original == pytest.approx(3 / 6)
    # swapped A B A B A B: right on 1, 2, 4, 5 -> 4/6
    assert r.accuracy_swapped == pytest.approx(4 / 6)
    assert r.accuracy == pytest.approx(7 / 12)
    assert r.position_consistency == pytest.approx(3 / 6)  # 1, 4, 6 agree across orders
    assert r.both_correct == pytest.approx(2 / 6)  # 1 and 4
    # original: labels {A 3, B 2, tie 1}, verdicts {A 2, B 2, tie 1, invalid 1};
    # p_e = (3·2 + 2·2 + 1·1)/36 = 11/36, kappa = (1/2 − 11/36)/(1 − 11/36) = 7/25
    assert r.cohen_kappa_original == pytest.approx(7 / 25)
    # swapped: verdicts {A 3, B 3}; p_e = (3·3 + 2·3)/36 = 15/36, kappa = (24 − 15)/(36 − 15)
    assert r.cohen_kappa_swapped == pytest.approx(9 / 21)
    # the pairs valid in both orders (all but 5) give what this command reported before:
    # original A A tie B B vs A B tie B A: 3/5; swapped A B A B B: 3/5; 1, 4, 6 agree
    assert (r.accuracy_original_valid, r.accuracy_swapped_valid, r.accuracy_valid) == \
        pytest.approx((0.6, 0.6, 0.6))
    assert (r.position_consistency_valid, r.both_correct_valid) == pytest.approx((0.6, 0.4))
    # labels {A 2, B 2, tie 1}, verdicts {A 2, B 2, tie 1}: p_e = 9/25, kappa = .24/.64
    assert r.cohen_kappa_original_valid == pytest.approx(0.375)
    # swapped verdicts {A 2, B 3}: p_e = (2·2 + 2·3)/25 = .4, kappa = .2/.6
    assert r.cohen_kappa_swapped_valid == pytest.approx(1 / 3)


# The invalid conventions, worked out on paper. id, label, verdict, verdict_swapped
#   1  A  A        A         both right
#   2  B  invalid  invalid   the judge failed twice: wrong, yet consistent (LLMBar's `equal`)
#   3  A  invalid  A         one order failed
#   4  B  A        invalid   wrong, then failed
#   5  A  B        A         flipped with the order
#   6  B  B        B         both right
INVALID = [("1", "A", "A", "A"), ("2", "B", "invalid", "invalid"), ("3", "A", "invalid", "A"),
           ("4", "B", "A", "invalid"), ("5", "A", "B", "A"), ("6", "B", "B", "B")]


def test_invalid_verdicts_count_as_wrong_over_all_pairs():
    r = agreement(lines(INVALID))
    assert (r.n, r.n_invalid, r.n_valid) == (6, 3, 3)
    assert r.accuracy_original == pytest.approx(2 / 6)  # 1, 6
    assert r.accuracy_swapped == pytest.approx(4 / 6)  # 1, 3, 5, 6
    assert r.accuracy == pytest.approx(6 / 12)
    assert r.position_consistency == pytest.approx(3 / 6)  # 1, 2 (invalid = invalid), 6
    assert r.both_correct == pytest.approx(2 / 6)  # 1, 6
    # votes: 1 +1+1; 2 0+0; 3 0+1; 4 −1+0; 5 −1+1 = 0; 6 +1+1 -> sums > 0 for 1, 3, 6
    assert r.vote_accuracy == pytest.approx(3 / 6)
    # MT-Bench pairs the orders: 1 A, 2 invalid, 3 invalid, 4 invalid, 5 tie (split), 6 B;
    # equal to the label for 1 and 6. Without ties (drop 5): 2 of 5
    assert r.mt_bench_agreement == pytest.approx(2 / 6)
    assert (r.mt_bench_agreement_no_ties, r.n_no_ties) == (pytest.approx(2 / 5), 5)
    # over the valid pairs 1, 5, 6 the same judge looks far better (the old convention)
    assert r.accuracy_original_valid == pytest.approx(2 / 3)  # 1, 6
    assert r.accuracy_swapped_valid == pytest.approx(1.0)
    assert r.accuracy_valid == pytest.approx(5 / 6)
    assert r.position_consistency_valid == pytest.approx(2 / 3)
    assert r.vote_accuracy_valid == pytest.approx(2 / 3)
    assert r.mt_bench_agreement_valid == pytest.approx(2 / 3)
    assert (r.mt_bench_agreement_no_ties_valid, r.n_no_ties_valid) == (1.0, 2)
    # Wilson for 2 of 6: p = 1/3, z² = 3.841459; centre (1/3 + z²/12)/(1 + z²/6) = .398390,
    # half 1.959964·sqrt(2/9/6 + z²/144)/1.640243 = .301620
    ci = r.intervals["accuracy_original"]
    assert (ci.method, ci.level) == ("wilson", 0.95)
    assert (ci.low, ci.high) == pytest.approx((0.096770, 0.700010), abs=1e-5)
    # accuracy counts half successes: 3 of 6 -> Wilson(.5, 6) symmetric around .5
    mid = r.intervals["accuracy"]
    assert mid.low == pytest.approx(1 - mid.high)
    assert set(r.intervals) >= {"vote_accuracy", "mt_bench_agreement_no_ties",
                                "both_correct_valid", "accuracy_valid"}


def test_a_judge_that_never_answers_scores_zero():
    r = agreement(lines([("1", "A", "invalid", "invalid"), ("2", "B", "invalid", "invalid")]))
    assert (r.n, r.n_valid, r.accuracy, r.vote_accuracy) == (2, 0, 0.0, 0.0)
    assert r.position_consistency == 1.0  # as LLMBar counts: the two failures are equal
    assert r.accuracy_valid is None and r.cohen_kappa_original_valid is None


def test_agreement_per_category():
    rows = [AgreementLine(id=i, label=a, verdict=v, verdict_swapped=w,
                          category="math" if int(i) <= 3 else "writing")
            for i, a, v, w in INVALID]
    r = agreement(rows)
    assert list(r.by_category) == ["math", "writing"]
    math, writing = r.by_category["math"], r.by_category["writing"]
    assert (math.n, writing.n) == (3, 3)
    assert math.accuracy_original == pytest.approx(1 / 3)  # pair 1 of 1, 2, 3
    assert writing.vote_accuracy == pytest.approx(1 / 3)  # pair 6 of 4, 5, 6
    assert math.by_category == {} and r.accuracy == pytest.approx(0.5)


def test_kappa_edges():
    assert cohen_kappa(["A", "A"], ["A", "A"]) is None  # one class everywhere: p_e = 1
    assert cohen_kappa(["A", "B"], ["A", "B"]) == pytest.approx(1.0)
    assert cohen_kappa(["A", "B"], ["B", "A"]) == pytest.approx(-1.0)  # p_o 0, p_e .5


def test_agreement_command_on_a_file(tmp_path):
    rows = [{"id": int(i), "label": a, "verdict": v, "verdict_swapped": w, "note": "kept aside"}
            for i, a, v, w in TABLE]
    path = write_jsonl(tmp_path / "verdicts.jsonl", rows)
    done = CliRunner().invoke(cli, ["agreement", str(path), "--json"])
    assert done.exit_code == 0, done.output
    out = json.loads(done.output)
    assert out.pop("format") == "agreement"
    assert out == agreement(lines(TABLE)).model_dump()
    shown = CliRunner().invoke(cli, ["agreement", str(path)], terminal_width=200)
    assert "Cohen's kappa" in shown.output and "0.375 / 0.333" in shown.output
    assert "format: agreement" in shown.output and "vote accuracy" in shown.output


# LLMBar's result.json (a JSON array; label 1/2; winners already mapped back) for the INVALID
# table, with its statistics.json beside it as LLMBar would write it:
# correct_False 2/6, correct_True 4/6, correct_average 50%, correct_both 2/6, equal 3/6
LLMBAR_WINNER = {"A": "1", "B": "2", "invalid": None}


def llmbar_file(path: Path) -> Path:
    rows = [{"input": f"question {i}", "output_1": "one", "output_2": "two",
             "label": 1 if a == "A" else 2,
             "results": [{"swap = False": {"completion": ["...", "stop"],
                                           "winner": LLMBAR_WINNER[v]},
                          "swap = True": {"completion": ["...", "stop"],
                                          "winner": LLMBAR_WINNER[w]}}]}
            for i, a, v, w in INVALID]
    path.write_text(json.dumps(rows, indent=2))
    return path


def judgebench_file(path: Path) -> Path:
    """JudgeBench outputs for the INVALID table: the second game saw the responses swapped, so
    its decision is written in the swapped letters; a failed game has no decision."""
    decide = {"A": "A>B", "B": "B>A", "invalid": None}
    swapped = {"A": "B>A", "B": "A>B", "invalid": None}
    rows = [{"pair_id": f"p{i}", "source": "mmlu-pro-law" if int(i) <= 3 else "livebench-math",
             "label": decide[a], "judgments": [
                 {"judgment": {"response": "..."}, "decision": decide[v]},
                 None if w == "invalid" else {"judgment": {"response": "..."},
                                              "decision": swapped[w]}]}
            for i, a, v, w in INVALID]
    return write_jsonl(path, rows)


def test_llmbar_and_judgebench_files_give_their_published_numbers(tmp_path):
    runner = CliRunner()
    done = runner.invoke(cli, ["agreement", str(llmbar_file(tmp_path / "result.json")), "--json"])
    assert done.exit_code == 0, done.output
    r = json.loads(done.output)
    assert r["format"] == "llmbar" and r["n"] == 6
    # LLMBar's statistics.json: correct_False, correct_True, correct_average, correct_both, equal
    assert (r["accuracy_original"], r["accuracy_swapped"], r["accuracy"], r["both_correct"],
            r["position_consistency"]) == pytest.approx((2 / 6, 4 / 6, 0.5, 2 / 6, 3 / 6))
    done = runner.invoke(cli, ["agreement", str(judgebench_file(tmp_path / "jb.jsonl")), "--json"])
    assert done.exit_code == 0, done.output
    r = json.loads(done.output)
    # JudgeBench prints 100·n_correct/n_pairs with its vote rule: pairs 1, 3, 6 -> 50.00%
    assert r["format"] == "judgebench" and r["vote_accuracy"] == pytest.approx(0.5)
    assert r["accuracy_original"] == pytest.approx(2 / 6)
    assert sorted(r["by_category"]) == ["livebench-math", "mmlu-pro-law"]




def judge_folder(tmp: Path) -> str:
    path = tmp / "judge-model"
    path.mkdir()
    (path / "config.json").write_text('{"model_type": "llama"}')
    (path / "tokenizer.json").write_text("{}")
    return str(path)


def test_run_agreement_judges_both_orders_and_caches(tmp_path):
    pairs = write_jsonl(tmp_path / "pairs.jsonl", PAIRS)
    loads: list[ScriptedEngine] = []

    def loader(model, options):  # a judge that always picks the answer shown first
        loads.append(ScriptedEngine(model, replies={"Answer A:": "A. It reads better."}))
        return loads[-1]

    config = AgreementConfig(judge=judge_folder(tmp_path), pairs=str(pairs), verdict="text",
                             out=str(tmp_path / "out"), cache_dir=str(tmp_path / "cache"),
                             engine=EngineOptions(kind="hf"), controls=0)
    r = run_agreement(config, NO_PROGRESS, loader)
    # p1, p2: A first -> base (A); A shown second -> tuned (B). p3 identical answers: skipped tie.
    # verdicts A A tie, swapped B B tie, labels A B tie
    assert (r.n, r.n_invalid) == (3, 0)
    assert r.accuracy_original == pytest.approx(2 / 3)
    assert r.accuracy_swapped == pytest.approx(2 / 3)
    assert r.position_consistency == pytest.approx(1 / 3)
    assert r.both_correct == pytest.approx(1 / 3)
    # labels {A, B, tie} once each; original {A 2, tie 1}: p_e = (2 + 0 + 1)/9, kappa = .5
    assert r.cohen_kappa_original == pytest.approx(0.5)
    assert r.cohen_kappa_swapped == pytest.approx(0.5)
    assert r.accuracy_valid == r.accuracy  # nothing invalid
    assert loads[0].calls == [("generate", 4)]  # two pairs × two orders; p3 never asked
    out = tmp_path / "out"
    written = [json.loads(x) for x in (out / "verdicts.jsonl").read_text().splitlines()]
    assert [(w["id"], w["verdict"], w["verdict_swapped"]) for w in written] == [
        ("p1", "A", "B"), ("p2", "A", "B"), ("p3", "tie", "tie")]
    assert json.loads((out / "agreement.json").read_text())["agreement"] == r.model_dump()
    again = run_agreement(config, NO_PROGRESS, loader)
    assert again == r and len(loads) == 1  # everything came from the ledger
    from_file = CliRunner().invoke(cli, ["agreement", str(out / "verdicts.jsonl"), "--json"])
    assert json.loads(from_file.output) == {"format": "agreement", **r.model_dump()}


def test_bad_agreement_inputs_exit_2_and_write_nothing(tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", PAIRS)
    cases = {
        "label": ([{**PAIRS[0], "label": "C"}], "label"),
        "duplicate": ([PAIRS[0], PAIRS[0]], "twice"),
        "missing output": ([{k: v for k, v in PAIRS[0].items() if k != "output_b"}], "output_b"),
    }
    out = tmp_path / "out"
    for name, (rows, word) in cases.items():
        path = write_jsonl(tmp_path / f"{name}.jsonl", rows)
        done = judge_cli("agreement", "--judge", "smollm2", "--pairs", str(path), "--out",
                         str(out))
        assert word in done.error_line(2), name
        assert not out.exists()
    verdicts = write_jsonl(tmp_path / "v.jsonl", [{"id": "1", "label": "A", "verdict": "invalid",
                                                  "verdict_swapped": "B"}])
    mixed = write_jsonl(tmp_path / "mixed.jsonl", [
        {"id": "1", "label": "A", "verdict": "A", "verdict_swapped": "A", "category": "math"},
        {"id": "2", "label": "B", "verdict": "B", "verdict_swapped": "A", "category": 7}])
    stats_lines = write_jsonl(tmp_path / "j.jsonl", [{"prompt_id": "1", "winner": "tuned"}])
    for args, word in [
        ([str(mixed)], "mixes types"),
        ([str(stats_lines)], "`judge stats` reads it"),
        ([], "either a verdicts FILE"),
        (["--judge", "smollm2"], "go together"),
        ([str(verdicts), "--judge", "smollm2", "--pairs", str(good)], "either a verdicts FILE"),
    ]:
        done = judge_cli("agreement", *args, cwd=tmp_path)
        assert word in done.error_line(2), args
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["good.jsonl", "v.jsonl", "label.jsonl", "duplicate.jsonl", "missing output.jsonl",
         "mixed.jsonl", "j.jsonl"])
    # one order failed and the other was wrong: scored 0 now (it used to be refused, exit 2)
    lone = json.loads(CliRunner().invoke(cli, ["agreement", str(verdicts), "--json"]).output)
    assert (lone["accuracy"], lone["n_valid"], lone["accuracy_valid"]) == (0.0, 0, None)


@pytest.mark.slow
def test_real_judge_on_three_pairs(tmp_path, tiny, real_loader, cache_dir):
    """The tiny model judging through its label probabilities on the transformers engine: the
    pipeline's plumbing, not the judge's skill."""
    pairs = write_jsonl(tmp_path / "pairs.jsonl", PAIRS)
    loads = []

    def loader(model, options):
        loads.append(model.ref)
        return real_loader(model, options)

    config = AgreementConfig(judge=tiny.ref, pairs=str(pairs), verdict="logprob",
                             out=str(tmp_path / "out"), cache_dir=str(cache_dir),
                             engine=EngineOptions(kind="hf"))
    r = run_agreement(config, NO_PROGRESS, loader)
    # every label has a probability on the transformers engine: no pair is invalid
    assert (r.n, r.n_valid, r.n_invalid) == (3, 3, 0)
    assert all(0.0 <= v <= 1.0 for v in (r.accuracy, r.position_consistency, r.both_correct))
    (ledger,) = (tmp_path / "out" / "judgments").glob(f"{model_slug(tiny)}__pairwise.jsonl")
    rows = [json.loads(x) for x in ledger.read_text().splitlines()]
    assert len(rows) == 6
    judged = [x for x in rows if not x["skipped"]]
    assert len(judged) == 4 and all(x["source"] == "logprob" and x["label_probs"] for x in judged)
    assert all(sum(x["label_probs"].values()) == pytest.approx(1.0) for x in judged)
    # each verdict is the likeliest label
    assert all(x["verdict"] == max(x["label_probs"], key=x["label_probs"].get) for x in judged)
    assert run_agreement(config, NO_PROGRESS, loader) == r and loads == [tiny.ref]
