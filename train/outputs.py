"""What a training run leaves: metrics per logging step, the model folder, the training record.

Only the main process writes: under `accelerate launch` every rank runs this code, and the callback
and record writers check the rank so N processes do not append N copies of each line.
"""

from __future__ import annotations

import json
import logging
import resource
import statistics
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator
from transformers import TrainerCallback

from judge import package_versions
from judge.errors import InputError
from judge.files import write_atomic
from judge.records import ModelInfo, Record

from .data import DataSummary
from .methods import MethodName, Reference
from .recipe import LoraSpec

log = logging.getLogger("judge")
METRICS_FILE = "metrics.jsonl"
# what a progress line shows of a log event (metrics.jsonl keeps all of it)
PROGRESS_KEYS = ("loss", "eval_loss", "rewards/accuracies", "eval_rewards/accuracies",
                 "learning_rate", "eval_judge_win_rate", "eval_judge_win_rate_low",
                 "eval_judge_win_rate_high")
RECORD_FILE = "training.json"
PACKAGES = ("judge", "trl", "transformers", "torch", "peft", "accelerate", "datasets")


CONFIGS = ("orpo_config", "dpo_config", "sft_config")


class TrainingRecord(Record):
    """training.json: enough to say what was trained on what, with which code, and how it went.

    The method's full trl config sits under its own name (orpo_config, dpo_config, sft_config); a
    record written before DPO and SFT has no `method` and is an ORPO record, as it always was."""

    schema_: Literal["judge.training/1"] = Field(default="judge.training/1", alias="schema")
    method: MethodName = "orpo"
    model: ModelInfo
    output: str
    recipe: dict[str, Any]
    orpo_config: dict[str, Any] | None = None
    dpo_config: dict[str, Any] | None = None
    sft_config: dict[str, Any] | None = None
    reference: Reference | None = None  # DPO's reference model (methods.dpo_reference)
    versions: dict[str, str]
    data: DataSummary
    device: str
    lora: LoraSpec | None
    merged: bool
    resumed_from: str | None
    global_step: int
    planned_steps: int | None = None  # the trainer's max_steps (absent in older records)
    steps_run: int
    seconds: float
    seconds_per_step: float | None
    peak_rss_mb: float
    peak_gpu_mb: float | None
    metrics: dict[str, float]
    eval_metrics: dict[str, float]
    judged: dict[str, float] = {}  # the last judged evaluation's log (eval_judge_*), if any

    @model_validator(mode="after")
    def _own_config(self) -> TrainingRecord:
        given = [name for name in CONFIGS if getattr(self, name) is not None]
        if given != [f"{self.method}_config"]:
            raise ValueError(f"a {self.method} record holds {self.method}_config alone, "
                             f"not {given or 'none'}")
        return self

    @property
    def complete(self) -> bool:
        """Trained as far as it was asked to (what a rerun of a sweep or the demo skips)."""
        planned = self.planned_steps or self.config.get("max_steps") or 0
        return planned > 0 and self.global_step >= planned

    @property
    def config(self) -> dict[str, Any]:
        """The trl config of the method that ran."""
        found: dict[str, Any] = getattr(self, f"{self.method}_config")
        return found


class StepLog(TrainerCallback):
    """Appends each log event (loss, nll, log-odds, rewards...) to metrics.jsonl; times steps."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.durations: list[float] = []
        self._began = 0.0

    def on_step_begin(self, args, state, control, **kwargs):
        self._began = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.durations.append(time.perf_counter() - self._began)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        line = {"step": state.global_step, "epoch": state.epoch, **logs}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")
            fh.flush()
        shown = [f"{k} {v:.4g}" for k, v in logs.items()
                 if k in PROGRESS_KEYS and isinstance(v, int | float)]
        if shown:
            log.info("step %d/%d: %s", state.global_step, state.max_steps, ", ".join(shown))

    def seconds_per_step(self) -> float | None:
        # The first step pays for lazy initialisation (allocator, optimizer state); leave it out.
        steady = self.durations[1:] or self.durations
        return statistics.median(steady) if steady else None


def versions() -> dict[str, str]:
    return package_versions(PACKAGES)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def numbers(values: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if isinstance(v, int | float)}


def last_train_log(log_history: list[dict], key: str = "loss") -> dict[str, float]:
    """The most recent log event carrying `key` (by default the per-step training log)."""
    return next((numbers(e) for e in reversed(log_history) if key in e), {})


def jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, default=str))


def save_model(trainer, lora: LoraSpec | None, merge: bool, out: Path, info: ModelInfo) -> None:
    """Full weights, or the LoRA adapter (plus merged weights with `merge`), into `out`.

    save_model runs on every rank (ZeRO-3 must gather shards); merging happens on rank 0 from the
    saved adapter, so it works the same whether or not the weights were sharded.
    """
    if lora is None:
        trainer.save_model(str(out))
        return
    adapter = out / "adapter" if merge else out
    trainer.save_model(str(adapter))
    if merge and trainer.is_world_process_zero():
        merge_adapter(info, adapter, out, trainer.processing_class)
    trainer.accelerator.wait_for_everyone()


def merge_adapter(info: ModelInfo, adapter: Path, out: Path, tokenizer) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(info.path, dtype=torch.float32)
    merged = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    merged.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))


def write_record(record: TrainingRecord, out: Path) -> None:
    unused = {name for name in CONFIGS if getattr(record, name) is None}
    text = json.dumps(record.model_dump(by_alias=True, exclude=unused), indent=2, default=str)
    write_atomic(out / RECORD_FILE, text + "\n")


def read_record(folder: Path) -> TrainingRecord:
    """A model folder's training.json, written by this or an earlier version of judge."""
    path = folder / RECORD_FILE
    try:
        return TrainingRecord.model_validate_json(path.read_bytes())
    except OSError:
        raise InputError(f"{path} cannot be read: is {folder} a `judge train` output?") from None
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        raise InputError(f"{path} does not fit training.json ({where}: {first['msg']})") from None
