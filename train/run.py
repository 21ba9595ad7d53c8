"""One training run, whatever the method: a recipe in; a model folder, training.json and
metrics.jsonl out.

    from judge.train.recipe import Recipe
    from judge.train.run import run_training
    record = run_training(Recipe(method="dpo", training={"max_steps": 3}), False, Path(cache))

Everything the user can get wrong (settings, data, output folder, model reference, the judged
evaluation's prompts, template and judge) is checked before the trainer starts, so bad input ends
with InputError and no file touched. What differs between methods is read from methods.py.
"""

from __future__ import annotations

import importlib.util
import re
import time
from pathlib import Path
from typing import Any

from judge.engines import EngineOptions
from judge.errors import InputError, first_line
from judge.models.refs import resolve_model
from judge.records import ModelInfo
from judge.runs.ledger import content_key

from .data import mix
from .judged import JudgedWinRate, plan_judged
from .methods import Method, method
from .outputs import (
    METRICS_FILE,
    StepLog,
    TrainingRecord,
    jsonable,
    last_train_log,
    numbers,
    peak_rss_mb,
    save_model,
    versions,
    write_record,
)
from .recipe import LoraSpec, Recipe

REPORTERS = {"tensorboard": ("tensorboard", "tensorboardX"), "wandb": ("wandb",)}


def device_defaults(settings: dict[str, Any]) -> dict[str, Any]:
    """CPU: fp32, no gradient checkpointing (it only costs time here). GPU: bf16 where supported."""
    import torch

    if not torch.cuda.is_available():
        return {"bf16": False, "use_cpu": True, "gradient_checkpointing": False}
    if "bf16" in settings or "fp16" in settings:
        return {}
    return {"bf16": torch.cuda.is_bf16_supported()}


def check_reporters(report_to: Any) -> None:
    names = [report_to] if isinstance(report_to, str) else list(report_to or [])
    for name in names:
        modules = REPORTERS.get(name, ())
        if modules and not any(importlib.util.find_spec(m) for m in modules):
            package = modules[0]
            raise InputError(f"report_to {name} needs the package {package}: pip install {package}")


def build_config(recipe: Recipe):
    """The method's trl config: judge's defaults, then the device's, then the recipe's."""
    how = method(recipe.method)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(recipe.model.rstrip("/")).name) or "model"
    settings = {
        "output_dir": str(Path("results") / f"{name}-{how.name}"),
        "report_to": "none",
        **how.settings,
    }
    settings.update(device_defaults(recipe.training))
    settings.update(recipe.training)
    check_reporters(settings["report_to"])
    try:
        return how.config_class()(**settings)
    except (ValueError, TypeError) as err:
        raise InputError(f"training settings: {first_line(err)}") from None


def find_checkpoint(out: Path, resume: bool, explicit: str | None) -> str | None:
    """The checkpoint to resume from; a fresh run refuses a non-empty folder instead of mixing."""
    from transformers.trainer_utils import get_last_checkpoint

    if explicit:
        if not Path(explicit).is_dir():
            raise InputError(f"resume_from_checkpoint {explicit} is not a folder")
        return explicit
    if out.exists() and not out.is_dir():
        raise InputError(f"output_dir {out} is a file, not a folder")
    if resume:
        last = get_last_checkpoint(str(out)) if out.is_dir() else None
        if last is None:
            raise InputError(f"--resume: {out} has no checkpoint-N folder to resume from")
        return last
    if out.is_dir() and any(out.iterdir()):
        raise InputError(
            f"output_dir {out} is not empty: pass --resume to continue its last checkpoint "
            "or choose another --output-dir"
        )
    return None


def pick_dtype(recipe: Recipe) -> str:
    import torch

    if recipe.dtype != "auto":
        return recipe.dtype
    cuda = torch.cuda.is_available()
    return "bfloat16" if cuda and torch.cuda.is_bf16_supported() else "float32"


def load_model(info: ModelInfo, args):
    """Tokenizer and model; with model_init_kwargs set, trl loads the model from the path itself."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(info.path, trust_remote_code=args.trust_remote_code)
    if not tokenizer.chat_template:
        raise InputError(f"model {info.ref}: its tokenizer has no chat template to format the data")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if args.model_init_kwargs:
        return tokenizer, info.path
    model = AutoModelForCausalLM.from_pretrained(
        info.path, dtype=getattr(torch, info.dtype), trust_remote_code=args.trust_remote_code
    )
    return tokenizer, model


def make_trainer(how: Method, model, tokenizer, args, train_rows, eval_rows,
                 lora: LoraSpec | None, callbacks: list):
    from datasets import Dataset

    peft_config = None
    if lora is not None:
        from peft import LoraConfig

        peft_config = LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                                 target_modules=lora.target_modules, task_type="CAUSAL_LM")
    try:
        # DPO: no ref_model given, so trl picks the reference itself (methods.dpo_reference)
        trainer = how.trainer_class()(
            model=model, args=args, processing_class=tokenizer, peft_config=peft_config,
            train_dataset=Dataset.from_list(train_rows),
            eval_dataset=Dataset.from_list(eval_rows) if eval_rows else None,
            callbacks=callbacks,
        )
    except ValueError as err:
        raise InputError(f"training setup: {first_line(err)}") from None
    # StepLog reports progress through judge's log; the trainer's own printer (raw dicts on
    # stdout) and tqdm bar would say it twice
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    return trainer


def check_sharding(trainer) -> None:
    """The judged evaluation answers on the main process alone, with the full weights there."""
    plugin = getattr(trainer.accelerator.state, "deepspeed_plugin", None)
    if trainer.is_fsdp_enabled or (plugin is not None and plugin.zero_stage == 3):
        raise InputError("--judge-every answers with the full model on one process: it works "
                         "under DDP and ZeRO-1/2, not with ZeRO-3 or FSDP sharding the weights")


def run_training(recipe: Recipe, resume: bool, cache_dir: Path) -> TrainingRecord:
    import torch

    how = method(recipe.method)
    args = build_config(recipe)
    out = Path(args.output_dir)
    checkpoint = find_checkpoint(out, resume, args.resume_from_checkpoint)
    train_rows, eval_rows, data = mix(
        recipe.datasets, recipe.dataset_splits, recipe.eval_fraction, args.seed, how.shape
    )
    info = resolve_model(recipe.model, cache_dir, pick_dtype(recipe))
    judged = plan_judged(recipe.judge_eval, cache_dir) if recipe.judge_eval else None
    cuda = torch.cuda.is_available()
    if not cuda:
        torch.set_num_threads(recipe.threads)
    tokenizer, model = load_model(info, args)
    log = StepLog(out / METRICS_FILE)
    watcher = None
    if judged is not None:
        lineage = content_key(info.fingerprint, data.fingerprint, how.name)
        engine = EngineOptions(kind="hf", dtype=recipe.dtype, threads=recipe.threads)
        watcher = JudgedWinRate(judged, info, lineage, out, engine)
    # StepLog first: it times a step before the judged evaluation that may follow it
    trainer = make_trainer(how, model, tokenizer, args, train_rows, eval_rows, recipe.lora,
                           [log, watcher] if watcher else [log])
    if watcher is not None:
        check_sharding(trainer)
        watcher.attach(trainer)
    began = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=checkpoint)
    seconds = time.perf_counter() - began
    eval_metrics = trainer.evaluate() if eval_rows else {}
    save_model(trainer, recipe.lora, recipe.merge_lora, out, info)
    config: dict[str, Any] = {f"{how.name}_config": jsonable(args.to_dict())}
    record = TrainingRecord.model_validate(dict(
        method=how.name, model=info, output=str(out.resolve()),
        recipe=jsonable(recipe.model_dump()), **config,
        reference=how.reference(trainer), versions=versions(), data=data,
        device="cuda" if cuda else "cpu", lora=recipe.lora,
        merged=recipe.lora is not None and recipe.merge_lora, resumed_from=checkpoint,
        global_step=result.global_step, planned_steps=trainer.state.max_steps,
        steps_run=len(log.durations), seconds=seconds,
        seconds_per_step=log.seconds_per_step(), peak_rss_mb=peak_rss_mb(),
        peak_gpu_mb=torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
        metrics={**last_train_log(trainer.state.log_history), **numbers(result.metrics)},
        eval_metrics=numbers(eval_metrics),
        judged=last_train_log(trainer.state.log_history, "eval_judge_runtime"),
    ))
    if trainer.is_world_process_zero():
        write_record(record, out)
    return record
