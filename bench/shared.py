"""Helpers the judge-stage benchmarks share (imported by the scripts beside it, never by judge).

Recorder keeps every vLLM RequestOutput an engine's `LLM.chat` returns or its stream's engine
steps finish, which gives per request the
prompt tokens, the tokens generated and `num_cached_tokens` (prompt tokens served from the prefix
cache). `LLM.get_metrics()` would give the counters in aggregate, but vLLM builds the engine with
disable_log_stats=True, under which it refuses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from judge.records import Message, SamplingParams

JUDGE_TOKENS = 48  # judge compare's default --judge-max-new-tokens


class Recorder:
    """Wraps the engine loop's step on one LLM instance and keeps every RequestOutput it
    finishes."""

    def __init__(self, llm) -> None:
        self.outputs: list = []
        # LLM.chat and the engine's stream both step vLLM's engine loop: keep what each step
        # finished, whichever of them stepped it
        engine, step = llm.llm_engine, llm.llm_engine.step

        def stepping(*args, **kwargs):
            outs = step(*args, **kwargs)
            self.outputs.extend(o for o in outs if getattr(o, "finished", False))
            return outs

        engine.step = stepping


@dataclass
class Requests:
    """What a list of vLLM RequestOutputs cost: requests, prompt, cached and generated tokens."""

    requests: int
    prompt: int
    cached: int
    generated: int

    @classmethod
    def of(cls, outputs) -> Requests:
        return cls(len(outputs), sum(len(o.prompt_token_ids) for o in outputs),
                   sum(o.num_cached_tokens or 0 for o in outputs),
                   sum(len(o.outputs[0].token_ids) for o in outputs))

    @property
    def hit_rate(self) -> float:
        return self.cached / self.prompt if self.prompt else 0.0

    def line(self) -> str:
        return (f"{self.requests} requests, {self.generated} tokens generated "
                f"({self.generated / max(self.requests, 1):.2f}/request), prompt tokens "
                f"{self.prompt}, from prefix cache {self.cached} ({self.hit_rate:.1%})")


def answers_for(engine, items, max_new_tokens: int) -> dict[str, tuple[str, str]]:
    """Two sampled answers per prompt (seeds 0 and 1), as an A/A comparison at temperature > 0."""
    chats = [[Message(role="user", content=item.prompt)] for item in items]
    sides = [
        engine.generate(chats, SamplingParams(max_new_tokens=max_new_tokens, temperature=0.7,
                                              seed=seed))
        for seed in (0, 1)
    ]
    return {item.prompt_id: (a.text, b.text)
            for item, a, b in zip(items, *sides, strict=True)}


def judge_stage_once(engine, items, answers, mode: str, ledger: Path, template: str = "pairwise"):
    """judge.pipeline.judging.judge_stage on a loaded engine into a fresh ledger, exactly as
    `judge compare --verdict MODE` runs it: (judgments, StageTiming)."""
    from judge.engines import EngineOptions
    from judge.engines.pool import EnginePool
    from judge.pipeline.judging import Judge, judge_stage
    from judge.records import Judgment
    from judge.runs.ledger import Ledger
    from judge.templates.template import load_template

    pool = EnginePool(EngineOptions(), lambda model, options: engine)
    judge = Judge(engine.model, load_template(template), mode,  # type: ignore[arg-type]
                  SamplingParams(max_new_tokens=JUDGE_TOKENS, temperature=0.0))
    return judge_stage(pool, judge, items, answers, Ledger(ledger, Judgment), 16,
                       lambda done, tokens: None)


def timed(call, *args):
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = call(*args)
    return time.perf_counter() - start, result


class Clock:
    """Wall and CPU seconds of a block. With VLLM_ENABLE_V1_MULTIPROCESSING=0 the whole engine runs
    in this process, so CPU seconds count the work done; on a shared machine wall seconds also
    count the time spent waiting for a core."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def judge_chats(items, answers, template) -> list[tuple[str, str, list[Message]]]:
    """(prompt_id, order, chat) of every pair that judge_stage sends to the judge."""
    out = []
    for item in items:
        base, tuned = answers[item.prompt_id]
        if base == tuned:  # judge_stage records identical answers as ties without a call
            continue
        for order, (a, b) in (("base_first", (base, tuned)), ("tuned_first", (tuned, base))):
            out.append((item.prompt_id, order, template.render(
                instruction=item.prompt, answer_a=a, answer_b=b, reference=item.reference)))
    return out
