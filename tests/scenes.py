"""The scripted worlds several test files share: the one fake (the scripted engine, at the engine
seam), model folders that resolve but never load, and the runs, answers files, leaderboards and
card folders built from them with exact, hand-worked verdicts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from helpers import NO_PROGRESS

from judge.benchmarks.paired import compare_bench
from judge.engines import EngineOptions, in_order
from judge.pipeline.compare import CompareConfig, run_compare
from judge.pipeline.leaderboard import LeaderboardConfig, run_leaderboard
from judge.records import (
    Completion,
    Generation,
    Judgment,
    Message,
    ModelInfo,
    PromptItem,
    SamplingParams,
)
from judge.runs.folder import model_slug
from judge.runs.ledger import generation_key
from judge.stats import pairwise


class ScriptedEngine:
    """The one fake: replays exact judge texts and label probabilities at the engine seam.

    `replies` maps a substring of the rendered chat to a reply; answers for generation are
    "answer <n> to: <prompt>" unless `answers` names one. Every request batch is recorded in
    `calls` as ("generate", chats) (a stream and a generate alike: generate is the stream put in
    order), and the grammar each was given in `grammars` (it replays its texts regardless).
    Streams hand their completions back in reverse order, as an engine whose last request
    finishes first would: nothing above may rely on the order of a stream.
    """

    def __init__(self, model: ModelInfo, replies=None, probs=None, answers=None) -> None:
        self.model = model
        self.replies = replies or {}
        self.probs = probs or {}
        self.answers = answers or {}
        self.calls: list[tuple[str, int]] = []
        self.grammars: list[object] = []

    def _pick(self, table: dict, chat: Sequence[Message], default):
        text = "\n".join(m.content for m in chat)
        return next((value for key, value in table.items() if key in text), default)

    def stream(self, chats, params: SamplingParams, labels=None, grammar=None):
        """With `labels`, each completion carries the same probabilities label_probs gives."""
        self.calls.append(("generate", len(chats)))
        self.grammars.append(grammar)
        for index in reversed(range(len(chats))):
            chat = chats[index]
            prompt = chat[-1].content
            text = self._pick(self.replies, chat, None)
            if text is None:
                text = self.answers.get(prompt, f"answer {params.seed} to: {prompt}")
            probs = self._pick(self.probs, chat, {}) if labels is not None else None
            yield index, Completion(text=text, tokens=len(text.split()), label_probs=probs)

    def generate(self, chats, params: SamplingParams, labels=None,
                 grammar=None) -> list[Completion]:
        return in_order(self.stream(chats, params, labels, grammar), len(chats))

    def label_probs(self, chats, labels):
        self.calls.append(("label_probs", len(chats)))
        return [self._pick(self.probs, chat, {}) for chat in chats]

    def close(self) -> None:
        pass


# --- compare: a base, a tuned model and a judge, each a scripted engine (test_compare_scripted.py)
COMPARE_PROMPTS = ["Name a colour.", "Count to three.", "Say hello."]


def make_folder(tmp_path: Path, name: str) -> str:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "llama", "name": name}))
    (folder / "tokenizer.json").write_text("{}")
    return str(folder)


class Setup:
    def __init__(self, tmp_path: Path, answers: dict[str, str] | None = None) -> None:
        self.tmp = tmp_path
        self.prompts = tmp_path / "p.jsonl"
        self.prompts.write_text("".join(json.dumps({"prompt_id": f"q{i}", "prompt": p}) + "\n"
                                        for i, p in enumerate(COMPARE_PROMPTS)))
        self.base, self.tuned, self.judge = (make_folder(tmp_path, n) for n in ("base", "tuned",
                                                                                "judge"))
        self.answers = answers
        self.replies: dict[str, str] = {}
        self.probs: dict[str, dict[str, float]] = {}
        self.loaded: list[str] = []
        self.engines: list[ScriptedEngine] = []

    def load(self, model, options):
        role = Path(model.path).name
        self.loaded.append(role)
        answers = {p: (self.answers or {}).get(role, f"{role} says: {p}") for p in COMPARE_PROMPTS}
        engine = ScriptedEngine(model, replies=self.replies if role == "judge" else {},
                                probs=self.probs if role == "judge" else {}, answers=answers)
        self.engines.append(engine)
        return engine

    def run(self, verdict: str = "both", **options):
        config = CompareConfig(
            base=self.base, tuned=self.tuned, judge=self.judge, prompts=str(self.prompts),
            verdict=verdict, out=str(self.tmp / "run"), cache_dir=str(self.tmp / "cache"),
            engine=EngineOptions(kind="hf"), bootstrap=200, **options,
        )
        return run_compare(config, NO_PROGRESS, self.load).as_json()

    def judgments(self) -> list[dict]:
        (path,) = (self.tmp / "run" / "judgments").glob("*.jsonl")
        return [json.loads(line) for line in path.read_text().splitlines()]


# --- answers files in the anchors' formats (test_answers.py)
ANSWER_PROMPTS = {"q1": "Name a colour.", "q2": "Count to three.", "q3": "Say hello."}


def write_lines(path: Path, rows: list[dict]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def alpaca_eval(path: Path, answers: dict[str, str], generator: str,
                dataset: str | None = "chat") -> str:
    """alpaca_eval's model_outputs.json: a JSON list, prompts named by their instruction."""
    rows = [{"instruction": ANSWER_PROMPTS[q], "output": a, "generator": generator,
             **({"dataset": dataset} if dataset else {})} for q, a in answers.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, indent=2))
    return str(path)


def arena_hard(path: Path, answers: dict[str, list[str]], model: str) -> str:
    """arena-hard-auto v0.1 model_answer lines: ids only, one turn per answer in choices[0]."""
    return write_lines(path, [
        {"question_id": q, "answer_id": f"a-{q}", "model_id": model, "tstamp": 1.0,
         "choices": [{"index": 0, "turns": [{"content": t, "token_len": len(t.split())}
                                            for t in turns]}]}
        for q, turns in answers.items()])


def arena_hard_v2(path: Path, answers: dict[str, str], model: str) -> str:
    """arena-hard-auto v2 model_answer lines: the conversation, the answer as {answer}."""
    return write_lines(path, [
        {"uid": q, "ans_id": f"a-{q}", "model": model, "tstamp": 1.0,
         "messages": [{"role": "user", "content": ANSWER_PROMPTS[q]},
                      {"role": "assistant", "content": {"answer": a}}],
         "metadata": {"token_len": len(a.split())}}
        for q, a in answers.items()])


def generations(path: Path, answers: dict[str, str], model: str) -> str:
    """A judge run folder's generations/<model>.jsonl (Generation records)."""
    return write_lines(path, [
        {"key": f"k{q}", "prompt_id": q, "prompt": ANSWER_PROMPTS[q], "output": a, "tokens": 3,
         "model": model, "params_hash": "h"} for q, a in answers.items()])


def answers_of(prefix: str) -> dict[str, str]:
    return {q: f"{prefix} answer to {text}" for q, text in ANSWER_PROMPTS.items()}


# --- agreement: verdicts and labelled pairs (test_agreement.py)
# a verdicts file's rows: id, label, verdict, verdict_swapped
TABLE = [("1", "A", "A", "A"), ("2", "B", "A", "B"), ("3", "tie", "tie", "A"),
         ("4", "B", "B", "B"), ("5", "A", "invalid", "A"), ("6", "A", "B", "B")]

# pairs with human labels, for `judge agreement --pairs`
PAIRS = [
    {"id": "p1", "instruction": "Capital of France?", "output_a": "Paris.", "output_b": "Lyon.",
     "label": "A"},
    {"id": "p2", "instruction": "2 + 2?", "output_a": "5", "output_b": "4", "label": "B"},
    {"id": "p3", "instruction": "Say hi.", "output_a": "Hi.", "output_b": "Hi.", "label": "tie"},
]


# --- a finished run folder written record by record, for cards (test_card.py)
def pairwise_block(*args, **options) -> dict:
    """The pairwise block as summary.json holds it."""
    return pairwise.summarize(*args, **options).model_dump()


CARD_CONFIG = {"max_new_tokens": 64, "temperature": 0.0, "seed": 0,
               "prompts": "/home/me/prompts.jsonl"}
# prompt -> (winner when base is shown first, winner when tuned is shown first)
CARD_WINNERS = {"p0": ("tie", "tie"), "p1": ("tuned", "tuned"), "p2": ("tuned", "base"),
                "p3": ("base", "base"), "p4": ("tuned", "tuned"), "p5": ("invalid", "tuned")}
CARD_SCORE = {"tuned": 1.0, "base": 0.0, "tie": 0.5, "invalid": None}


def bench_result(value: float, samples: dict[str, float]) -> dict:
    settings = {"limit": 4, "num_fewshot": None, "source": "judge:abc"}
    entry = {"settings": settings, "metric": "acc", "value": value, "stderr": 0.1, "n": 4,
             "metrics": {"acc": value}, "samples": samples}
    return {"schema": "judge.bench/1", "model": {}, "tasks": {"judge_mcq": entry}}


def make_run(root: Path) -> Path:
    """A finished run folder: run.json, summary.json, both ledgers, and a tuned model folder."""
    run = root / "run"
    tuned_dir = root / "tuned-model"
    (tuned_dir / "sub").mkdir(parents=True)
    for name, data in {"config.json": b"{}", "model.safetensors": b"\0" * 1000,
                       "sub/extra.txt": b"x", ".hidden": b"h", "README.md": b"# old",
                       "judge_source.json": b"{}"}.items():
        (tuned_dir / name).write_bytes(data)
    models = {
        "base": ModelInfo(ref="org/base-model", path="/nowhere/base", fingerprint="b" * 16,
                          dtype="auto"),
        "tuned": ModelInfo(ref=str(tuned_dir), path=str(tuned_dir), fingerprint="t" * 16,
                           dtype="auto"),
        "judge": ModelInfo(ref="smollm2", path="/nowhere/judge", fingerprint="j" * 16,
                           dtype="auto"),
    }
    (run / "generations").mkdir(parents=True)
    (run / "judgments").mkdir()
    judgments = []
    for i, (side, seed) in enumerate((("base", 0), ("tuned", 1))):
        params = SamplingParams(max_new_tokens=64, temperature=0.0, seed=seed)
        lines = []
        for pid in CARD_WINNERS:
            item = PromptItem(prompt_id=pid, prompt=f"Question {pid}?")
            answer = f"same answer to {pid}" if pid == "p0" else f"{side} answer to {pid} ```x```"
            lines.append(Generation(key=generation_key(models[side], item, params), prompt_id=pid,
                                    prompt=item.prompt, output=answer, tokens=5,
                                    model=models[side].ref, params_hash=str(i)).model_dump_json())
        path = run / "generations" / f"{model_slug(models[side])}.jsonl"
        path.write_text("\n".join(lines) + "\n")
    for pid, winners in CARD_WINNERS.items():
        for order, winner in zip(("base_first", "tuned_first"), winners, strict=True):
            judgments.append(Judgment(
                key=f"{pid}-{order}", prompt_id=pid, order=order, raw=None, verdict=None,
                shown_first="base" if order == "base_first" else "tuned", label_probs=None,
                p_tuned=CARD_SCORE[winner], score=CARD_SCORE[winner], winner=winner, len_base=20,
                source="none" if winner == "invalid" else "text", len_tuned=21))
    (run / "judgments" / f"{model_slug(models['judge'])}__pairwise.jsonl").write_text(
        "".join(j.model_dump_json() + "\n" for j in judgments))
    benchmarks = compare_bench(bench_result(0.5, {"0": 1, "1": 0, "2": 0, "3": 1}),
                               bench_result(0.75, {"0": 1, "1": 1, "2": 0, "3": 1}))
    summary = {"schema": "judge.summary/1", "base": "org/base-model", "tuned": str(tuned_dir),
               "judge": "smollm2", "template": "pairwise",
               "pairwise": pairwise_block([j.model_dump() for j in judgments], resamples=200),
               "verdict_sources": {"text": 11, "none": 1}, "benchmarks": benchmarks, "timing": {}}
    (run / "summary.json").write_text(json.dumps(summary, indent=2))
    run_json = {"config": CARD_CONFIG, "models": {k: m.model_dump() for k, m in models.items()},
                "n_prompts": len(CARD_WINNERS), "versions": {"judge": "0.1.0"}}
    (run / "run.json").write_text(json.dumps(run_json, indent=2))
    return run


# --- leaderboards judged by a scripted judge (test_leaderboard.py)
BOARD_CATEGORIES = {"q1": "chat", "q2": "chat", "q3": "math"}
# The judge: m1 wins colour and counting in both orders; m2 loses colour and wins counting in both
# orders; on "Say hello" the judge always picks the first answer shown (a tie once both orders are
# averaged). First match wins, so the m1 keys come first.
BOARD_REPLIES = {
    "Answer A:\nm1 answer to Name": "A", "Answer B:\nm1 answer to Name": "B",
    "Answer A:\nm1 answer to Count": "A", "Answer B:\nm1 answer to Count": "B",
    "Answer A:\nref answer to Name": "A", "Answer B:\nref answer to Name": "B",
    "Answer A:\nm2 answer to Count": "A", "Answer B:\nm2 answer to Count": "B",
    "": "A",
}


def ref_file(tmp: Path, name: str = "ref.json") -> str:
    """The reference's model_outputs.json, each prompt with its own dataset (category)."""
    path = tmp / name
    rows = [{"instruction": ANSWER_PROMPTS[q], "output": f"ref answer to {ANSWER_PROMPTS[q]}",
             "generator": "ref", "dataset": BOARD_CATEGORIES[q]} for q in ANSWER_PROMPTS]
    path.write_text(json.dumps(rows))
    return str(path)


class Board:
    """run_leaderboard with scripted engines: model folders answer '<folder> answer to <prompt>'."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.judge = make_folder(tmp, "judge")
        self.loaded: list[str] = []
        self.engines: dict[str, ScriptedEngine] = {}
        self.bars: dict[str, list[int]] = {}

    def load(self, model, options):
        role = Path(model.path).name
        self.loaded.append(role)
        answers = {p: f"{role} answer to {p}" for p in ANSWER_PROMPTS.values()}
        engine = ScriptedEngine(model, replies=BOARD_REPLIES if role == "judge" else {},
                                answers=answers)
        self.engines[role] = engine
        return engine

    def progress(self, name: str, total: int):
        bar = self.bars.setdefault(name, [0, total])

        def advance(done: int, tokens: int) -> None:
            bar[0] += done

        return advance

    def run(self, reference: str, *models: str, cards: dict[str, str] | None = None,
            card_folders: bool = False, **settings) -> dict:
        self.loaded.clear()
        self.bars.clear()
        config = LeaderboardConfig(
            reference=reference, models=list(models), out=str(self.tmp / "lb"),
            cards=cards or {}, card_folders=card_folders,
            settings=CompareConfig(base=reference, tuned=reference, judge=self.judge,
                                   prompts=settings.pop("prompts", None), out="-",
                                   cache_dir=str(self.tmp / "cache"),
                                   engine=EngineOptions(kind="hf"), bootstrap=200,
                                   verdict="text", **settings))
        return run_leaderboard(config, self.progress, self.load).as_json()


# --- a run whose answers carry markup, for reports (test_report.py)
HOSTILE = 'T0 Red <script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
ODD_ID = 'odd id/<7> "&'
# prompt id, category, prompt, base answer, tuned answer
REPORT_PROMPTS = [
    ("q0", "art", "Name a colour.", "B0 Blue.", HOSTILE),
    ("q1", "math", "Count to three.", "B1 1, 2, 3.", "T1 one two three"),
    ("q2", "chat", "Say hello.", "hello", "hello"),
    ("q3", "math", "Add 2 and 2.", "B3 4", "T3 four"),
    ("q4", "art", "Name a fruit.", "B4 **Apple**, a fruit.\n\n- red\n- green", "T4 pear"),
    (ODD_ID, "chat", "Write code.", "B5 ```python\nprint('<b>hi</b>')\n```", "T5 `x = 1`"),
]
# The judge: q0 tuned in both orders; q1 whatever is shown first (a split decision, a tie); q2 not
# judged (identical answers: a skipped tie); q3 nothing readable (both lines invalid); q4 base in
# both orders, once from label probabilities; q5 tuned once and a tie once (0.75: tuned wins).
REPORT_REPLIES = {
    "Answer A:\nB0": "B", "Answer A:\nT0": "A",
    "Answer A:\nB1": "A", "Answer A:\nT1": "A",
    "Answer A:\nB3": "Hmm.", "Answer A:\nT3": "Hmm.",
    "Answer A:\nB4": "A", "Answer A:\nT4": "no idea",
    "Answer A:\nB5": "B", "Answer A:\nT5": "tie",
}
REPORT_PROBS = {"Answer A:\nT4": {"A": 0.1, "B": 0.8, "tie": 0.1}}
REPORT_OUTCOMES = {"q0": "tuned", "q1": "tie", "q2": "tie", "q3": "invalid", "q4": "base",
            ODD_ID: "tuned"}


def report_loader(model, options):
    role = Path(model.path).name
    side = {"base": 3, "tuned": 4}.get(role)
    answers = {p[2]: p[side] for p in REPORT_PROMPTS} if side else {}
    replies, probs = (REPORT_REPLIES, REPORT_PROBS) if role == "judge" else ({}, {})
    return ScriptedEngine(model, replies=replies, probs=probs, answers=answers)


def build_run(root: Path, **options) -> Path:
    """A compare run folder of the REPORT_PROMPTS above, judged by the scripted judge."""
    root.mkdir(parents=True, exist_ok=True)
    prompts = root / "prompts-in.jsonl"
    prompts.write_text("".join(json.dumps({"prompt_id": pid, "category": c, "prompt": p}) + "\n"
                               for pid, c, p, _, _ in REPORT_PROMPTS))
    out = root / "run"
    config = CompareConfig(
        base=make_folder(root, "base"), tuned=make_folder(root, "tuned"),
        judge=make_folder(root, "judge"), prompts=str(prompts), out=str(out),
        cache_dir=str(root / "cache"), engine=EngineOptions(kind="hf"), bootstrap=200, **options)
    run_compare(config, NO_PROGRESS, report_loader)
    return out
