"""What one judgment costs in `--verdict logprob` mode, and how much of it the prefix cache saves.

    export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 VLLM_ENABLE_V1_MULTIPROCESSING=0
    .venv/bin/python bench/judge_stage.py                  # 16 built-in prompts, both orders
    .venv/bin/python bench/judge_stage.py --prompts 4 --no-both

The bundled model answers N built-in prompts twice (two sampling seeds, so the answers differ and
the judge is really called), then judge.pipeline.judging.judge_stage judges every pair in both
orders with the shipped pairwise template, exactly as `judge compare --verdict logprob` does. The
default engine (vLLM) is loaded once through judge.engines.load_engine; its `LLM.chat` is wrapped so
every vLLM RequestOutput the stage causes is kept, which gives per request the tokens really
generated and `num_cached_tokens`, the prompt tokens served from the prefix cache.
(`LLM.get_metrics()` would give the same counters in aggregate, but the engine is built with vLLM's
default disable_log_stats=True, under which it refuses.) The prefix cache is reset before the stage,
so hits come only from judgments sharing a prefix: every chat shares the system prompt, and the two
orders of one pair also share the request and the "Answer A:" opening. vLLM caches whole blocks,
so a shared prefix counts only up to its last full block.

Targets: 1 generated token per judgment. With --both (default) the same pairs are judged again in
`--verdict both` mode, where the log-prob pass follows a text pass over the same chats.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from judge.cli.common import default_cache, quiet_backends
from judge.records import Message, SamplingParams


class Recorder:
    """Wraps LLM.chat on one instance and keeps every RequestOutput it returns."""

    def __init__(self, llm) -> None:
        self.outputs: list = []
        inner = llm.chat

        def chat(*args, **kwargs):
            outs = inner(*args, **kwargs)
            self.outputs.extend(outs)
            return outs

        llm.chat = chat


def common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


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


def run_stage(engine, info, items, answers, mode: str, folder: Path):
    from judge.engines.pool import EnginePool
    from judge.pipeline.judging import Judge, judge_stage
    from judge.pipeline.ledger import Ledger
    from judge.records import Judgment
    from judge.templates.template import load_template

    pool = EnginePool(engine_options(), lambda model, options: engine)
    judge = Judge(info, load_template("pairwise"), mode,  # type: ignore[arg-type]
                  SamplingParams(max_new_tokens=48, temperature=0.0))
    judgments, timing = judge_stage(
        pool, judge, items, answers, Ledger(folder / f"{mode}.jsonl", Judgment), 16,
        lambda done, tokens: None,
    )
    return judgments, timing


def engine_options():
    from judge.engines import EngineOptions

    return EngineOptions()


def describe(outputs, label: str) -> None:
    prompt = sum(len(o.prompt_token_ids) for o in outputs)
    cached = sum(o.num_cached_tokens or 0 for o in outputs)
    made = sum(len(o.outputs[0].token_ids) for o in outputs)
    print(f"  {label}: {len(outputs)} requests, {made} tokens generated "
          f"({made / len(outputs):.2f}/request), prompt tokens {prompt}, from prefix cache "
          f"{cached} ({cached / prompt:.1%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16, help="first N built-in prompts")
    parser.add_argument("--answer-tokens", type=int, default=64, help="answer length budget")
    parser.add_argument("--both", action=argparse.BooleanOptionalAction, default=True,
                        help="also judge in --verdict both mode")
    parser.add_argument("--cache-dir", default=default_cache())
    args = parser.parse_args()
    quiet_backends()

    from judge.engines import load_engine
    from judge.models.refs import resolve_model
    from judge.promptsets.load import load_prompts

    info = resolve_model("smollm2", Path(args.cache_dir))
    items = load_prompts("builtin", limit=args.prompts)
    engine = load_engine(info, engine_options())
    try:
        llm = engine.llm  # the vLLM engine; this benchmark reads vLLM's request outputs
        block = llm.llm_engine.vllm_config.cache_config.block_size
        answers = answers_for(engine, items, args.answer_tokens)
        recorder = Recorder(llm)
        with tempfile.TemporaryDirectory() as tmp:
            for mode in ("logprob", "both") if args.both else ("logprob",):
                llm.reset_prefix_cache()
                recorder.outputs.clear()
                judgments, timing = run_stage(engine, info, items, answers, mode, Path(tmp))
                report(mode, judgments, timing, recorder.outputs, block)
    finally:
        engine.close()


def report(mode: str, judgments, timing, outputs, block: int) -> None:
    judged = [j for j in judgments if j.source != "skipped"]
    print(f"--verdict {mode}: {len(judgments)} judgments ({len(judged)} judged, "
          f"{len(judgments) - len(judged)} skipped as identical answers), "
          f"stage {timing.seconds:.1f} s, KV block size {block}")
    if mode == "logprob":
        made = sum(len(o.outputs[0].token_ids) for o in outputs)
        print(f"  generated tokens per judgment: {made / len(judged):.2f} (target 1); "
              f"stage's own count: {timing.tokens / len(judged):.2f}")
        # requests alternate base_first, tuned_first per pair (the order judge_stage builds them)
        pairs = list(zip(outputs[0::2], outputs[1::2], strict=False))
        shared = sum(common_prefix(a.prompt_token_ids, b.prompt_token_ids) for a, b in pairs)
        print(f"  prompt tokens the two orders of a pair share: {shared / len(pairs):.1f} on "
              f"average ({shared // len(pairs) // block} full blocks)")
        describe(outputs, "all requests")
        describe([b for _, b in pairs], "second order of each pair")
    else:
        texts = [o for o in outputs if o.outputs[0].logprobs is None]
        probs = [o for o in outputs if o.outputs[0].logprobs is not None]
        describe(texts, "text pass")
        describe(probs, "log-prob pass after it")


if __name__ == "__main__":
    main()
