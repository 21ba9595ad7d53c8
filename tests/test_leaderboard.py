"""`judge leaderboard`: several models against one reference, driven by the scripted engine for
the exact numbers; one end-to-end run judged by the real vLLM engine (slow)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from scenes import ANSWER_PROMPTS as PROMPTS
from scenes import (
    Board,
    ScriptedEngine,
    alpaca_eval,
    answers_of,
    arena_hard_v2,
    make_folder,
    ref_file,
)

from judge.cli.main import cli
from judge.engines import EngineOptions
from judge.errors import InputError
from judge.pipeline.compare import CompareConfig
from judge.pipeline.leaderboard import LeaderboardConfig, run_leaderboard
from judge.report.leaderboard import md_text


def test_answers_files_ranked_against_a_reference_file(tmp_path):
    b = Board(tmp_path)
    m1 = alpaca_eval(tmp_path / "m1" / "model_outputs.json", answers_of("m1"), "m1")
    m2 = arena_hard_v2(tmp_path / "m2.jsonl", answers_of("m2"), "m2")
    board = b.run(ref_file(tmp_path), m2, m1)
    assert b.loaded == ["judge"]  # one judge for both pairs, no other model
    first, second = board["standings"]
    assert (first["name"], second["name"]) == ("m1", "m2")
    # m1: colour 1, counting 1, hello (1 + 0)/2 -> 2.5/3; m2: colour 0, counting 1, hello 0.5
    assert first["win_rate"] == pytest.approx(5 / 6) and second["win_rate"] == pytest.approx(0.5)
    assert (first["wins"], first["ties"], first["losses"]) == (2, 1, 0)
    assert (second["wins"], second["ties"], second["losses"], second["n"]) == (1, 1, 1, 3)
    assert second["position_consistency"] == pytest.approx(2 / 3)  # hello flips with the order
    # Bradley–Terry: each model meets only the reference, so σ(strength) is the mean of its six
    # line scores: m1 (1+1+1+1+1+0)/6 = 5/6, strength ln 5; m2 3/6, strength 0, Elo 1000
    bt1, bt2 = first["bradley_terry"], second["bradley_terry"]
    assert bt1["win_rate"] == pytest.approx(5 / 6, abs=1e-4)
    assert bt1["strength"] == pytest.approx(math.log(5), abs=1e-3)
    assert bt1["elo"] == pytest.approx(1000 + 400 * math.log(5) / math.log(10), abs=0.5)
    assert bt2["win_rate"] == pytest.approx(0.5, abs=1e-4)  # the tiny ridge moves it by 1e-6
    assert bt2["elo"] == pytest.approx(1000, abs=0.1)
    assert bt1["low"] <= bt1["win_rate"] <= bt1["high"]
    assert board["bradley_terry"]["baseline"] == "ref" and board["bradley_terry"]["n"] == 12
    # per category (alpaca_eval's dataset): chat = colour + counting, math = hello
    cats = {s["name"]: {c: r["win_rate"] for c, r in s["categories"].items()}
            for s in board["standings"]}
    assert cats == {"m1": {"chat": 1.0, "math": 0.5}, "m2": {"chat": 0.5, "math": 0.5}}
    lb = tmp_path / "lb"
    assert json.loads((lb / "leaderboard.json").read_text()) == board
    assert (lb / "leaderboard.png").read_bytes()[:4] == b"\x89PNG"
    md = (lb / "leaderboard.md").read_text()
    assert "| 1 | m1 | 83.3%" in md and "ref (reference)" in md and "[m2](m2/report.md)" in md
    for name in ("m1", "m2"):  # each a normal compare run folder
        assert {"run.json", "summary.json", "report.md", "winrate.png"} <= {
            p.name for p in (lb / name).iterdir()}
    # pairs run in the order given: m2's loaded the judge, m1's found it loaded
    assert json.loads((lb / "m2" / "run.json").read_text())["models_loaded"] == [b.judge]
    assert json.loads((lb / "m1" / "run.json").read_text())["models_loaded"] == []
    assert b.bars["all models"][0] == b.bars["all models"][1] == 12
    assert b.bars["m1"] == [6, 6] and "reference" not in b.bars  # a file answers no prompt


def test_judge_stats_rebuilds_the_table_from_the_folder(tmp_path):
    b = Board(tmp_path)
    m1 = alpaca_eval(tmp_path / "m1.json", answers_of("m1"), "m1")
    m2 = arena_hard_v2(tmp_path / "m2.jsonl", answers_of("m2"), "m2")
    board = b.run(ref_file(tmp_path), m1, m2)
    runner = CliRunner()
    shown = runner.invoke(cli, ["stats", str(tmp_path / "lb"), "--json", "--bootstrap", "200"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == {"format": "leaderboard folder", **board["bradley_terry"]}
    table = runner.invoke(cli, ["stats", str(tmp_path / "lb"), "--bootstrap", "200"])
    assert "baseline ref" in table.output and "m1" in table.output
    (lines,) = (tmp_path / "lb" / "m2" / "judgments").glob("*.jsonl")
    pairwise = runner.invoke(cli, ["stats", str(lines), "--json", "--bootstrap", "200"])
    summary = json.loads((tmp_path / "lb" / "m2" / "summary.json").read_text())
    lines_json = json.loads(pairwise.stdout)  # a pair's lines stay pairwise
    assert {k: lines_json[k] for k in summary["pairwise"]} == summary["pairwise"]
    plain = runner.invoke(cli, ["stats", str(tmp_path / "lb" / "m2")])
    assert plain.exit_code != 0 and "not a leaderboard folder" in str(plain.exception)


def test_a_copy_of_the_reference_is_exactly_half_with_no_judge_call(tmp_path):
    b = Board(tmp_path)
    reference = ref_file(tmp_path)
    copy = ref_file(tmp_path, "copy.json")  # the same bytes under another name
    board = b.run(reference, f"copy={copy}", controls=0)
    assert b.loaded == []  # nothing to judge: the judge never loads
    (standing,) = board["standings"]
    assert standing["win_rate"] == 0.5 and standing["ties"] == 3
    assert standing["ci"]["low"] == standing["ci"]["high"] == 0.5
    assert standing["bradley_terry"]["strength"] == 0.0
    assert standing["bradley_terry"]["win_rate"] == 0.5
    assert standing["verdict"]["status"] == "unchecked" and board["controls"] is None
    (lines,) = (tmp_path / "lb" / "copy" / "judgments").glob("*.jsonl")
    rows = [json.loads(x) for x in lines.read_text().splitlines()]
    assert len(rows) == 6 and all(r["skipped"] and r["winner"] == "tie" for r in rows)
    # with control pairs the judge loads for them alone: three off-topic pairs in both orders
    # (the reference's answers are too short to cut), and the pair's own lines stay as they were
    before = lines.read_bytes()
    again = b.run(reference, f"copy={copy}")
    assert b.loaded == ["judge"] and b.engines["judge"].calls == [("generate", 6)]
    assert lines.read_bytes() == before and again["standings"][0]["win_rate"] == 0.5
    assert (again["controls"]["n"], again["controls"]["by_kind"]["truncated"]["n"]) == (3, 0)


def ledgers(folder: Path) -> dict[str, bytes]:
    """The generations, judgments and control ledgers of a run folder (not its prompts.jsonl)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*.jsonl")
            if p.parent.name in ("generations", "judgments", "controls")}


def test_adding_a_model_judges_only_it_and_the_reference_answers_once(tmp_path):
    b = Board(tmp_path)
    reference, m1 = make_folder(tmp_path, "ref"), make_folder(tmp_path, "m1")
    m2 = alpaca_eval(tmp_path / "m2.json", answers_of("m2"), "m2")
    first = b.run(reference, m1, m2)
    assert b.loaded == ["ref", "m1", "judge"]  # each once; the reference answers for both pairs
    assert set(first["timing"]) == {"generate_reference", "generate_m1", "judge_m1", "judge_m2",
                                    "load_models", "total"}
    assert first["models_loaded"] == [reference, m1, b.judge]
    assert b.engines["ref"].calls == [("generate", 3)]
    lb = tmp_path / "lb"
    (shared,) = (lb / "generations").iterdir()
    assert len(shared.read_text().splitlines()) == 3
    before = {name: ledgers(lb / name) for name in ("m1", "m2")}
    # reference, model, judgments; the control pairs and their verdicts
    assert all(len(v) == 5 for v in before.values())
    assert b.bars["reference"] == [3, 3] and b.bars["m1"] == [9, 9]
    m3 = make_folder(tmp_path, "m3")
    board = b.run(reference, m1, m2, m3)
    assert b.loaded == ["m3", "judge"]  # not the reference, not m1
    assert b.engines["judge"].calls == [("generate", 6)]  # m3's three prompts, both orders
    assert {name: ledgers(lb / name) for name in ("m1", "m2")} == before  # no new line
    assert {s["name"] for s in board["standings"]} == {"m1", "m2", "m3"}
    generated = [json.loads(x) for p in (lb / "m3" / "generations").glob("*ref-*.jsonl")
                 for x in p.read_text().splitlines()]
    assert {g["output"] for g in generated} == {f"ref answer to {p}" for p in PROMPTS.values()}


def test_cards_are_written_for_the_models_asked_for(tmp_path):
    b = Board(tmp_path)
    m1 = alpaca_eval(tmp_path / "m1.json", answers_of("m1"), "m1")
    m3 = make_folder(tmp_path, "m3")
    b.run(ref_file(tmp_path), m1, m3, cards={"m1": str(tmp_path / "cards" / "README.md")},
          card_folders=True)
    card = (tmp_path / "cards" / "README.md").read_text()
    assert "**m1** against its base **ref**" in card and "83.3%" in card
    assert "**m3** against its base **ref**" in (Path(m3) / "README.md").read_text()


@pytest.mark.parametrize("case, word", [
    ("names clash", "would both be called 'm1'"),
    ("unknown card", "--card-for nobody: no such model"),
    ("different prompts", "do not cover the same prompts: 1 differ"),
    ("judge is a file", "the judge must be a model"),
])
def test_bad_leaderboards_fail_before_anything_is_written(tmp_path, case, word):
    b = Board(tmp_path)
    reference = ref_file(tmp_path)
    m1 = alpaca_eval(tmp_path / "m1.json", answers_of("m1"), "m1")
    args: dict = {}
    models = [m1]
    if case == "names clash":
        models.append(alpaca_eval(tmp_path / "other.json", answers_of("x"), "m1"))
    if case == "unknown card":
        args["cards"] = {"nobody": str(tmp_path / "c.md")}
    if case == "different prompts":
        models.append(alpaca_eval(tmp_path / "m2.json", {"q1": "a", "q2": "b"}, "m2"))
    if case == "judge is a file":
        b.judge = m1
    with pytest.raises(InputError, match=word):
        b.run(reference, *models, **args)
    assert not (tmp_path / "lb").exists() and b.loaded == []


def test_the_command_prints_the_ranked_table(tmp_path):
    """The CLI end to end where no model has to load: a copy of the reference ties every pair,
    and no control pair asks the judge."""
    reference = ref_file(tmp_path)
    copy = ref_file(tmp_path, "copy.json")
    out = tmp_path / "lb"
    args = ["leaderboard", "--reference", reference, f"copy={copy}", "--judge",
            make_folder(tmp_path, "judge"), "--out", str(out), "--bootstrap", "200",
            "--controls", "0"]
    shown = CliRunner().invoke(cli, args, env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "leaderboard vs ref" in shown.output and "copy " in shown.output
    assert "50.0 [50.0–50.0]" in shown.output and "0/3/0" in shown.output
    assert "all models" in shown.output and "copy " in shown.output  # the bars, on stderr
    as_json = CliRunner().invoke(cli, [*args, "--json"])
    assert json.loads(as_json.stdout) == json.loads((out / "leaderboard.json").read_text())


def test_markdown_shows_model_names_as_text():
    assert md_text("a|b <i>x</i> [l](u)") == r"a\|b &lt;i&gt;x&lt;/i&gt; \[l\]\(u\)"


@pytest.mark.slow
def test_real_vllm_judges_a_leaderboard_of_two_answers_files(tmp_path, real_loader, cache_dir):
    """smollm2 on the real vLLM engine judges two answers files against a third, end to end.
    The session's vLLM engine is the bundled model's: vLLM reads label probabilities from its top
    20 log-probs, where a random model never puts the labels, so its every verdict would be
    invalid (tests/conftest.py)."""
    reference = ref_file(tmp_path)
    m1 = alpaca_eval(tmp_path / "m1.json", {q: f"The answer is {i}." for i, q in
                                            enumerate(PROMPTS)}, "m1")
    m2 = arena_hard_v2(tmp_path / "m2.jsonl", answers_of("m2"), "m2")
    loads: list[str] = []

    def load(model, options):
        loads.append(model.ref)
        return real_loader(model, options)

    config = LeaderboardConfig(
        reference=reference, models=[m1, m2], out=str(tmp_path / "lb"),
        settings=CompareConfig(base=reference, tuned=reference, judge="smollm2", out="-",
                               cache_dir=str(cache_dir), judge_max_new_tokens=8, bootstrap=200,
                               engine=EngineOptions(kind="vllm", kv_cache_gb=1.0)))
    board = run_leaderboard(config, lambda name, total: lambda done, tokens: None, load)
    assert loads == ["smollm2"]  # the judge, once, for both pairs
    assert [s["name"] for s in board.as_json()["standings"]] != []
    for standing in board.standings:
        assert standing.n + standing.n_invalid / 2 <= 3 and standing.n >= 1
        (lines,) = (tmp_path / "lb" / standing.folder / "judgments").glob("*.jsonl")
        rows = [json.loads(x) for x in lines.read_text().splitlines()]
        assert len(rows) == 6 and all(r["raw"] for r in rows)  # real replies, none skipped
        assert {r["source"] for r in rows} <= {"text", "logprob", "none"}
    shown = CliRunner().invoke(cli, ["stats", str(tmp_path / "lb"), "--json", "--bootstrap",
                                     "200"])
    assert json.loads(shown.stdout) == {"format": "leaderboard folder", **board.bradley_terry}


class PanelBoard(Board):
    """Board with a second judge that always picks the answer shown first."""

    def __init__(self, tmp: Path) -> None:
        super().__init__(tmp)
        self.second = make_folder(tmp, "second")

    def load(self, model, options):
        if Path(model.path).name != "second":
            return super().load(model, options)
        self.loaded.append("second")
        self.engines["second"] = ScriptedEngine(model, replies={"": "A"})
        return self.engines["second"]


def test_a_panel_ranks_every_member_s_verdicts_and_judges_the_controls_once(tmp_path):
    b = PanelBoard(tmp_path)
    m1 = alpaca_eval(tmp_path / "m1.json", answers_of("m1"), "m1")
    m2 = arena_hard_v2(tmp_path / "m2.jsonl", answers_of("m2"), "m2")
    board = b.run(ref_file(tmp_path), m1, m2, panel=[b.second])
    # m1's pair loads both judges; m2's starts with the one still loaded
    assert b.loaded == ["judge", "second", "judge"]
    # the three off-topic control pairs (the answers are too short to cut), both orders, once
    # per judge for the whole leaderboard: m2's pair finds them in the shared ledger
    assert b.engines["second"].calls == [("generate", 6), ("generate", 6), ("generate", 6)]
    assert board["controls"]["n"] == 3 and board["judge"].startswith("panel: ")
    first, second = board["standings"]
    # m1: the first judge 5/6 of its lines; the second one ties every prompt: 3/6 -> 8/12
    assert first["name"] == "m1" and first["bradley_terry"]["win_rate"] == pytest.approx(
        8 / 12, abs=1e-4)
    # the panel's own win rate: mean over prompts of the members' item scores
    assert first["win_rate"] == pytest.approx((5 / 6 + 0.5) / 2)
    assert {s["verdict"]["status"] for s in board["standings"]} == {"inconclusive"}
    md = (tmp_path / "lb" / "leaderboard.md").read_text()
    assert "judge check" in md and "inconclusive: the panel could not tell" in md
    shown = CliRunner().invoke(cli, ["stats", str(tmp_path / "lb"), "--json", "--bootstrap",
                                     "200"])
    assert json.loads(shown.stdout) == {"format": "leaderboard folder", **board["bradley_terry"]}
