"""The training methods, side by side: everything that differs between ORPO, DPO and SFT.

    method("dpo").config_class()      # trl.DPOConfig: the fields a DPO recipe may set
    method("sft").shape(row, where)   # a row of the data mix as SFTTrainer reads it

Each method names trl's own config and trainer, how one source row becomes the trainer's row, the
settings judge puts in before the recipe's, and what serves as the reference model. run.py has a
single path for all three and reads only this table.

- orpo: trl.experimental.orpo; prompt/chosen/rejected; no reference model (the odds ratio needs
  none).
- dpo:  trl.DPOTrainer; prompt/chosen/rejected. The reference is trl's own choice: with LoRA, the
  same weights with the adapter switched off (no second copy); without, a frozen copy trl loads
  from the model's path; with precompute_ref_log_probs, log-probabilities computed before step 1.
- sft:  trl.SFTTrainer; prompt/completion, the loss on the completion only (trl's default for that
  shape). Preference rows give their chosen answer; `messages` and prompt/completion rows are read
  as they are (data.normalise_sft).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from judge.errors import InputError

from .data import normalise, normalise_sft

MethodName = Literal["orpo", "dpo", "sft"]
Reference = Literal["frozen copy", "adapter disabled", "precomputed"]


def no_reference(trainer: Any) -> Reference | None:
    return None


def dpo_reference(trainer: Any) -> Reference | None:
    """What DPOTrainer chose (trl 1.16, DPOTrainer.__init__): a model of its own, or none, in
    which case a PEFT model's adapter is disabled for reference passes, else the reference
    log-probabilities were computed up front."""
    from accelerate.utils import is_peft_model

    if trainer.ref_model is not None:
        return "frozen copy"
    return "adapter disabled" if is_peft_model(trainer.model) else "precomputed"


@dataclass(frozen=True)
class Method:
    name: MethodName
    title: str
    config: str  # "module:Class", imported only when used (trl takes seconds to import)
    trainer: str
    shape: Callable[[Any, str], dict[str, Any]]  # (source row, where it came from) -> trainer row
    settings: dict[str, Any] = field(default_factory=dict)  # before the recipe's own
    reference: Callable[[Any], Reference | None] = no_reference

    def config_class(self) -> type:
        return load(self.config)

    def trainer_class(self) -> type:
        return load(self.trainer)


def load(path: str) -> type:
    module, _, name = path.partition(":")
    with warnings.catch_warnings():
        # trl marks its experimental namespace; the pin in pyproject is our answer to that
        warnings.simplefilter("ignore")
        found: type = getattr(importlib.import_module(module), name)
    return found


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("orpo", "odds-ratio preference optimisation (no reference model)",
               "trl.experimental.orpo:ORPOConfig", "trl.experimental.orpo:ORPOTrainer", normalise,
               settings={"remove_unused_columns": False}),  # its collator needs every column
        Method("dpo", "direct preference optimisation against a reference model",
               "trl:DPOConfig", "trl:DPOTrainer", normalise, reference=dpo_reference),
        Method("sft", "supervised fine-tuning on the chosen (or given) completions",
               "trl:SFTConfig", "trl:SFTTrainer", normalise_sft),
    )
}
def method(name: str) -> Method:
    if name not in METHODS:
        raise InputError(f"unknown training method '{name}' (choose from {', '.join(METHODS)})")
    return METHODS[name]
