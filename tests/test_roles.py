"""Each role its own engine: per-role flags and the run config file (flags over the file),
run.json recording what each role ran on, bad values refused at the edge, and a comparison whose
judge runs on a vLLM server while both models run on in-process vLLM.

The CLI runs use answers files for both sides (nothing loads but the judge) and the tiny model
as the judge on transformers: plumbing, where what is checked is which settings each role got.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import NO_PROGRESS, judge_cli
from scenes import alpaca_eval

from judge.engines import EngineOptions, load_engine
from judge.engines.pool import Borrowed
from judge.pipeline.compare import CompareConfig, run_compare
from judge.records import ModelInfo


def sides(tmp: Path) -> tuple[str, str]:
    base = alpaca_eval(tmp / "a" / "model_outputs.json",
                       {"q1": "Red.", "q2": "1, 2, 3.", "q3": "Hello!"}, "a")
    tuned = alpaca_eval(tmp / "b" / "model_outputs.json",
                        {"q1": "Blue, a calm colour.", "q2": "One, two, three.", "q3": "Hi."}, "b")
    return base, tuned


def write_config(tmp: Path, text: str) -> str:
    path = tmp / "run.yaml"
    path.write_text(text)
    return str(path)


def test_flags_win_over_the_file_and_run_json_records_each_role(tmp_path, cache_dir, tiny):
    base, tuned = sides(tmp_path)
    config = write_config(tmp_path, f"""
base: {base}
tuned: {tuned}
judge: {tiny.path}
controls: 0
judge_max_new_tokens: 4
bootstrap: 200
engine: {{kind: hf, batch_size: 4, threads: 1}}
engines:
  judge: {{batch_size: 2, engine_args: {{low_cpu_mem_usage: true}}, api_key_env: ROLE_KEY}}
""")
    out = tmp_path / "run"
    done = judge_cli("compare", "--config", config, "--judge-batch-size", "3", "--bootstrap",
                     "300", "--out", str(out), "--json",
                     env={"JUDGE_CACHE_DIR": str(cache_dir), "ROLE_KEY": "sk-secret-123"})
    assert done.code == 0, done.stderr[-2000:]
    run = json.loads((out / "run.json").read_text())
    (label,) = run["judges"]
    judge = run["engines"][label]
    # the shared file section, the role's file section, then the role's flag
    assert (judge["kind"], judge["threads"], judge["batch_size"]) == ("hf", 1, 3)
    assert judge["engine_args"] == {"low_cpu_mem_usage": True}
    assert set(run["engines"]) == {label}  # both sides are answers files: they ran on nothing
    assert run["config"]["bootstrap"] == 300 and run["config"]["controls"] == 0  # flag, file
    assert "sk-secret-123" not in (out / "run.json").read_text()
    assert json.loads(done.stdout)["pairwise"]["n"] == 3


@pytest.mark.parametrize(("args", "file", "problem"), [
    (["--judge-engine-args", "max_model_len=nan"], "", "not a finite number"),
    (["--judge-engine-args", "tensor parallel"], "", "KEY=VALUE"),
    (["--judge-concurrency", "0"], "", "--judge-concurrency"),
    (["--tuned-gpu-memory-utilization", "inf"], "", "--tuned-gpu-memory-utilization"),
    ([], "engines: {judge: {dtype: \"float\\nint\"}}", "one line"),
    ([], "engines: {judge: {concurrency: -3}}", "concurrency"),
    ([], "engines: {judge: {colour: red}}", "unknown engine setting 'colour'"),
    ([], "dtype: float32", "engine settings go under"),
    ([], "limit: [1, 2", "is not YAML"),
    ([], "bootstrap: 5", "bootstrap"),
])
def test_bad_engine_settings_exit_2_with_one_line(tmp_path, args, file, problem):
    base, tuned = sides(tmp_path)
    config = write_config(tmp_path, file + "\n")
    out = tmp_path / "run"
    done = judge_cli("compare", base, tuned, "--config", config, "--out", str(out), *args)
    assert problem in done.error_line()
    assert not out.exists()  # refused before anything is written


def test_a_role_section_named_by_its_model(tmp_path, monkeypatch):
    """A leaderboard model or a panel judge gets the section named by its reference, over its
    role's; the role's flag still wins."""
    from click.testing import CliRunner

    from judge.cli.main import cli

    seen: dict[str, CompareConfig] = {}

    def capture(config, progress, *rest):
        seen["config"] = config
        raise SystemExit(0)

    base, tuned = sides(tmp_path)
    config = write_config(tmp_path, """
engines:
  judge: {kind: openai, base_urls: [http://127.0.0.1:9/v1], concurrency: 32}
  j2: {concurrency: 64}
""")
    monkeypatch.setattr("judge.api.runs.run_compare", capture)  # what the CLI hands on
    CliRunner().invoke(cli, ["compare", base, tuned, "--config", config, "--judge", "j1",
                             "--judge", "j2", "--judge-max-retries", "1"])
    found = seen["config"]
    assert found.role_engine("judge", "j1").concurrency == 32
    j2 = found.role_engine("judge", "j2")
    assert (j2.kind, j2.concurrency, j2.max_retries) == ("openai", 64, 1)
    assert found.role_engine("base", base).kind == "auto"  # the shared default


@pytest.mark.slow
def test_a_judge_on_its_own_server_beside_in_process_models(tmp_path, vllm_server, smollm2,
                                                            engines, cache_dir):
    """Done-when of the engine-per-role work: both models answer on in-process vLLM, the judge
    judges on the session's vLLM server, each role with its own settings, end to end."""
    loaded: list[tuple[str, str]] = []

    def load(model: ModelInfo, options: EngineOptions):
        loaded.append((model.ref, options.kind))
        if options.kind == "openai":
            return load_engine(model, options)  # a client of the real server
        return Borrowed(engines("vllm"))  # the session's in-process vLLM engine of smollm2

    judge_engine = EngineOptions(kind="openai", base_urls=(vllm_server,), concurrency=16)
    config = CompareConfig(base="smollm2", tuned="smollm2", judge="smollm2", limit=3,
                           max_new_tokens=24, judge_max_new_tokens=8, temperature=0.7,
                           controls=0, bootstrap=200, out=str(tmp_path / "run"),
                           cache_dir=str(cache_dir), engine=EngineOptions(kind="vllm"),
                           engines={"judge": judge_engine})
    summary = run_compare(config, NO_PROGRESS, load)
    assert loaded == [("smollm2", "vllm"), ("smollm2", "openai")]  # the sides share one engine
    assert summary.pairwise.n + summary.pairwise.n_invalid == 3
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["engines"]["base"]["kind"] == run["engines"]["tuned"]["kind"] == "vllm"
    (label,) = run["judges"]
    assert run["engines"][label]["kind"] == "openai"
    assert run["engines"][label]["base_urls"] == [vllm_server]
    lines = (tmp_path / "run" / "judgments").glob("*.jsonl")
    assert sum(len(p.read_text().splitlines()) for p in lines) == 6  # both orders of 3
