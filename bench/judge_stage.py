"""`--verdict both` vs `--verdict text` on the same pairs: what the label probabilities cost.

    export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 VLLM_ENABLE_V1_MULTIPROCESSING=0
    .venv/bin/python bench/judge_stage.py                  # 16 built-in prompts, both orders
    .venv/bin/python bench/judge_stage.py --prompts 4 --rounds 1

The bundled model answers N built-in prompts twice (two sampling seeds, so the answers differ and
the judge is really called); then the same pairs are judged in both orders with the shipped
pairwise template by judge.pipeline.judging.judge_stage, exactly as `judge compare --verdict MODE`
does, into a fresh ledger each time:
  text     the verdict read from the reply only;
  both     the default: reply and first-token label probabilities from the same request;
  2-pass   the way `both` worked before: per call a text generate, then a one-token
           label_probs call over the same chats (engine calls made directly, as judge_stage made
           them, with the 32 judgments per call judge_stage makes now, so that only the second
           pass differs);
  logprob  label probabilities from one-token requests only (measured once, after the rounds).
One engine (the default, vLLM, at its CPU default block size) is loaded once, outside every
timing, and warmed up with one untimed judge-sized call; the prefix cache is reset before each
measurement, and text, both and 2-pass run in
A-B-C-C-B-A order so drift in machine load falls on all three. vLLM's request outputs are
recorded (requests, prompt tokens, prefix-cache hits, tokens generated). Every measurement is
timed in wall and CPU seconds: the engine runs in this process, so CPU seconds count the work and
stay steady when other jobs share the cores, which wall seconds do not. Checked: every line of
`both` decides as the 2-pass way decides on the same replies (verdict, winner, score, source;
p_tuned to 1e-3). Target: both/text <= 1.05.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from shared import (
    JUDGE_TOKENS,
    Clock,
    Recorder,
    Requests,
    answers_for,
    judge_chats,
    judge_stage_once,
)

from judge.cli.common import default_cache, quiet_backends
from judge.records import SamplingParams

ROUND = ("text", "both", "2-pass")
CALL = 32  # judgments per engine call: both orders of 16 prompts (what compare sent before it
# streamed: its --window now offers every prompt at once)


def two_pass(engine, chats, template) -> tuple[list, list]:
    """The old `both`: per call a text generate, then label_probs (texts, probs)."""
    params = SamplingParams(max_new_tokens=JUDGE_TOKENS, temperature=0.0)
    texts, probs = [], []
    for start in range(0, len(chats), CALL):
        part = chats[start : start + CALL]
        texts += [c.text for c in engine.generate(part, params)]
        probs += engine.label_probs(part, template.labels)
    return texts, probs


def same_decisions(template, listed, judgments, texts, probs) -> int:
    """How many `both` lines decide exactly as the two-pass replies do."""
    import math

    from judge.pipeline.verdicts import decide

    found = {(j.prompt_id, j.order): j for j in judgments}
    same = 0
    for (pid, order, _), text, prob in zip(listed, texts, probs, strict=True):
        line, two = found[(pid, order)], decide(template, order, text, prob)
        soft = (line.p_tuned is None and two.p_tuned is None) or (
            line.p_tuned is not None and two.p_tuned is not None
            and math.isclose(line.p_tuned, two.p_tuned, abs_tol=1e-3))
        same += (line.verdict, line.winner, line.score, line.source) == (
            two.label, two.winner, two.score, two.source) and soft
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16, help="first N built-in prompts")
    parser.add_argument("--answer-tokens", type=int, default=64, help="answer length budget")
    parser.add_argument("--rounds", type=int, default=2, help="A-B-C-C-B-A rounds")
    parser.add_argument("--cache-dir", default=default_cache())
    args = parser.parse_args()
    quiet_backends()

    from judge.engines import EngineOptions, load_engine
    from judge.models.refs import resolve_model
    from judge.promptsets.load import load_prompts
    from judge.templates.template import load_template

    info = resolve_model("smollm2", Path(args.cache_dir))
    items = load_prompts("builtin", limit=args.prompts)
    template = load_template("pairwise")
    engine = load_engine(info, EngineOptions(kv_cache_gb=1.0))
    wall = dict.fromkeys((*ROUND, "logprob"), 0.0)
    cpu = dict(wall)
    seen: dict[str, Requests] = {}
    try:
        llm = engine.llm  # the vLLM engine; this benchmark reads vLLM's request outputs
        block = llm.llm_engine.vllm_config.cache_config.block_size
        answers = answers_for(engine, items, args.answer_tokens)
        listed = judge_chats(items, answers, template)
        warm = [c for *_, c in listed][:16]  # untimed: the first judge-sized batch runs slower
        engine.generate(warm, SamplingParams(max_new_tokens=JUDGE_TOKENS), template.labels)
        recorder = Recorder(llm)
        lines: dict[str, list] = {}
        replies: tuple[list, list] = ([], [])
        with tempfile.TemporaryDirectory() as tmp:
            plan = [m for r in range(args.rounds) for m in (ROUND if r % 2 == 0 else ROUND[::-1])]
            for n, mode in enumerate([*plan, "logprob"]):
                llm.reset_prefix_cache()
                recorder.outputs.clear()
                with Clock() as clock:
                    if mode == "2-pass":
                        replies = two_pass(engine, [c for *_, c in listed], template)
                    else:
                        lines[mode], _ = judge_stage_once(engine, items, answers, mode,
                                                          Path(tmp) / f"{n}.jsonl")
                wall[mode] += clock.wall
                cpu[mode] += clock.cpu
                seen[mode] = Requests.of(recorder.outputs)
                print(f"  {mode:<7} {clock.wall:6.1f} s (CPU {clock.cpu:6.1f} s)  "
                      f"{seen[mode].line()}", flush=True)
    finally:
        engine.close()
    print(f"workload: smollm2 fp32, {args.prompts} built-in prompts, {len(listed)} judgments "
          f"(both orders), judge budget {JUDGE_TOKENS} tokens, KV block size {block}; "
          f"text/both/2-pass summed over {args.rounds} rounds, logprob once")
    for mode in (*ROUND, "logprob"):
        print(f"--verdict {mode:<7}: {wall[mode]:6.1f} s (CPU {cpu[mode]:6.1f} s), last run "
              f"{seen[mode].line()}")
    agree = same_decisions(template, listed, lines["both"], *replies)
    print(f"one-pass `both` lines deciding as the 2-pass replies do: {agree}/{len(listed)}")
    print(f"generated tokens per judgment, --verdict logprob: "
          f"{seen['logprob'].generated / len(listed):.2f} (target 1)")
    print(f"ratio 2-pass/text (before): {wall['2-pass'] / wall['text']:.3f}x wall, "
          f"{cpu['2-pass'] / cpu['text']:.3f}x CPU")
    print(f"ratio both/text: {wall['both'] / wall['text']:.3f}x wall, "
          f"{cpu['both'] / cpu['text']:.3f}x CPU (target <= 1.05x)")


if __name__ == "__main__":
    main()
