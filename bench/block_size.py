"""vLLM's KV block size on CPU, chosen by measurement: prefix-cache hits and judge-stage time.

    export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 VLLM_ENABLE_V1_MULTIPROCESSING=0
    .venv/bin/python bench/block_size.py                      # blocks 16 32 64 128, 2 rounds
    .venv/bin/python bench/block_size.py --blocks 32 128 --prompts 4 --rounds 1

The bundled model answers N built-in prompts twice (two sampling seeds, so the judge is really
called), once, on the first engine loaded; every block size then judges those same pairs. For each
block size the default engine (vLLM) is loaded through judge.engines.load_engine with
EngineOptions(block_size=B), and three things are timed on it, each after a prefix-cache reset:
generation (the N prompts, 64 greedy tokens, one call), the judge stage in `--verdict both` (the
default) and in `--verdict logprob`, both through judge.pipeline.judging.judge_stage exactly as
compare runs it. Hits are `num_cached_tokens` summed over the stage's requests. Rounds visit the
block sizes in A-B-B-A order (ascending, then descending), so drift in machine load falls on all.
A block size the engine refuses is reported as refused. The block with the least time summed
over generation and both judge modes is the one to choose; the last line gives its times as
ratios of vLLM's CPU default (128).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from shared import Recorder, Requests, answers_for, judge_stage_once, timed

from judge.cli.common import default_cache, quiet_backends
from judge.records import Message, SamplingParams

MODES = ("both", "logprob")


def visit(info, block: int, items, answers, folder: Path) -> dict:
    """One engine at `block`: load, generation, and the judge stage in each mode."""
    from judge.engines import EngineOptions, load_engine

    load_s, engine = timed(load_engine, info, EngineOptions(kv_cache_gb=1.0, block_size=block))
    try:
        llm = engine.llm
        actual = llm.llm_engine.vllm_config.cache_config.block_size
        chats = [[Message(role="user", content=item.prompt)] for item in items]
        engine.generate(chats[:2], SamplingParams(max_new_tokens=4))  # warm-up
        llm.reset_prefix_cache()
        gen_s, _ = timed(engine.generate, chats, SamplingParams(max_new_tokens=64))
        row = {"block": actual, "load": load_s, "generate": gen_s}
        recorder = Recorder(llm)
        for mode in MODES:
            llm.reset_prefix_cache()
            recorder.outputs.clear()
            ledger = Path(tempfile.mkdtemp(dir=folder)) / "judgments.jsonl"
            _, timing = judge_stage_once(engine, items, answers, mode, ledger)
            row[mode] = timing.seconds
            row[f"{mode}_requests"] = Requests.of(recorder.outputs)
        return row
    finally:
        engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, nargs="+", default=[16, 32, 64, 128])
    parser.add_argument("--prompts", type=int, default=16, help="first N built-in prompts")
    parser.add_argument("--answer-tokens", type=int, default=64, help="answer length budget")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cache-dir", default=default_cache())
    args = parser.parse_args()
    quiet_backends()

    from judge.engines import EngineOptions, load_engine
    from judge.models.refs import resolve_model
    from judge.promptsets.load import load_prompts

    info = resolve_model("smollm2", Path(args.cache_dir))
    items = load_prompts("builtin", limit=args.prompts)
    first = load_engine(info, EngineOptions(kv_cache_gb=1.0))
    try:
        answers = answers_for(first, items, args.answer_tokens)
    finally:
        first.close()
    rows: dict[int, list[dict]] = {b: [] for b in args.blocks}
    refused: dict[int, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(args.rounds):
            for block in args.blocks if round_no % 2 == 0 else args.blocks[::-1]:
                if block in refused:
                    continue
                try:
                    row = visit(info, block, items, answers, Path(tmp))
                except Exception as err:  # noqa: BLE001 - the engine's refusal is the result
                    refused[block] = f"{type(err).__name__}: {str(err).splitlines()[0][:120]}"
                    continue
                rows[block].append(row)
                print(f"round {round_no + 1} block {block:>3} (engine says {row['block']}): "
                      f"load {row['load']:5.1f} s, generate {row['generate']:5.1f} s, "
                      f"judge both {row['both']:5.1f} s, logprob {row['logprob']:5.1f} s",
                      flush=True)
    report(args, rows, refused)


def report(args, rows: dict[int, list[dict]], refused: dict[int, str]) -> None:
    print(f"workload: smollm2 fp32, {args.prompts} built-in prompts, 2 answers each "
          f"({args.answer_tokens} tokens, temperature 0.7), pairwise template, both orders; "
          f"times summed over {args.rounds} rounds")
    print("| block | generate s | judge both s | hits both | judge logprob s | hits logprob |")
    print("|---|---|---|---|---|---|")
    sums = {}
    for block, visits in rows.items():
        if block in refused:
            print(f"| {block} | refused: {refused[block]} | | | | |")
            continue
        total = {k: sum(v[k] for v in visits) for k in ("generate", "both", "logprob")}
        hits = {m: visits[-1][f"{m}_requests"] for m in MODES}
        sums[block] = total
        print(f"| {block} | {total['generate']:.1f} | {total['both']:.1f} | "
              f"{hits['both'].hit_rate:.1%} | {total['logprob']:.1f} | "
              f"{hits['logprob'].hit_rate:.1%} |")
    for block, visits in rows.items():
        if visits:
            print(f"block {block}: both {visits[-1]['both_requests'].line()}")
    # every block size pays generation and a judge stage: the one with the least of all three wins
    spent = {b: sum(t.values()) for b, t in sums.items()}
    best = min(spent, key=lambda b: spent[b])
    base = sums.get(128)
    if base is None:
        print(f"least generation + judge time: block {best} (no block 128 run to compare with)")
        return
    print(f"least generation + judge time: block {best}, {spent[best] / spent[128]:.3f}x of "
          f"block 128's; --verdict both {sums[best]['both'] / base['both']:.3f}x, --verdict "
          f"logprob {sums[best]['logprob'] / base['logprob']:.3f}x")


if __name__ == "__main__":
    main()
