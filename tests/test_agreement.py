"""`judge agreement`: a judge against human labels, from a verdicts file or by running the judge."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ScriptedEngine

from judge.cli.main import cli
from judge.engines import EngineOptions
from judge.pipeline.agreement import AgreementConfig, run_agreement
from judge.stats.agreement import AgreementLine, agreement, cohen_kappa

JUDGE = str(Path(sys.executable).parent / "judge")
NO_PROGRESS = lambda name, total: lambda done, tokens: None  # noqa: E731

# id, label, verdict, verdict_swapped
TABLE = [("1", "A", "A", "A"), ("2", "B", "A", "B"), ("3", "tie", "tie", "A"),
         ("4", "B", "B", "B"), ("5", "A", "invalid", "A"), ("6", "A", "B", "B")]


def lines(table) -> list[AgreementLine]:
    return [AgreementLine(id=i, label=a, verdict=v, verdict_swapped=w) for i, a, v, w in table]


def test_agreement_table_by_hand():
    r = agreement(lines(TABLE))
    assert (r["n"], r["n_invalid"]) == (5, 1)  # item 5 has an invalid verdict
    # original A A tie B B vs labels A B tie B A: right on 1, 3, 4 -> 3/5
    assert r["accuracy_original"] == pytest.approx(0.6)
    # swapped A B A B B: right on 1, 2, 4 -> 3/5
    assert r["accuracy_swapped"] == pytest.approx(0.6)
    assert r["accuracy"] == pytest.approx(0.6)
    assert r["position_consistency"] == pytest.approx(0.6)  # 1, 4, 6 agree across orders
    assert r["both_correct"] == pytest.approx(0.4)  # 1 and 4
    # original: labels {A 2, B 2, tie 1}, verdicts {A 2, B 2, tie 1}; p_e = (4 + 4 + 1)/25 = .36
    # kappa = (.6 − .36)/(1 − .36) = .375
    assert r["cohen_kappa_original"] == pytest.approx(0.375)
    # swapped: verdicts {A 2, B 3}; p_e = (2·2 + 2·3 + 1·0)/25 = .4, kappa = (.6 − .4)/.6 = 1/3
    assert r["cohen_kappa_swapped"] == pytest.approx(1 / 3)


def test_kappa_edges():
    assert cohen_kappa(["A", "A"], ["A", "A"]) is None  # one class everywhere: p_e = 1
    assert cohen_kappa(["A", "B"], ["A", "B"]) == pytest.approx(1.0)
    assert cohen_kappa(["A", "B"], ["B", "A"]) == pytest.approx(-1.0)  # p_o 0, p_e .5


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_agreement_command_on_a_file(tmp_path):
    rows = [{"id": int(i), "label": a, "verdict": v, "verdict_swapped": w, "note": "kept aside"}
            for i, a, v, w in TABLE]
    path = write_jsonl(tmp_path / "verdicts.jsonl", rows)
    done = CliRunner().invoke(cli, ["agreement", str(path), "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == agreement(lines(TABLE))
    shown = CliRunner().invoke(cli, ["agreement", str(path)])
    assert "Cohen's kappa" in shown.output and "0.375 / 0.333" in shown.output


PAIRS = [
    {"id": "p1", "instruction": "Capital of France?", "output_a": "Paris.", "output_b": "Lyon.",
     "label": "A"},
    {"id": "p2", "instruction": "2 + 2?", "output_a": "5", "output_b": "4", "label": "B"},
    {"id": "p3", "instruction": "Say hi.", "output_a": "Hi.", "output_b": "Hi.", "label": "tie"},
]


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
                             engine=EngineOptions(kind="hf"))
    r = run_agreement(config, NO_PROGRESS, loader)
    # p1, p2: A first -> base (A); A shown second -> tuned (B). p3 identical answers: skipped tie.
    # verdicts A A tie, swapped B B tie, labels A B tie
    assert (r["n"], r["n_invalid"]) == (3, 0)
    assert r["accuracy_original"] == pytest.approx(2 / 3)
    assert r["accuracy_swapped"] == pytest.approx(2 / 3)
    assert r["position_consistency"] == pytest.approx(1 / 3)
    assert r["both_correct"] == pytest.approx(1 / 3)
    # labels {A, B, tie} once each; original {A 2, tie 1}: p_e = (2 + 0 + 1)/9, kappa = .5
    assert r["cohen_kappa_original"] == pytest.approx(0.5)
    assert r["cohen_kappa_swapped"] == pytest.approx(0.5)
    assert loads[0].calls == [("generate", 4)]  # two pairs × two orders; p3 never asked
    out = tmp_path / "out"
    written = [json.loads(x) for x in (out / "verdicts.jsonl").read_text().splitlines()]
    assert [(w["id"], w["verdict"], w["verdict_swapped"]) for w in written] == [
        ("p1", "A", "B"), ("p2", "A", "B"), ("p3", "tie", "tie")]
    assert json.loads((out / "agreement.json").read_text())["agreement"] == r
    again = run_agreement(config, NO_PROGRESS, loader)
    assert again == r and len(loads) == 1  # everything came from the ledger
    from_file = CliRunner().invoke(cli, ["agreement", str(out / "verdicts.jsonl"), "--json"])
    assert json.loads(from_file.output) == r


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
        done = subprocess.run([JUDGE, "agreement", "--judge", "smollm2", "--pairs", str(path),
                               "--out", str(out)], capture_output=True, text=True)
        err = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(err) == 1 and word in err[0], (name, done.stderr)
        assert not out.exists()
    verdicts = write_jsonl(tmp_path / "v.jsonl", [{"id": "1", "label": "A", "verdict": "invalid",
                                                  "verdict_swapped": "B"}])
    for args, word in [
        ([str(verdicts)], "no item has a valid verdict"),
        ([], "either a verdicts FILE"),
        (["--judge", "smollm2"], "go together"),
        ([str(verdicts), "--judge", "smollm2", "--pairs", str(good)], "either a verdicts FILE"),
    ]:
        done = subprocess.run([JUDGE, "agreement", *args], capture_output=True, text=True,
                              cwd=tmp_path)
        err = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(err) == 1 and word in err[0], (args, done.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["good.jsonl", "v.jsonl", "label.jsonl", "duplicate.jsonl", "missing output.jsonl"])


@pytest.mark.slow
def test_real_judge_on_three_pairs(tmp_path, smollm2, real_loader, cache_dir):
    pairs = write_jsonl(tmp_path / "pairs.jsonl", PAIRS)
    loads = []

    def loader(model, options):
        loads.append(model.ref)
        return real_loader(model, options)

    config = AgreementConfig(judge="smollm2", pairs=str(pairs), verdict="logprob",
                             out=str(tmp_path / "out"), cache_dir=str(cache_dir))
    r = run_agreement(config, NO_PROGRESS, loader)
    assert r["n"] + r["n_invalid"] == 3
    assert all(0.0 <= r[k] <= 1.0 for k in ("accuracy", "position_consistency", "both_correct"))
    (ledger,) = (tmp_path / "out" / "judgments").glob("smollm2-*__pairwise.jsonl")
    rows = [json.loads(x) for x in ledger.read_text().splitlines()]
    assert len(rows) == 6
    judged = [x for x in rows if not x["skipped"]]
    assert len(judged) == 4 and all(x["source"] == "logprob" and x["label_probs"] for x in judged)
    assert all(sum(x["label_probs"].values()) == pytest.approx(1.0) for x in judged)
    assert run_agreement(config, NO_PROGRESS, loader) == r and loads == ["smollm2"]
