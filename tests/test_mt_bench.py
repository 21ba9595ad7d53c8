"""MT-Bench single-answer grading: each turn of both models' conversations rated 1-10 alone, the
numbers FastChat's show_result prints (plus intervals and the paired difference), the per-category
plot, and a rerun that resumes. Prompt sets and judgment files are our own, written in FastChat's
question.jsonl and model_judgment/*_single.jsonl shapes."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from helpers import NO_PROGRESS, judge_cli
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from scenes import ScriptedEngine, make_folder

from judge.engines import EngineOptions
from judge.errors import InputError
from judge.pipeline.compare import CompareConfig, run_compare
from judge.stats.mt_bench import mt_bench_stats

# hypothesis keeps caches in ./.hypothesis; tests never write there
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="judge-hypothesis-"))
FASTCHAT = Path(__file__).parent / "data" / "importers" / "fastchat" / "judge_prompts.jsonl"
QUESTIONS = [
    {"question_id": 81, "category": "writing", "turns": ["Write a haiku <b>about</b> rain.",
                                                         "Now make it rhyme."]},
    {"question_id": 111, "category": "math", "turns": ["What is 2+3?", "And times 4?"],
     "reference": ["2+3 = 5", "5 x 4 = 20"]},
    {"question_id": 121, "category": "reasoning", "turns": ["Is a whale a fish?", "Why not?"]},
]
# (model, question, turn) -> the judge's reply; turn-2 chats also show turn 1, so the scripted
# judge is matched on the graded answer (turn 2's keys come first: the first match wins)
SCORES = {
    ("base", 81, 1): "Plain. Rating: [[5]]", ("base", 81, 2): "Rating: [[4]]",
    ("base", 111, 1): "Correct. Rating: [6]", ("base", 111, 2): "Wrong product. Rating: [[3]]",
    ("base", 121, 1): "Rating: [[7]]", ("base", 121, 2): "I cannot grade this.",
    ("tuned", 81, 1): "Rating: [[8]]", ("tuned", 81, 2): "Rating: [[9]]",
    ("tuned", 111, 1): "Rating: [[10]]", ("tuned", 111, 2): "Rating: [[7]]",
    ("tuned", 121, 1): "Rating: [[7]]", ("tuned", 121, 2): "Rating: [[6]] not [[2]]",
}
# The same verdicts as FastChat writes them (score -1: no rating in the reply), by hand:
#   base   rows 5 4 6 3 7 (and one -1)    overall 25/5 = 5.0   turn 1 18/3 = 6.0  turn 2 7/2 = 3.5
#   tuned  rows 8 9 10 7 7 6              overall 47/6         turn 1 25/3        turn 2 22/3
#   categories base: writing 4.5, math 4.5, reasoning 7.0; tuned: 8.5, 8.5, 6.5
#   tuned − base, paired by question and turn (q121 turn 2 has no pair): 3 5 4 4 0
#       overall 16/5 = 3.2; turn 1 7/3; turn 2 9/2; writing 4, math 4, reasoning 0
TABLE = {
    "base": {"overall": (5.0, 5), "1": (6.0, 3), "2": (3.5, 2),
             "writing": (4.5, 2), "math": (4.5, 2), "reasoning": (7.0, 1)},
    "tuned": {"overall": (47 / 6, 6), "1": (25 / 3, 3), "2": (22 / 3, 3),
              "writing": (8.5, 2), "math": (8.5, 2), "reasoning": (6.5, 2)},
    "difference": {"overall": (3.2, 5), "1": (7 / 3, 3), "2": (4.5, 2),
                   "writing": (4.0, 2), "math": (4.0, 2), "reasoning": (0.0, 1)},
}


def answer(role: str, prompt: str) -> str:
    return f"{role} answer to: {prompt}"


class Recording(ScriptedEngine):
    """The scripted engine, keeping every chat it was sent."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.chats: list[list] = []

    def stream(self, chats, params, labels=None, grammar=None):  # generate streams too
        self.chats += [list(chat) for chat in chats]
        return super().stream(chats, params, labels, grammar)


class World:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.prompts = tmp / "question.jsonl"
        self.prompts.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
        self.base, self.tuned, self.judge = (make_folder(tmp, n) for n in ("base", "tuned",
                                                                           "judge"))
        prompts = [t for q in QUESTIONS for t in q["turns"]]
        self.answers = {role: {p: answer(role, p) for p in prompts} for role in ("base", "tuned")}
        turns = {(q["question_id"], n): t for q in QUESTIONS for n, t in enumerate(q["turns"], 1)}
        ordered = sorted(SCORES.items(), key=lambda kv: -kv[0][2])  # turn 2 first
        self.replies = {answer(role, turns[(q, n)]): reply for (role, q, n), reply in ordered}
        self.engines: dict[str, Recording] = {}

    def load(self, model, options):
        role = Path(model.path).name
        engine = Recording(model, replies=self.replies if role == "judge" else {},
                           answers=self.answers.get(role, {}))
        self.engines[role] = engine
        return engine

    def run(self, template: str = "mt-bench", **options) -> dict:
        config = CompareConfig(base=self.base, tuned=self.tuned, judge=self.judge,
                               prompts=str(self.prompts), template=template,
                               out=str(self.tmp / "run"), cache_dir=str(self.tmp / "cache"),
                               engine=EngineOptions(kind="hf"), bootstrap=300, **options)
        return run_compare(config, NO_PROGRESS, self.load).as_json()


def check_table(block: dict, models: dict[str, str], baseline: str) -> None:
    """An mt_bench block (summary.json's or `judge stats --json`'s) against the hand table."""
    tables = {side: block["models"][name] for side, name in models.items()}
    (other,) = [m for m in block["differences"]]
    tables["difference"] = block["differences"][other]
    for side, expected in TABLE.items():
        table = tables[side]
        found = {"overall": table["overall"], **table["turns"], **table["categories"]}
        assert set(found) == set(expected)
        for key, (mean, n) in expected.items():
            assert found[key]["mean"] == pytest.approx(mean) and found[key]["n"] == n, (side, key)
            ci = found[key]["ci"]
            if found[key]["n_questions"] == 1:  # reasoning, and the math/writing categories
                assert ci is None
            else:
                assert ci["low"] <= mean <= ci["high"] and ci["method"] == "question_bootstrap"
    assert block["n_invalid"] == {models["base"]: 1, models["tuned"]: 0}
    assert block["baseline"] == baseline and block["n_questions"] == 3


def test_each_turn_is_graded_alone_with_its_reference_and_fastchats_table(tmp_path):
    world = World(tmp_path)
    summary = world.run()
    check_table(summary["mt_bench"], {"base": "base", "tuned": "tuned"}, "base")

    # generation: turn 2 goes to the model with turn 1's answer in the chat
    turn2 = next(c for c in world.engines["tuned"].chats if c[-1].content == "And times 4?")
    assert [m.content for m in turn2] == ["What is 2+3?", answer("tuned", "What is 2+3?"),
                                          "And times 4?"]
    # judging: math turn 1 against its reference; turn 2 shows the conversation and both
    # references; writing and reasoning (no reference) with the general prompts
    judged = ["\n".join(m.content for m in chat) for chat in world.engines["judge"].chats]
    math1 = next(t for t in judged if answer("base", "What is 2+3?") in t and "times" not in t)
    assert "Reference answer (begin):\n2+3 = 5" in math1
    math2 = next(t for t in judged if answer("base", "And times 4?") in t)
    assert "2+3 = 5" in math2 and "5 x 4 = 20" in math2 and answer("base", "What is 2+3?") in math2
    write2 = next(t for t in judged if answer("tuned", "Now make it rhyme.") in t)
    assert "Reference" not in write2 and "Grade the assistant's second reply only" in write2
    assert len(judged) == 12  # 3 questions x 2 turns x 2 models, every answer distinct

    lines = [json.loads(x) for x in next((tmp_path / "run" / "judgments").glob("*.jsonl"))
             .read_text().splitlines()]
    assert sorted((x["prompt_id"], x["turn"]) for x in lines) == [
        ("111", 1), ("111", 2), ("121", 1), ("121", 2), ("81", 1), ("81", 2)]
    invalid = next(x for x in lines if (x["prompt_id"], x["turn"]) == ("121", 2))
    assert "rating_base" not in invalid and invalid["rating_tuned"] == 6
    assert invalid["winner"] == "invalid" and invalid["category"] == "reasoning"

    # the views: report.md's table (model text escaped), report.html's section, the plot
    run = tmp_path / "run"
    report = (run / "report.md").read_text()
    assert "## MT-Bench single-answer grading" in report and "(mt_bench.png)" in report
    assert "| 5.00 \\[" in report and "+3.20 \\[" in report  # md_text escapes brackets
    html = (run / "report.html").read_text()
    assert 'id="mt-bench"' in html and "<b>about</b>" not in html
    assert (run / "mt_bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # `judge stats` on the run's ledger gives the summary's block
    ledger = next((run / "judgments").glob("*.jsonl"))
    stats = judge_cli("stats", str(ledger), "--bootstrap", "300", "--json")
    assert json.loads(stats.stdout) == {"format": "ratings", **summary["mt_bench"]}

    # `judge report` redraws the same views from the folder alone
    written = {p: p.read_bytes() for p in (run / "report.md", run / "mt_bench.png")}
    assert judge_cli("report", str(run)).code == 0
    assert {p: p.read_bytes() for p in written} == written

    # a rerun resumes: no judge or model call, the same numbers
    world.engines.clear()
    again = world.run()
    assert world.engines == {} and again["mt_bench"] == summary["mt_bench"]


def test_fastchat_judgment_file_gives_fastchats_numbers(tmp_path):
    """A hand-made model_judgment/gpt-4_single.jsonl: judge stats prints show_result's numbers."""
    path = tmp_path / "model_judgment" / "gpt-4_single.jsonl"
    path.parent.mkdir()
    names = {"base": "llama-base", "tuned": "llama-orpo"}
    category = {q["question_id"]: q["category"] for q in QUESTIONS}
    rows = []
    for (side, q, turn), reply in SCORES.items():
        digits = [w.strip("[]") for w in reply.split() if w.startswith("[")]
        rows.append({"question_id": q, "model": names[side], "judge": ["gpt-4", "single-v1"],
                     "user_prompt": "...", "judgment": reply,
                     "score": int(digits[0]) if digits else -1, "turn": turn,
                     "tstamp": 1700000000.0, "category": category[q]})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ran = judge_cli("stats", str(path), "--baseline", "llama-base", "--json")
    assert ran.code == 0, ran.stderr
    data = json.loads(ran.stdout)
    assert data["format"] == "mt-bench"
    check_table(data, names, "llama-base")

    # without categories (FastChat's own lines lack them) the turn and overall numbers stand
    bare = mt_bench_stats([{k: v for k, v in r.items() if k != "category"} for r in rows])
    assert bare.models["llama-base"].overall.mean == 5.0 and bare.differences == {}
    assert bare.models["llama-orpo"].turns["2"].mean == pytest.approx(22 / 3)
    assert bare.models["llama-base"].categories == {}
    shown = judge_cli("stats", str(path), "--baseline", "llama-base", "--format", "markdown")
    assert shown.code == 0 and "| llama-orpo − llama-base \\(paired\\) | +3.20 \\[" in shown.stdout


def test_fastchat_single_prompts_grade_per_turn_from_their_file(tmp_path):
    world = World(tmp_path)
    summary = world.run(template=f"{FASTCHAT}#single-v1")
    assert summary["template"] == "fastchat-single-v1"
    check_table(summary["mt_bench"], {"base": "base", "tuned": "tuned"}, "base")
    judged = ["\n".join(m.content for m in c) for c in world.engines["judge"].chats]
    row = next(json.loads(x) for x in FASTCHAT.read_text().splitlines()
               if json.loads(x)["name"] == "single-math-v1-multi-turn")
    assert sum(row["system_prompt"].strip() in t for t in judged) == 2  # base and tuned, math


@settings(max_examples=40, deadline=None, database=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(1, 2), st.sampled_from(["a", "b"]),
                          st.sampled_from([-1, 1, 2, 5, 9, 10])), min_size=1, max_size=30))
def test_means_are_fastchats_and_differences_flip_with_the_baseline(rows):
    """Overall = mean of the valid rows, turn means likewise (FastChat's show_result, as plain
    arithmetic here); the difference against the other baseline is the negation."""
    lines = [{"question_id": q, "model": m, "score": s, "turn": t} for q, t, m, s in rows]
    found = mt_bench_stats(lines, None, resamples=50)
    for model, table in found.models.items():
        valid = [s for _, t, m, s in rows if m == model and s != -1]
        assert table.overall.n == len(valid)
        assert table.overall.mean == (pytest.approx(sum(valid) / len(valid)) if valid else None)
        for turn, ms in table.turns.items():
            scores = [s for _, t, m, s in rows if m == model and s != -1 and str(t) == turn]
            assert ms.mean == pytest.approx(sum(scores) / len(scores))
        assert table.overall.ci is None or table.overall.ci.low <= table.overall.mean \
            <= table.overall.ci.high
    if set(found.models) == {"a", "b"}:
        ab = mt_bench_stats(lines, "b", resamples=50).differences["a"].overall
        ba = mt_bench_stats(lines, "a", resamples=50).differences["b"].overall
        assert ab.n == ba.n and (ab.mean is None or ab.mean == pytest.approx(-ba.mean))


@pytest.mark.parametrize(("rows", "why"), [
    ([{"question_id": 1, "model": "m", "score": 5, "turn": 0}], "not a turn number"),
    ([{"question_id": 1, "model": "m", "score": "5", "turn": 1}], "is not a number"),
])
def test_bad_judgment_lines_are_one_line_errors(rows, why):
    with pytest.raises(InputError, match=why):
        mt_bench_stats(rows)


def test_three_turns_or_a_panel_are_refused_before_any_model_loads(tmp_path):
    world = World(tmp_path)
    world.prompts.write_text(json.dumps({"question_id": 1, "turns": ["a", "b", "c"]}) + "\n")
    with pytest.raises(InputError, match="has 3 turns"):
        world.run()
    world.prompts.write_text(json.dumps(QUESTIONS[0]) + "\n")
    with pytest.raises(InputError, match="takes one judge, not a panel"):
        world.run(panel=[f"{world.judge}@pairwise"])
    assert world.engines == {}


@pytest.mark.slow
def test_bundled_judge_on_vllm_grades_every_turn_with_structured_ratings(tmp_path, smollm2,
                                                                         real_loader, cache_dir):
    """The session's vLLM engine (the bundled model: base, tuned and judge): two-turn generation
    with its history, per-turn judge calls held to the rating grammar (so none is invalid, poor
    judge as it is), the summary; then a rerun that calls no model."""
    prompts = tmp_path / "question.jsonl"
    prompts.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS[:2]))
    calls = []

    def loader(model, options):
        calls.append(model.ref)
        return real_loader(model, options)

    config = CompareConfig(base="smollm2", tuned="smollm2", judge="smollm2",
                           prompts=str(prompts), template="mt-bench", max_new_tokens=8,
                           temperature=0.8, out=str(tmp_path / "run"), cache_dir=str(cache_dir),
                           engine=EngineOptions(kind="vllm"), bootstrap=100)
    block = run_compare(config, NO_PROGRESS, loader).as_json()["mt_bench"]
    assert block["n_invalid"] == {"base": 0, "tuned": 0}
    assert {side: t["overall"]["n"] for side, t in block["models"].items()} == {
        "base": 4, "tuned": 4}  # 2 questions x 2 turns, each side
    assert all(1 <= t["overall"]["mean"] <= 10 for t in block["models"].values())
    (base_file, *_) = sorted((tmp_path / "run" / "generations").glob("*.jsonl"))
    assert all(len(json.loads(x)["outputs"]) == 2 for x in base_file.read_text().splitlines())
    lines = [json.loads(x) for x in
             next((tmp_path / "run" / "judgments").glob("*.jsonl")).read_text().splitlines()]
    assert sorted(x["turn"] for x in lines) == [1, 1, 2, 2] and all(x["constrained"]
                                                                  for x in lines)
    calls.clear()
    assert run_compare(config, NO_PROGRESS, loader).as_json()["mt_bench"] == block
    assert calls == []  # the rerun loaded nothing
