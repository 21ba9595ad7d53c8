"""`--verdict both` makes one engine request per judgment: the text and its first token's label
probabilities come from the same call. Verdicts, scores and p_tuned stay what the two-request way
(a text generate, then a one-token label_probs) gave on the same inputs, and ledgers written that
way resume without a call.

tests/data/two_pass_ledger.jsonl was written by the code before this change (commit 08e9563,
`judge_stage` calling `generate` and then `label_probs`) from `scenario()` below:
`run(scenario(tmp), ledger_path)` with that commit's tree first on sys.path.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from scenes import ScriptedEngine

from judge.engines import EngineOptions
from judge.engines.pool import EnginePool
from judge.pipeline.judging import Judge, judge_stage
from judge.pipeline.verdicts import decide
from judge.records import Judgment, Message, ModelInfo, PromptItem, SamplingParams
from judge.runs.ledger import Ledger
from judge.templates.template import load_template

OLD_LEDGER = Path(__file__).parent / "data" / "two_pass_ledger.jsonl"
# A template of this test's own, so the ledger's keys do not move when a shipped one is edited.
TEMPLATE = """{#- judge-template
kind: pairwise
labels: {A: first, B: second, tie: tie}
parser: '\\A\\W*(A|B|tie)\\b'
-#}
Request: {{ instruction }}
Answer A: {{ answer_a }}
Answer B: {{ answer_b }}
Reply with A, B or tie first.
"""
ANSWERS = {  # prompt_id -> (base, tuned)
    "p1": ("Blue.", "Blue is a colour of the sky."),
    "p2": ("Three.", "1, 2, 3."),
    "p3": ("Hello!", "Hello!"),  # identical: a skipped tie, never judged
    "p4": ("Paris.", "Lyon."),
    "p5": ("No idea.", "Four."),
}
# Every case of decide(): text parses (with and without probabilities), text fails and the
# probabilities decide, neither (invalid), and an engine that saw none of the labels ({}).
REPLIES = {
    "Request: Name a colour.\nAnswer A: Blue.": "A. Shorter.",
    "Request: Name a colour.\nAnswer A: Blue is": "B",
    "Request: Count to three.": "Both are fine.",
    "Request: Capital of France?\nAnswer A: Paris.": "tie - both cities.",
    "Request: Capital of France?\nAnswer A: Lyon.": "I cannot tell.",
    "Request: 2+2?": "B, it says four.",
}
PROBS = {
    "Request: Name a colour.\nAnswer A: Blue.": {"A": 0.625, "B": 0.25, "tie": 0.125},
    "Request: Name a colour.\nAnswer A: Blue is": {"A": 0.5, "B": 0.375, "tie": 0.125},
    "Request: Count to three.\nAnswer A: Three.": {"A": 0.25, "B": 0.5, "tie": 0.25},
    "Request: Count to three.\nAnswer A: 1, 2": {"A": 0.75, "B": 0.125, "tie": 0.125},
    "Request: Capital of France?\nAnswer A: Paris.": {},
}
PROMPTS = {"p1": "Name a colour.", "p2": "Count to three.", "p3": "Say hello.",
           "p4": "Capital of France?", "p5": "2+2?"}


class Scenario:
    def __init__(self, tmp: Path) -> None:
        path = tmp / "verdict.j2"
        path.write_text(TEMPLATE)
        self.template = load_template(str(path))
        self.model = ModelInfo(ref="scripted-judge", path=str(tmp / "judge"),
                               fingerprint="5c41d7ed0f3e9a21", dtype="float32")
        self.items = [PromptItem(prompt_id=pid, prompt=text) for pid, text in PROMPTS.items()]
        self.engine = ScriptedEngine(self.model, replies=REPLIES, probs=PROBS)
        self.judge = Judge(self.model, self.template, "both",
                           SamplingParams(max_new_tokens=48, temperature=0.0))


def scenario(tmp: Path) -> Scenario:
    return Scenario(tmp)


def run(s: Scenario, ledger_path: Path) -> list[Judgment]:
    pool = EnginePool(EngineOptions(), lambda model, options: s.engine)
    judgments, _ = judge_stage(pool, s.judge, s.items, ANSWERS, Ledger(ledger_path, Judgment), 16,
                               lambda done, tokens: None)
    return judgments


def old_lines() -> dict[str, dict]:
    lines = [json.loads(line) for line in OLD_LEDGER.read_text().splitlines()]
    return {line["key"]: line for line in lines}


def by_key(judgments: list[Judgment]) -> dict[str, dict]:
    return {j.key: j.model_dump(mode="json") for j in judgments}


def test_one_request_per_judgment_gives_the_two_request_lines(tmp_path):
    s = scenario(tmp_path)
    judgments = run(s, tmp_path / "new.jsonl")
    assert s.engine.calls == [("generate", 8)]  # 4 judged pairs x 2 orders, no label_probs call
    # every field of every line: key, raw, verdict, label_probs, p_tuned, score, winner, source
    assert len(judgments) == 10 and by_key(judgments) == old_lines()
    by = {(j.prompt_id, j.order): j for j in judgments}
    # p1 base_first: text "A" decides (base); p_tuned = P(B) + P(tie)/2 = 0.25 + 0.0625
    assert (by["p1", "base_first"].winner, by["p1", "base_first"].source) == ("base", "text")
    assert by["p1", "base_first"].p_tuned == 0.3125
    # p2 tuned_first: the text parses to nothing, the likeliest label A (tuned, shown first) wins
    assert (by["p2", "tuned_first"].winner, by["p2", "tuned_first"].source) == ("tuned", "logprob")
    # p4 base_first: the engine saw none of the labels, the text "tie" decides, no p_tuned
    assert (by["p4", "base_first"].winner, by["p4", "base_first"].p_tuned) == ("tie", None)
    assert by["p4", "tuned_first"].winner == "invalid" and by["p4", "tuned_first"].score is None
    assert by["p3", "base_first"].skipped


def test_a_ledger_written_by_two_requests_resumes_without_a_call(tmp_path):
    s = scenario(tmp_path)
    ledger = tmp_path / "old.jsonl"
    shutil.copy(OLD_LEDGER, ledger)
    judgments = run(s, ledger)
    assert s.engine.calls == []  # the key is unchanged: nothing recomputed
    assert by_key(judgments) == old_lines()


@pytest.mark.parametrize("kind", ["scripted", pytest.param("hf", marks=pytest.mark.slow)])
def test_first_token_probabilities_equal_label_probs(tmp_path, engines, kind):
    """The seam's promise the tests above rely on: with labels, a text request carries the
    probabilities a one-token request gives, and without labels none. The fake keeps it as a real
    engine does (the tiny model on transformers), on the same chats: both orders of p1, and p4."""
    s = scenario(tmp_path)
    engine = s.engine if kind == "scripted" else engines("hf", "tiny")
    shown = [("p1", ANSWERS["p1"]), ("p1", ANSWERS["p1"][::-1]), ("p4", ANSWERS["p4"])]
    chats = [s.template.render(instruction=PROMPTS[pid], answer_a=a, answer_b=b)
             for pid, (a, b) in shown]
    done = engine.generate(chats, s.judge.params, s.template.labels)
    alone = engine.label_probs(chats, s.template.labels)
    for c, p in zip(done, alone, strict=True):
        assert c.label_probs is not None and set(c.label_probs) == set(p)
        assert all(c.label_probs[label] == pytest.approx(p[label], abs=1e-3) for label in p)
        assert p == {} or sum(p.values()) == pytest.approx(1.0)
    assert all(c.label_probs is None for c in engine.generate(chats, s.judge.params))
    if kind == "scripted":  # its table's rows, found by the rendered chats
        assert alone == [PROBS["Request: Name a colour.\nAnswer A: Blue."],
                         PROBS["Request: Name a colour.\nAnswer A: Blue is"], {}]
    else:  # the transformers engine sees every label
        assert all(set(p) == {"A", "B", "tie"} for p in alone)


def judge_chats(template) -> list[tuple[str, list[Message]]]:
    """Judge prompts of the shipped template in both orders, as judge_stage renders them."""
    pairs = [("Capital of France?", "Paris.", "Rome."), ("2+2?", "5", "4"),
             ("Name a fruit.", "An apple.", "A chair is furniture."),
             ("Say hello in French.", "Bonjour!", "Hola.")]
    chats = []
    for instruction, a, b in pairs:
        chats.append(("base_first", template.render(instruction=instruction, answer_a=a,
                                                    answer_b=b)))
        chats.append(("tuned_first", template.render(instruction=instruction, answer_a=b,
                                                     answer_b=a)))
    return chats


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["vllm", "hf"])
def test_real_engine_one_pass_matches_two_passes(engines, kind):
    """On the bundled model: the text request's first-token probabilities are the one-token
    request's (same labels, equal to rounding), the text is the text-only request's, and every
    decision is the same. The bundled model because vLLM reads the labels from its top 20
    log-probs, where a random model never puts them, and real replies parse as text."""
    engine = engines(kind)
    template = load_template("pairwise")
    orders, chats = zip(*judge_chats(template), strict=True)
    params = SamplingParams(max_new_tokens=24, temperature=0.0)
    one = engine.generate(chats, params, template.labels)
    texts = engine.generate(chats, params)
    probs = engine.label_probs(chats, template.labels)
    assert [c.text for c in one] == [c.text for c in texts]
    assert [c.tokens for c in one] == [c.tokens for c in texts]
    for c, p in zip(one, probs, strict=True):
        assert c.label_probs is not None and set(c.label_probs) == set(p) == {"A", "B", "tie"}
        assert sum(c.label_probs.values()) == pytest.approx(1.0)
        for label in p:
            assert c.label_probs[label] == pytest.approx(p[label], abs=1e-3)
    for order, c, t, p in zip(orders, one, texts, probs, strict=True):
        once, twice = decide(template, order, c.text, c.label_probs), decide(template, order,
                                                                           t.text, p)
        assert once.model_dump(exclude={"p_tuned"}) == twice.model_dump(exclude={"p_tuned"})
        assert once.p_tuned == pytest.approx(twice.p_tuned, abs=1e-3)
