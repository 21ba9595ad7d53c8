"""`judge sweep`: one model per trial of a grid or of seeded random draws, every trial judged
against the base, ranked by the judged result with intervals.

    judge sweep --recipe smollm2-cpu --grid learning_rate=4e-6,8e-6 --grid beta=0.1,0.2
    judge sweep --recipe smollm2-cpu --random 8 --space learning_rate=1e-6:1e-4:log \\
        --space warmup_steps=0:5 --max-steps 20 --limit 16
    judge sweep --recipe R.yaml --grid learning_rate=1e-5,2e-5 --parallel 2 \\
        --accelerate-config multi_gpu --judge JUDGE --engine vllm

Settings the command does not know itself (`--max-steps 2`) are training settings every trial
gets, as in `judge train`; `--seed`, `--dtype` and `--threads` belong to the judging side (put
training ones in the recipe, in a --grid, or after `--`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from rich.console import Console

from judge.api.defaults import slug
from judge.cli.common import (
    SEED,
    engine_config,
    engine_options,
    err_console,
    judging_options,
    stage_progress,
)
from judge.cli.trackers import report_to_trackers, tracker_options
from judge.escape import term_text
from judge.pipeline.compare import CompareConfig
from judge.report.sweep import sweep_table

OWN = ("recipe", "method", "grid", "random", "space", "space_seed", "parallel",
       "accelerate_config", "out", "card", "card_template", "as_json", "settings")


def visible_gpus() -> list[str]:
    """The GPUs this process may use: CUDA_VISIBLE_DEVICES as given, else every one torch sees."""
    given = os.environ.get("CUDA_VISIBLE_DEVICES")
    if given is not None:
        return [g.strip() for g in given.split(",") if g.strip() and g.strip() != "-1"]
    try:
        import torch
    except ImportError:
        return []
    return [str(i) for i in range(torch.cuda.device_count())]


def say(text: str) -> None:
    err_console.print(term_text(text), markup=False, highlight=False, emoji=False, soft_wrap=True)


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--recipe", default=None,
              help="The recipe every trial starts from: a shipped name (smollm2-cpu, ...) or a "
              "YAML file, as in `judge train`.")
@click.option("--method", type=click.Choice(["orpo", "dpo", "sft"]), default=None,
              help="Training method (default: the recipe's `method:`, else orpo). "
              "`--grid method=orpo,dpo` compares methods.")
@click.option("--grid", multiple=True, metavar="FIELD=V1,V2",
              help="Sweep FIELD over these values (any field of the method's trl config, or "
              "lora, eval_fraction, datasets, method...); repeat for more fields: every "
              "combination is a trial. Values with commas of their own: separate them by ';'.")
@click.option("--random", "random_n", type=click.IntRange(1), default=None, metavar="N",
              help="Draw N trials from --space instead of a grid.")
@click.option("--space", multiple=True, metavar="FIELD=LOW:HIGH[:log]",
              help="With --random: draw FIELD uniformly (log-uniformly with :log) between LOW "
              "and HIGH; ints stay ints.")
@click.option("--space-seed", type=SEED, default=0, show_default=True,
              help="Seed of the --random draws; the first k of N draws are those of --random k.")
@click.option("--parallel", type=click.IntRange(1), default=1, show_default=True,
              help="Trials trained at once; with GPUs each gets its own share of them "
              "(CUDA_VISIBLE_DEVICES). On CPU they share the cores.")
@click.option("--accelerate-config", default=None, metavar="FILE|NAME",
              help="Run each trial under `accelerate launch --config_file FILE`, as you would "
              "run `judge train` on several GPUs; a shipped one by name: multi_gpu, "
              "deepspeed_zero3.")
@judging_options
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Sweep folder (default results/sweep-RECIPE). Rerun to resume: only missing "
              "trials train and only new ones are judged.")
@click.option("--card", default=None, type=click.Path(dir_okay=False),
              help="Write the best trial's result, with the sweep table, into the card at PATH.")
@click.option("--card-template", default=None, help="Your own Jinja2 card-section template.")
@click.option("--json", "as_json", is_flag=True, help="Print sweep.json to stdout.")
@engine_options
@tracker_options
@click.argument("settings", nargs=-1, type=click.UNPROCESSED)
def sweep(**values) -> None:
    """Train one model per trial (a --grid, or --random draws from a --space), judge every trial
    against the recipe's base model on the same prompts in both answer orders, and rank them by
    Bradley–Terry strength with intervals, with each trial's final losses beside."""
    # judge.sweep.run imports judge.train, so transformers and torch (seconds): only a sweep pays
    from judge.sweep.run import SweepConfig, run_sweep

    values["random"] = values.pop("random_n")
    own = {key: values.pop(key) for key in OWN}
    judges = values.pop("judge_ref")
    judges = [judges] if isinstance(judges, str) else list(judges)
    judging = {k: values.pop(k) for k in list(values)
               if k in CompareConfig.model_fields and k != "engine"}  # the rest: engine flags
    if judges[1:]:  # a panel, where the judging options take several judges
        judging["panel"] = judges[1:]
    out = own["out"] or str(Path("results") / f"sweep-{slug(own['recipe'] or 'defaults')}")
    settings = CompareConfig(base="-", tuned="-", judge=judges[0], out=out,
                             card_template=own["card_template"],
                             engine=engine_config(values, judging["seed"]), **judging)
    parallel = own["parallel"]
    config = SweepConfig(
        recipe=own["recipe"], method=own["method"], grid=list(own["grid"]), random=own["random"],
        space=list(own["space"]), space_seed=own["space_seed"], settings=list(own["settings"]),
        out=out, judging=settings, parallel=parallel, accelerate_config=own["accelerate_config"],
        gpus=visible_gpus() if parallel > 1 else [], card=own["card"])
    with stage_progress(eta=True) as progress:
        result = run_sweep(config, progress, say, dict(os.environ))
    if own["as_json"]:
        click.echo(json.dumps(result.as_json(), indent=2))
    else:
        Console().print(sweep_table(result))
        click.echo(f"results: {out}/ (sweep.json, sweep.md, sweep.png; trials/, leaderboard/)")
    report_to_trackers("sweep", out)
    failed = [t.name for t in result.trials if t.status == "failed"]
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(result.trials)} trials failed to "
                                   f"train ({', '.join(failed)}): see {out}/sweep.md; rerun to "
                                   "retry them")
