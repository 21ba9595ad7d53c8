"""`judge compare BASE TUNED`: the options of one comparison, turned into a CompareConfig.

    judge compare smollm2 path/to/tuned --limit 20
    judge compare BASE TUNED --judge JUDGE --prompts prompts.jsonl --engine vllm --json
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console

from judge.cli.common import default_cache, engine_config, engine_options, slug, stage_progress


@click.command()
@click.argument("base")
@click.argument("tuned")
@click.option("--judge", "judge_ref", default="smollm2", show_default=True,
              help="Judge model: smollm2, a model folder, a .gguf file or a hub id; 'flow' is "
              "Flow-Judge-v0.1 with its own format (template 'flow'), 'flow:PATH' a local copy.")
@click.option("--flow-metric", default=None, help="Flow judge: the rubric (a flow-judge preset or "
              "helpfulness-5, correctness-5, correctness-binary); default picked from the prompts.")
@click.option("--prompts", default="builtin", show_default=True,
              help="Prompt set: 'builtin' (48 instructions), a .jsonl/.json/.csv/.parquet file, "
              "or a datasets hub id ORG/NAME[:CONFIG][@SPLIT].")
@click.option("--prompt-column", default=None,
              help="Column with the prompt text (default: 'prompt', else 'instruction').")
@click.option("--limit", type=int, default=None, help="Use only the first N prompts.")
@click.option("--template", default="pairwise", show_default=True,
              help="Judge template: a name from prompts/ or a path to your own .j2 file.")
@click.option("--verdict", type=click.Choice(["text", "logprob", "both"]), default="both",
              show_default=True, help="Read the verdict from the judge's text, from label "
              "probabilities of its first token, or both (text where it parses, else log-prob).")
@click.option("--max-new-tokens", type=click.IntRange(1), default=256, show_default=True,
              help="Answer length budget for BASE and TUNED.")
@click.option("--judge-max-new-tokens", type=click.IntRange(1), default=48, show_default=True,
              help="Reply length budget for the judge (text verdicts).")
@click.option("--temperature", type=click.FloatRange(0.0), default=0.0, show_default=True,
              help="Sampling temperature for answers (0 = greedy).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed for sampling and the bootstrap.")
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True,
              help="Interval level.")
@click.option("--bootstrap", type=click.IntRange(100), default=2000, show_default=True,
              help="Bootstrap resamples for the paired interval.")
@click.option("--chunk", type=click.IntRange(1), default=16, show_default=True,
              help="Prompts per engine call; each chunk is saved as soon as it is done, so a "
              "crash loses at most one chunk.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Run folder (default results/BASE-vs-TUNED). Rerunning resumes from its cache.")
@click.option("--cache-dir", default=default_cache, show_default="$JUDGE_CACHE_DIR or "
              "~/.cache/judge", help="Where converted GGUF models are kept.")
@click.option("--bench", default="", help="lm-eval tasks to run on both models, comma-separated "
              "(judge_mcq ships offline; hub tasks such as arc_easy need the hub).")
@click.option("--bench-limit", type=click.IntRange(1), default=None,
              help="Questions per benchmark task.")
@click.option("--num-fewshot", type=click.IntRange(0), default=None, help="Benchmark shots.")
@click.option("--include-path", multiple=True, help="Folder of your own lm-eval task YAMLs.")
@click.option("--card", default=None, type=click.Path(dir_okay=False),
              help="Model card (README.md) to create or update with this run's results.")
@click.option("--card-template", default=None, help="Your own Jinja2 card-section template.")
@click.option("--json", "as_json", is_flag=True, help="Print summary.json to stdout.")
@engine_options
def compare(base, tuned, judge_ref, flow_metric, prompts, prompt_column, limit, template, verdict,
            max_new_tokens, judge_max_new_tokens, temperature, seed, confidence, bootstrap, chunk,
            out, cache_dir, bench, bench_limit, num_fewshot, include_path, card, card_template,
            as_json, **engine) -> None:
    """Judge TUNED against BASE on a prompt set, in both answer orders.

    BASE and TUNED are model references: smollm2 (the bundled SmolLM2-135M-Instruct), a Hugging
    Face model folder, a .gguf file, or a hub id. Results, cache and report land in --out.
    """
    from judge.pipeline.compare import CompareConfig, run_compare
    from judge.report.tables import summary_table

    if out is None:
        out = str(Path("results") / f"{slug(base)}-vs-{slug(tuned)}")
    config = CompareConfig(
        base=base, tuned=tuned, judge=judge_ref, flow_metric=flow_metric, prompts=prompts,
        prompt_column=prompt_column,
        limit=limit, template=template, verdict=verdict, max_new_tokens=max_new_tokens,
        judge_max_new_tokens=judge_max_new_tokens, temperature=temperature, seed=seed,
        confidence=confidence, bootstrap=bootstrap, chunk=chunk, out=out, cache_dir=cache_dir,
        bench=[t.strip() for t in bench.split(",") if t.strip()], bench_limit=bench_limit,
        num_fewshot=num_fewshot, include_path=list(include_path), card=card,
        card_template=card_template, engine=engine_config(engine, seed),
    )
    with stage_progress() as progress:
        summary = run_compare(config, progress)
    if as_json:
        click.echo(json.dumps(summary.as_json(), indent=2))
    else:
        Console().print(summary_table(summary))
        click.echo(f"results: {out}/ (summary.json, report.md, winrate.png)")
        if card:
            click.echo(f"card: {card}")
