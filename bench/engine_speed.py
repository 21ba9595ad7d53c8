"""Default engine vs a plain transformers generate loop at batch 1, same prompts, same budget.

    export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 VLLM_ENABLE_V1_MULTIPROCESSING=0
    .venv/bin/python bench/engine_speed.py                       # 16 built-in prompts x 128 tokens
    .venv/bin/python bench/engine_speed.py --prompts 4 --max-new-tokens 32   # a quick look

Both sides answer the same chat-templated built-in prompts greedily with the same max_new_tokens,
on the bundled model in fp32. The default engine (`auto`, vLLM here) is loaded through
judge.engines.load_engine and gets all prompts in one call, as `judge compare` gives it a chunk;
the baseline is the loop everyone writes first: one prompt at a time through model.generate with
one torch thread. Loading is outside both timings; each side runs one short warm-up call first.
Tokens are the generated ones including the end-of-turn token where an answer stops early (vLLM
counts it; the loop is counted the same way). Target: ratio >= 2.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from judge.cli.common import default_cache, quiet_backends
from judge.records import Message, SamplingParams


class Side:
    """What one side measured: wall and CPU seconds of the timed call, tokens, texts."""

    def __init__(self, name: str, wall: float, cpu: float, tokens: int, texts: list[str]) -> None:
        import torch

        self.name, self.wall, self.cpu, self.tokens, self.texts = name, wall, cpu, tokens, texts
        self.threads = torch.get_num_threads()

    @property
    def rate(self) -> float:
        return self.tokens / self.wall

    def line(self) -> str:
        # CPU/wall near 1 means one busy core; well below 1 means it waited for a shared CPU
        return (f"{self.name:<40}: {self.tokens:5d} tok in {self.wall:6.1f} s = "
                f"{self.rate:6.1f} tok/s (CPU/wall {self.cpu / self.wall:.2f}, "
                f"torch threads {self.threads})")


def engine_side(info, chats, max_new_tokens: int) -> Side:
    from judge.engines import EngineOptions, load_engine, pick_kind

    options = EngineOptions()
    engine = load_engine(info, options)
    try:
        engine.generate(chats[:1], SamplingParams(max_new_tokens=4))  # warm-up
        start, cpu = time.perf_counter(), time.process_time()
        done = engine.generate(chats, SamplingParams(max_new_tokens=max_new_tokens))
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        engine.close()
    name = f"engine {pick_kind(options.kind)}, all prompts in one call"
    return Side(name, wall, cpu, sum(c.tokens for c in done), [c.text for c in done])


def loop_side(info, chats, max_new_tokens: int) -> Side:
    """transformers, one prompt per generate call."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # vLLM's CPU worker replaces torch.set_num_threads with a no-op once it has loaded, so the
    # thread count printed beside the result is what the loop really ran with
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
    tok = AutoTokenizer.from_pretrained(info.path)
    model = AutoModelForCausalLM.from_pretrained(info.path, dtype=torch.float32).eval()
    encoded = [
        tok.apply_chat_template([m.model_dump() for m in chat], add_generation_prompt=True,
                                return_tensors="pt", return_dict=True)
        for chat in chats
    ]

    def run(enc, budget: int) -> list[int]:
        out = model.generate(**enc, max_new_tokens=budget, do_sample=False, top_p=None,
                             top_k=None, temperature=None, pad_token_id=tok.eos_token_id)
        ids = out[0, enc["input_ids"].shape[1]:].tolist()
        # keep the end-of-turn token: it was computed, and vLLM counts it too
        return ids[: ids.index(tok.eos_token_id) + 1] if tok.eos_token_id in ids else ids

    with torch.inference_mode():
        run(encoded[0], 4)  # warm-up
        start, cpu = time.perf_counter(), time.process_time()
        answers = [run(enc, max_new_tokens) for enc in encoded]
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    texts = [tok.decode(ids, skip_special_tokens=True).strip() for ids in answers]
    return Side("transformers loop, batch 1", wall, cpu, sum(len(ids) for ids in answers), texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16, help="first N built-in prompts")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--cache-dir", default=default_cache())
    args = parser.parse_args()
    quiet_backends()

    from judge.models.refs import resolve_model
    from judge.promptsets.load import load_prompts

    info = resolve_model("smollm2", Path(args.cache_dir))
    items = load_prompts("builtin", limit=args.prompts)
    chats = [[Message(role="user", content=item.prompt)] for item in items]

    engine = engine_side(info, chats, args.max_new_tokens)
    loop = loop_side(info, chats, args.max_new_tokens)
    same = sum(a == b for a, b in zip(engine.texts, loop.texts, strict=True))
    print(f"workload: smollm2 fp32, {len(chats)} built-in prompts x {args.max_new_tokens} new "
          "tokens, greedy")
    print(engine.line())
    print(loop.line())
    print(f"identical answers: {same}/{len(chats)}")
    print(f"ratio engine/loop tok/s: {engine.rate / loop.rate:.2f}x (target >= 2x)")


if __name__ == "__main__":
    main()
