"""The generate stage streaming vs the same stage in 16-prompt chunks vs one bare `LLM.chat`.

    export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 VLLM_ENABLE_V1_MULTIPROCESSING=0
    .venv/bin/python bench/streaming.py                  # 128 prompts, answers of 1 to ~200 words
    .venv/bin/python bench/streaming.py --prompts 32     # a quick look

One in-process vLLM engine of the bundled model (fp32, eager) answers the same 128 prompts three
ways, greedily, max_tokens 256, each into a fresh ledger where the stage is involved:
  streaming  judge.pipeline.generate.generate_stage on its default window: every prompt queued at
             once, each answer written the moment it finishes;
  chunked    the same stage with a 16-prompt window, which is how every stage ran before it
             streamed (each chunk waits for its longest answer before the next is sent);
  bare       one `LLM.chat` over all prompts, no ledger: the ceiling.
The prompts ask for answers from one word to about two hundred, so within a chunk most
sequences finish long before the longest. The prefix cache is emptied before each side, and a
short warm-up runs first. Throughput is generated tokens per wall second; the ratios are taken
within this one run (the machine is shared: CPU/wall shows how much of a core each side got).
Target: streaming/bare >= 0.95.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from judge.cli.common import default_cache, quiet_backends
from judge.records import Generation, PromptItem, SamplingParams

LENGTHS = ["one word", "one short sentence", "about twenty words", "about fifty words",
           "about a hundred words", "about two hundred words"]
TOPICS = ["the sea", "a bicycle", "bread", "the moon", "a library", "rain", "chess", "coffee",
          "a bridge", "winter", "a violin", "gardens", "trains", "honey", "clocks", "maps",
          "paper", "volcanoes", "owls", "glass", "salt", "kites"]


def prompts(n: int) -> list[PromptItem]:
    return [PromptItem(prompt_id=f"p{i}", prompt=f"Describe {TOPICS[i % len(TOPICS)]} in "
                       f"{LENGTHS[i % len(LENGTHS)]}.") for i in range(n)]


def timed(name: str, run) -> tuple[str, int, float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    tokens = run()
    return name, tokens, time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=128)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--chunk", type=int, default=16)
    args = parser.parse_args()
    quiet_backends()

    from judge.engines import EngineOptions, load_engine
    from judge.engines.pool import Borrowed, EnginePool
    from judge.models.refs import resolve_model
    from judge.pipeline.fill import WINDOW
    from judge.pipeline.generate import generate_stage
    from judge.runs.ledger import Ledger

    model = resolve_model("smollm2", Path(default_cache()))
    engine = load_engine(model, EngineOptions(kind="vllm"))
    llm = engine.llm  # type: ignore[attr-defined]
    items = prompts(args.prompts)
    params = SamplingParams(max_new_tokens=args.max_new_tokens)
    pool = EnginePool(EngineOptions(kind="vllm"), lambda m, o: Borrowed(engine))
    from vllm import SamplingParams as VSP

    chats = [[{"role": "user", "content": item.prompt}] for item in items]
    llm.chat(chats[:4], VSP(max_tokens=8, temperature=0.0), use_tqdm=False)  # warm-up

    def stage(window: int):
        def run() -> int:
            with tempfile.TemporaryDirectory() as tmp:
                ledger = Ledger(Path(tmp) / "g.jsonl", Generation)
                _, timing = generate_stage(pool, model, items, params, ledger, window,
                                           lambda done, tokens: None)
                return timing.tokens
        return run

    def bare() -> int:
        outs = llm.chat(chats, VSP(max_tokens=args.max_new_tokens, temperature=0.0),
                        use_tqdm=False)
        return sum(len(o.outputs[0].token_ids) for o in outs)

    sides = {}
    for name, run in (("bare", bare), ("streaming", stage(WINDOW)),
                      ("chunked", stage(args.chunk))):
        llm.reset_prefix_cache()
        sides[name] = timed(name, run)
    engine.close()
    rate = {name: tokens / wall for name, tokens, wall, _ in sides.values()}
    for name, tokens, wall, cpu in sides.values():
        label = {"bare": "one LLM.chat over all prompts",
                 "streaming": f"generate stage, window {WINDOW} (streaming)",
                 "chunked": f"generate stage, {args.chunk}-prompt chunks"}[name]
        print(f"{label:<44}: {tokens:6d} tok in {wall:6.1f} s = {rate[name]:6.1f} tok/s "
              f"(CPU/wall {cpu / wall:.2f})")
    print(f"{len(items)} prompts, max_tokens {args.max_new_tokens}, answers asked from one word "
          "to about two hundred")
    print(f"chunked/bare throughput {rate['chunked'] / rate['bare']:.2f}x")
    print(f"streaming/bare throughput {rate['streaming'] / rate['bare']:.2f}x")


if __name__ == "__main__":
    main()
