"""Structured verdicts on vs off on the demo's prompts: invalid verdicts, judge-stage time, and
position consistency.

    export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 VLLM_ENABLE_V1_MULTIPROCESSING=0
    .venv/bin/python bench/structured.py            # 24 built-in prompts, as `judge demo` judges
    .venv/bin/python bench/structured.py --verdict text --prompts 8 --rounds 1
    .venv/bin/python bench/structured.py --verdict text \
        --template tests/data/importers/fastchat/judge_prompts.jsonl#pair-v2   # reason-first

The bundled model answers the first N built-in prompts twice (temperature 0.7, seeds 0 and 1: the
base model against itself, so no training is needed and the judge is really asked); then the same
pairs are judged in both orders by judge.pipeline.judging.judge_stage, as `judge compare` does
with its judge budget and `--verdict both` (its default; `--verdict text` reads the reply alone,
where a free reply that does not parse is an invalid verdict), into a fresh ledger each time:
  off   free replies (--no-structured);
  on    replies held to the template's grammar (--structured): for the shipped pairwise template
        a choice of its labels; for a reason-first template, reasoning then the verdict.
One vLLM engine is loaded once, outside every timing. The first call under a grammar starts
vLLM's grammar compiler; it is timed on its own (a run pays it once) before one untimed warm-up
call of each kind. The prefix cache is reset before each measurement, and off and on run in
A-B-B-A order so drift in machine load falls on both; wall and CPU seconds are summed over the
rounds. Printed per mode: invalid verdicts (lines no reply could be read from), where verdicts
came from (text, log-prob), generated tokens, and position consistency (share of prompts whose
two orders agree). Target: 0 invalid with on; judge-stage time on/off <= 1.10 (last line).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from shared import JUDGE_TOKENS, Clock, Recorder, Requests, answers_for, judge_chats

from judge.cli.common import default_cache, quiet_backends

MODES = ("off", "on")


def judge_once(engine, judge, items, answers, ledger: Path):
    """judge_stage on the loaded engine into a fresh ledger: the judgment lines."""
    from judge.engines import EngineOptions
    from judge.engines.pool import EnginePool
    from judge.pipeline.judging import judge_stage
    from judge.records import Judgment
    from judge.runs.ledger import Ledger

    pool = EnginePool(EngineOptions(), lambda model, options: engine)
    lines, _ = judge_stage(pool, judge, items, answers, Ledger(ledger, Judgment), 16,
                           lambda done, tokens: None)
    return lines


def describe(lines) -> tuple[int, dict[str, int], float | None]:
    """(invalid lines, verdict sources, position consistency) of one mode's lines."""
    from judge.stats.pairwise import position_stats

    sources: dict[str, int] = {}
    for line in lines:
        sources[line.source] = sources.get(line.source, 0) + 1
    consistency, _ = position_stats([line.model_dump() for line in lines])
    return sum(line.winner == "invalid" for line in lines), sources, consistency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=24, help="first N built-in prompts")
    parser.add_argument("--answer-tokens", type=int, default=192,
                        help="answer length budget (judge demo's)")
    parser.add_argument("--rounds", type=int, default=2, help="A-B-B-A rounds")
    parser.add_argument("--template", default="pairwise", help="a template or a source")
    parser.add_argument("--verdict", choices=("both", "text"), default="both",
                        help="both (the default of judge compare: text, else the first token's "
                        "label probabilities) or text (the reply alone)")
    parser.add_argument("--cache-dir", default=default_cache())
    args = parser.parse_args()
    quiet_backends()

    from judge.engines import EngineOptions, load_engine
    from judge.models.refs import resolve_model
    from judge.pipeline.judging import Judge
    from judge.promptsets.load import load_prompts
    from judge.records import SamplingParams
    from judge.templates.grammar import grammar_for
    from judge.templates.template import load_template

    info = resolve_model("smollm2", Path(args.cache_dir))
    items = load_prompts("builtin", limit=args.prompts)
    template = load_template(args.template)
    params = SamplingParams(max_new_tokens=JUDGE_TOKENS, temperature=0.0)
    found = grammar_for(template, JUDGE_TOKENS)
    if found.grammar is None:
        raise SystemExit(f"template {template.name} has no grammar: {found.note}")
    judges = {mode: Judge(info, template, args.verdict, params,
                          found.grammar if mode == "on" else None).reading() for mode in MODES}
    engine = load_engine(info, EngineOptions(kv_cache_gb=1.0))
    wall, cpu = dict.fromkeys(MODES, 0.0), dict.fromkeys(MODES, 0.0)
    lines: dict[str, list] = {}
    seen: dict[str, Requests] = {}
    try:
        llm = engine.llm
        answers = answers_for(engine, items, args.answer_tokens)
        listed = judge_chats(items, answers, template)
        chats = [c for *_, c in listed][:16]
        labels = template.labels if judges["on"].mode == "both" else None
        with Clock() as first:  # vLLM starts its grammar compiler on the first such request
            engine.generate(chats[:1], params, labels, grammar=found.grammar)
        for mode in MODES:  # untimed: the first judge-sized batch of each kind runs slower
            engine.generate(chats, params, labels, grammar=judges[mode].grammar)
        recorder = Recorder(llm)
        with tempfile.TemporaryDirectory() as tmp:
            plan = [m for r in range(args.rounds) for m in (MODES if r % 2 == 0 else MODES[::-1])]
            for n, mode in enumerate(plan):
                llm.reset_prefix_cache()
                recorder.outputs.clear()
                with Clock() as clock:
                    lines[mode] = judge_once(engine, judges[mode], items, answers,
                                             Path(tmp) / f"{n}.jsonl")
                wall[mode] += clock.wall
                cpu[mode] += clock.cpu
                seen[mode] = Requests.of(recorder.outputs)
                print(f"  {mode:<3} {clock.wall:6.1f} s (CPU {clock.cpu:6.1f} s)  "
                      f"{seen[mode].line()}", flush=True)
    finally:
        engine.close()
    print(f"workload: smollm2 fp32, {args.prompts} built-in prompts answered twice "
          f"(temperature 0.7, {args.answer_tokens} tokens), {len(listed)} judgments (both "
          f"orders), template {template.name}, --verdict {judges['on'].mode}, judge budget "
          f"{JUDGE_TOKENS} "
          f"tokens; grammar ({found.how}): {found.note}")
    print(f"first constrained request (grammar compiler start-up, paid once per engine): "
          f"{first.wall:.1f} s")
    for mode in MODES:
        invalid, sources, consistency = describe(lines[mode])
        shown = "n/a" if consistency is None else f"{consistency:.1%}"
        print(f"--structured {mode:<3}: invalid {invalid}/{len(lines[mode])}, sources "
              f"{sources}, generated {seen[mode].generated} tokens, position consistency "
              f"{shown}, {wall[mode]:.1f} s (CPU {cpu[mode]:.1f} s) over {args.rounds} rounds")
    print(f"ratio judge stage on/off: {wall['on'] / wall['off']:.3f}x wall, "
          f"{cpu['on'] / cpu['off']:.3f}x CPU (target <= 1.10x)")


if __name__ == "__main__":
    main()
