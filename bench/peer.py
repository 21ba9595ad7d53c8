"""judge's judge stage vs alpaca_eval's local-vLLM annotator: same pairs, same judge, same engine.

    export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 VLLM_ENABLE_V1_MULTIPROCESSING=0
    .venv/bin/python bench/peer.py                         # 16 built-in prompts, both orders
    .venv/bin/python bench/peer.py --prompts 4 --rounds 1

One-off install, into this checkout's venv only (alpaca-eval is no dependency of judge, and no
test needs it); --no-deps keeps pip away from torch, vllm and transformers, and the rest of what
alpaca-eval 0.6.6 asks for (datasets, openai, pandas, scikit-learn, scipy, tiktoken,
huggingface-hub, python-dotenv) is already installed:

    /work/main/.venv/bin/python -m pip --python .venv/bin/python install --no-deps \\
        alpaca-eval==0.6.6 fire patsy termcolor

The bundled model answers N built-in prompts twice (two seeds), and every pair is judged in both
orders (2 judgments per pair, identical answers skipped) by three sides:
  judge      judge.pipeline.judging.judge_stage, `--verdict both`, the shipped pairwise template,
             48-token budget, into a fresh ledger;
  alpaca     alpaca_eval.annotators.PairwiseAnnotator with the annotator config alpaca-eval ships
             for a local vLLM judge (alpaca_eval_vllm_llama3_70b_fn: its prompt, chat-formatted,
             vllm_local_completions, ranking_parser, temperature 0) changed only where it must be:
             model_name is the bundled model's folder, max_new_tokens 48 (was 100) so both sides
             have one budget, is_randomize_output_order off and both orders given as rows so both
             sides make the same judgments, caching_path None (no annotation file);
  vllm loop  what a user writes with vllm.LLM directly: one llm.chat over judge's rendered chats,
             SamplingParams(max_tokens=48, temperature=0, logprobs=20), the verdict parsed with
             the template's regex. The floor under both tools.
All three run on one vLLM engine, loaded once by judge.engines.load_engine outside every timing:
vllm_local_completions keeps its vllm.LLM in a module global, which is set to that engine's LLM
(so neither tool pays a load, both get the same model, dtype float32, block size and KV cache, and
only one vLLM engine lives in the process, as vLLM's CPU backend needs). The prefix cache is reset
before each measurement; one untimed vllm-loop pass over the first 16 chats warms the engine up
for judge-sized batches first, and the sides run in A-B-C-C-B-A order. tqdm stays on: vLLM 0.32's
LLM.generate divides by tqdm's elapsed time and raises ZeroDivisionError when tqdm is disabled
(TQDM_DISABLE=1, which judge's CLI sets for its own runs), and alpaca_eval calls it with the bar
on. Each side is timed in wall and CPU seconds (the engine runs in this process, so CPU seconds
count the work and stay steady when other jobs share the cores). The last line is judge's time
over alpaca_eval's.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
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

SIDES = ("judge", "alpaca", "vllm loop")


def peer_config(folder: Path, model_path: str) -> Path:
    import alpaca_eval

    shipped = Path(alpaca_eval.__file__).parent / "evaluators_configs"
    prompt = shipped / "alpaca_eval_vllm_llama3_70b_fn" / "alpaca_eval_fn.txt"
    config = folder / "peer" / "configs.yaml"
    config.parent.mkdir()
    config.write_text(f"""peer:
  prompt_template: "{prompt}"
  fn_completions: "vllm_local_completions"
  completions_kwargs:
    model_name: "{model_path}"
    is_chatml_prompt: true
    max_new_tokens: {JUDGE_TOKENS}
    temperature: 0.0
    top_p: 1.0
  fn_completion_parser: "ranking_parser"
  is_randomize_output_order: false
""")
    return config


def peer_rows(items, answers) -> list[dict]:
    rows = []
    for item in items:
        base, tuned = answers[item.prompt_id]
        if base != tuned:
            for a, b in ((base, tuned), (tuned, base)):
                rows.append({"instruction": item.prompt, "output_1": a, "output_2": b})
    return rows


def run_peer(config: Path, rows) -> int:
    """One annotation pass, no cache on disk: how many pairs got a preference."""
    from alpaca_eval.annotators import PairwiseAnnotator

    annotator = PairwiseAnnotator(annotators_config=str(config), caching_path=None)
    out = annotator.annotate_pairs(rows)
    return sum(1 for r in out if r.get("preference") is not None
               and not math.isnan(float(r["preference"])))


def run_loop(llm, chats, template) -> int:
    """The plain vllm.LLM loop: how many verdicts parsed."""
    from vllm import SamplingParams as VSP

    sampling = VSP(max_tokens=JUDGE_TOKENS, temperature=0.0, logprobs=20)
    outs = llm.chat([[m.model_dump() for m in chat] for chat in chats], sampling, use_tqdm=False)
    firsts = [o.outputs[0].logprobs[0] for o in outs]  # where the label probabilities are read
    assert len(firsts) == len(chats)
    return sum(template.parse(o.outputs[0].text) is not None for o in outs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16, help="first N built-in prompts")
    parser.add_argument("--answer-tokens", type=int, default=64, help="answer length budget")
    parser.add_argument("--rounds", type=int, default=2, help="A-B-C-C-B-A rounds")
    parser.add_argument("--cache-dir", default=os.environ.get("JUDGE_CACHE_DIR"))
    args = parser.parse_args()
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
    logging.getLogger().setLevel(logging.CRITICAL)  # alpaca_eval logs every unparsed reply

    from transformers import AutoTokenizer

    from judge.cli.common import default_cache
    from judge.engines import EngineOptions, load_engine
    from judge.models.refs import resolve_model
    from judge.promptsets.load import load_prompts
    from judge.templates.template import load_template

    info = resolve_model("smollm2", Path(args.cache_dir or default_cache()))
    items = load_prompts("builtin", limit=args.prompts)
    template = load_template("pairwise")
    engine = load_engine(info, EngineOptions(kv_cache_gb=1.0))
    wall = dict.fromkeys(SIDES, 0.0)
    cpu = dict(wall)
    seen: dict[str, Requests] = {}
    read: dict[str, int] = {}
    try:
        from alpaca_eval.decoders import vllm_local

        llm = engine.llm
        vllm_local.llm, vllm_local.llmModelName = llm, info.path  # its engine is ours
        vllm_local.tokenizer = AutoTokenizer.from_pretrained(info.path)
        answers = answers_for(engine, items, args.answer_tokens)
        listed = judge_chats(items, answers, template)
        rows = peer_rows(items, answers)
        run_loop(llm, [c for *_, c in listed][:16], template)  # warm-up: judge-sized batches
        recorder = Recorder(llm)
        with tempfile.TemporaryDirectory() as tmp:
            config = peer_config(Path(tmp), info.path)
            plan = [s for r in range(args.rounds) for s in (SIDES if r % 2 == 0 else SIDES[::-1])]
            for n, side in enumerate(plan):
                llm.reset_prefix_cache()
                recorder.outputs.clear()
                with Clock() as clock:
                    if side == "judge":
                        lines, _ = judge_stage_once(engine, items, answers, "both",
                                                    Path(tmp) / f"{n}.jsonl")
                        read[side] = sum(j.source == "text" for j in lines)
                    elif side == "alpaca":
                        read[side] = run_peer(config, rows)
                    else:
                        read[side] = run_loop(llm, [c for *_, c in listed], template)
                seen[side] = Requests.of(recorder.outputs)
                wall[side] += clock.wall
                cpu[side] += clock.cpu
                print(f"  {side:<9} {clock.wall:6.1f} s (CPU {clock.cpu:6.1f} s)  "
                      f"{seen[side].line()}", flush=True)
    finally:
        engine.close()
    report(args, (wall, cpu), seen, read, len(listed), len(rows))


def report(args, times, seen, read, judged: int, rows: int) -> None:
    import alpaca_eval

    wall, cpu = times
    print(f"workload: smollm2 fp32, {args.prompts} built-in prompts, {judged} judgments "
          f"(both orders; alpaca_eval given the same {rows} ordered pairs), budget "
          f"{JUDGE_TOKENS} tokens, alpaca-eval {alpaca_eval.__version__}; summed over "
          f"{args.rounds} rounds")
    for side in SIDES:
        print(f"{side:<9}: {wall[side]:6.1f} s, CPU {cpu[side]:6.1f} s "
              f"({cpu[side] / args.rounds / judged:.3f} CPU s/judgment), verdicts read from the "
              f"text {read[side]}/{judged}; last run {seen[side].line()}")
    print(f"ratio judge/vllm loop: {wall['judge'] / wall['vllm loop']:.3f}x wall, "
          f"{cpu['judge'] / cpu['vllm loop']:.3f}x CPU")
    print(f"ratio judge/alpaca_eval: {wall['judge'] / wall['alpaca']:.3f}x wall, "
          f"{cpu['judge'] / cpu['alpaca']:.3f}x CPU")


if __name__ == "__main__":
    main()
