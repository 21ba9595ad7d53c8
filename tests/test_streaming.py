"""The streaming seam: `in_order` puts a stream back in order and refuses a broken one, and a
stage saves every record the moment its request finishes, so an engine that dies mid-stream
loses only what was in flight and the rerun asks for exactly the rest (the scripted engine at
the seam; tests/test_kill.py does the same with SIGKILL on a real engine)."""

from __future__ import annotations

import json

import pytest
from scenes import ScriptedEngine

from judge.engines import EngineOptions, in_order
from judge.engines.pool import EnginePool
from judge.pipeline.generate import generate_stage
from judge.records import Completion, Generation, ModelInfo, PromptItem, SamplingParams
from judge.runs.ledger import Ledger

MODEL = ModelInfo(ref="scripted", path="/models/scripted", fingerprint="5c41d7ed0f3e9a22",
                  dtype="float32")
ITEMS = [PromptItem(prompt_id=f"p{i}", prompt=f"Say {i}.") for i in range(6)]


def done(text: str) -> Completion:
    return Completion(text=text, tokens=1)


def test_in_order_restores_the_order_and_refuses_gaps_and_repeats():
    assert [c.text for c in in_order([(2, done("c")), (0, done("a")), (1, done("b"))], 3)] \
        == ["a", "b", "c"]
    with pytest.raises(RuntimeError, match="no completion for 1 of 2"):
        in_order([(1, done("b"))], 2)
    with pytest.raises(RuntimeError, match="chat 0 twice"):
        in_order([(0, done("a")), (0, done("a"))], 2)


class Dying(ScriptedEngine):
    """Finishes `lives` requests of a stream, then dies as a killed engine would."""

    def __init__(self, lives: int | None) -> None:
        super().__init__(MODEL)
        self.lives = lives
        self.asked: list[str] = []

    def stream(self, chats, params, labels=None, grammar=None):
        for index, completion in super().stream(chats, params, labels, grammar):
            if self.lives is not None:
                if self.lives == 0:
                    raise RuntimeError("engine died")
                self.lives -= 1
            self.asked.append(chats[index][-1].content)
            yield index, completion


def run(engine: Dying, ledger: Ledger[Generation]) -> dict[str, Generation]:
    pool = EnginePool(EngineOptions(), lambda model, options: engine)
    found, _ = generate_stage(pool, MODEL, ITEMS, SamplingParams(), ledger, 1024,
                              lambda d, t: None)
    return found


def test_a_stream_that_dies_keeps_what_finished_and_the_rerun_asks_for_the_rest(tmp_path):
    path = tmp_path / "g.jsonl"
    dying = Dying(lives=4)
    with pytest.raises(RuntimeError, match="engine died"):
        run(dying, Ledger(path, Generation))
    kept = [json.loads(line)["prompt"] for line in path.read_text().splitlines()]
    assert kept == dying.asked and len(kept) == 4  # each written as it finished, in that order
    again = Dying(lives=None)
    found = run(again, Ledger(path, Generation))
    assert sorted(again.asked) == sorted(set(i.prompt for i in ITEMS) - set(kept))
    assert again.calls == [("generate", 2)]  # one stream, of the two that were missing
    assert [found[i.prompt_id].output for i in ITEMS] == [f"answer 0 to: Say {i}." for i in
                                                          range(6)]
