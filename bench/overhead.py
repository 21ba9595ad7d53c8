"""`judge compare` wall time vs the bare engine calls it makes, in one process on one engine.

    export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 VLLM_ENABLE_V1_MULTIPROCESSING=0
    .venv/bin/python bench/overhead.py                       # 16 prompts, 64-token answers
    .venv/bin/python bench/overhead.py --prompts 4 --max-new-tokens 16 --rounds 1

compare side: judge.pipeline.compare.run_compare in-process (not the CLI: the CLI adds interpreter
start and imports, which bench/cache_rerun.py shows), an A/A run of the bundled model against itself
at temperature 0.7 (two seeds, so the answers differ and the judge is really called), judged by the
same model with the pairwise template in `--verdict both` mode, into a fresh run folder.
bare side: the same engine calls, made directly and timed one by one: generate per window of
prompts (compare's --window, all of them at the default) for each side, then for the judge one
generate per window (both orders: two chats a prompt) that also asks for the label
probabilities of the first token (what `--verdict both` sends: one request per judgment).

Model loading is kept out of both sides the same way: the default engine is loaded once, before
anything is timed, and run_compare gets a loader that hands it that engine (its timing shows
load_models at 0 s). The prefix cache is reset before every measurement, so neither side reuses
the other's work. Measurements run in A-B-B-A order (bare, compare, compare, bare for two
rounds) so a drift in machine load falls on both sides alike. Target: compare/bare <= 1.10.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from judge.cli.common import default_cache, quiet_backends
from judge.engines.pool import Borrowed
from judge.records import Message, SamplingParams


def no_progress(name: str, total: int):
    return lambda done, tokens: None


def chunks(seq: list, size: int) -> list[list]:
    return [seq[i : i + size] for i in range(0, len(seq), size)]


def bare_calls(engine, config) -> tuple[float, float, int]:
    """(wall and CPU seconds spent inside engine calls, tokens generated) for compare's calls,
    made directly."""
    from judge.promptsets.load import load_prompts
    from judge.templates.template import load_template

    items = load_prompts(config.prompts, limit=config.limit)
    template = load_template(config.template)
    spent, cpu, tokens = 0.0, 0.0, 0

    def timed(call, *args):
        nonlocal spent, cpu
        start, cpu_start = time.perf_counter(), time.process_time()
        result = call(*args)
        spent += time.perf_counter() - start
        cpu += time.process_time() - cpu_start
        return result

    answers: dict[str, list[str]] = {item.prompt_id: [] for item in items}
    for seed in (config.seed, config.seed + 1):  # base, then tuned: compare's two draws
        params = SamplingParams(max_new_tokens=config.max_new_tokens,
                                temperature=config.temperature, seed=seed)
        for part in chunks(items, config.chunk):
            chats = [[Message(role="user", content=item.prompt)] for item in part]
            done = timed(engine.generate, chats, params)
            tokens += sum(c.tokens for c in done)
            for item, c in zip(part, done, strict=True):
                answers[item.prompt_id].append(c.text)
    judge_chats = []
    for item in items:
        base, tuned = answers[item.prompt_id]
        if base == tuned:  # compare records identical answers as ties without a judge call
            continue
        for first, second in ((base, tuned), (tuned, base)):
            judge_chats.append(template.render(instruction=item.prompt, answer_a=first,
                                               answer_b=second, reference=item.reference))
    judge_params = SamplingParams(max_new_tokens=config.judge_max_new_tokens, temperature=0.0)
    for part in chunks(judge_chats, 2 * config.chunk):  # both orders of `chunk` prompts a call
        done = timed(engine.generate, part, judge_params, template.labels)
        tokens += sum(c.tokens for c in done)
    return spent, cpu, tokens


def compare_run(engine, config) -> tuple[float, float, dict]:
    """(wall and CPU seconds, summary) of one run_compare into a fresh folder."""
    from judge.pipeline.compare import run_compare

    start, cpu = time.perf_counter(), time.process_time()
    summary = run_compare(config, no_progress,
                          loader=lambda model, options: Borrowed(engine)).as_json()
    return time.perf_counter() - start, time.process_time() - cpu, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16, help="first N built-in prompts")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2, help="A-B-B-A rounds of each side")
    parser.add_argument("--cache-dir", default=default_cache())
    args = parser.parse_args()
    quiet_backends()

    from judge.engines import EngineOptions, load_engine
    from judge.models.refs import resolve_model
    from judge.pipeline.compare import CompareConfig

    info = resolve_model("smollm2", Path(args.cache_dir))
    engine = load_engine(info, EngineOptions())
    totals = dict.fromkeys(("bare", "bare_cpu", "compare", "compare_cpu", "compare_engine"), 0.0)
    try:
        # warm-up: the first batched calls after loading run slower than the rest
        warm = [[Message(role="user", content=f"Count to {n}.")] for n in range(16)]
        engine.generate(warm, SamplingParams(max_new_tokens=16))
        with tempfile.TemporaryDirectory() as tmp:
            sides = ["bare", "compare"]
            for round_no in range(args.rounds):
                for side in sides if round_no % 2 == 0 else sides[::-1]:
                    config = CompareConfig(
                        base="smollm2", tuned="smollm2", limit=args.prompts,
                        max_new_tokens=args.max_new_tokens, temperature=0.7,
                        out=str(Path(tmp) / f"run{round_no}"), cache_dir=args.cache_dir,
                    )
                    engine.llm.reset_prefix_cache()
                    measure(side, engine, config, totals, round_no)
    finally:
        engine.close()
    print(f"total over {args.rounds} rounds: compare {totals['compare']:.1f} s (of which engine "
          f"calls {totals['compare_engine']:.1f} s), bare engine calls {totals['bare']:.1f} s")
    # CPU seconds tell extra work from waiting: on a shared machine wall time also counts waits
    print(f"CPU seconds: compare {totals['compare_cpu']:.1f} s, bare {totals['bare_cpu']:.1f} s "
          f"(ratio {totals['compare_cpu'] / totals['bare_cpu']:.3f}x)")
    print(f"ratio compare/bare: {totals['compare'] / totals['bare']:.3f}x (target <= 1.10x)")


def measure(side: str, engine, config, totals: dict, round_no: int) -> None:
    if side == "bare":
        seconds, cpu, tokens = bare_calls(engine, config)
        totals["bare"] += seconds
        totals["bare_cpu"] += cpu
        print(f"round {round_no + 1} bare   : engine calls {seconds:6.1f} s (CPU {cpu:6.1f} s), "
              f"{tokens} tokens")
        return
    wall, cpu, summary = compare_run(engine, config)
    timing = summary["timing"]
    inside = sum(timing[s]["seconds"] for s in ("generate_base", "generate_tuned", "judge"))
    totals["compare"] += wall
    totals["compare_engine"] += inside
    totals["compare_cpu"] += cpu
    print(f"round {round_no + 1} compare: wall {wall:6.1f} s (CPU {cpu:6.1f} s), engine calls "
          f"{inside:6.1f} s, "
          f"rest {wall - inside:5.1f} s, {timing['total']['tokens']} tokens, "
          f"load_models {timing['load_models']['seconds']} s")


if __name__ == "__main__":
    main()
