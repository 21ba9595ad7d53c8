"""A judged win rate during training: the policy's answers against the base's, in both orders.

    judge train orpo --recipe smollm2-cpu --judge-every 10 --judge-limit 16 --judge smollm2

Every `every` optimizer steps, and at the last step, the training model answers the prompts in
place (eval mode, no grad, batched with left padding, then back to train mode; no second copy),
judge's own judge stage compares each answer with the base's in both orders, and the trainer logs
`eval_judge_win_rate` (TensorBoard and W&B show it as eval/judge_win_rate), its Wilson interval
(`_low`, `_high`), `eval_judge_n`, `eval_judge_ties`, `eval_judge_invalid` and the seconds it took
(`eval_judge_runtime`). The rate is `judge compare`'s: judge.stats' pairwise summary of the lines.

The base's answers are the training model's before its first step, generated once. Everything is
cached in OUTPUT_DIR/judge_eval/, laid out as a compare run folder: generations/<base>.jsonl,
generations/step-N-*.jsonl (the policy's answers at step N), judgments/<judge>__<template>.jsonl.
A resumed run reads them: the base is not answered again, and a step it retrains that was already
judged (a kill after judging, before the checkpoint) is neither answered nor judged again. A run
resumed without the base's answers on file answers with the base itself: the adapter switched off
under LoRA, else a copy of the base loaded for that one pass.

Under `accelerate launch` the main process answers and judges while the others wait, so every
process needs the full weights: DDP and ZeRO-1/2, not ZeRO-3 or FSDP (run.py refuses those).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from judge.engines import Chat, EngineOptions, refuse_grammar
from judge.engines.pool import EnginePool
from judge.models.refs import resolve_model
from judge.pipeline.generate import generate_stage
from judge.pipeline.judging import Judge, judge_stage, shown_request
from judge.promptsets.load import load_prompts
from judge.records import (
    Completion,
    Generation,
    Grammar,
    Judgment,
    ModelInfo,
    PromptItem,
    SamplingParams,
)
from judge.runs.folder import RunFolder
from judge.runs.ledger import Ledger, content_key
from judge.runs.reader import shown_answer
from judge.stats.blocks import verdict_blocks
from judge.templates.flow import flow_judge_ref, prepare_template
from judge.templates.template import JudgeTemplate, load_template

from .recipe import JudgedEval

log = logging.getLogger("judge")
FOLDER = "judge_eval"
PREFIX = "eval_judge_"  # the trainer's own spelling: its loggers turn eval_ into eval/


@dataclass(frozen=True)
class JudgedPlan:
    """Everything checked before training starts: prompts, template, judge model."""

    spec: JudgedEval
    items: list[PromptItem]
    template: JudgeTemplate
    judge: ModelInfo


def plan_judged(spec: JudgedEval, cache_dir: Path) -> JudgedPlan:
    """Read and check the prompts, template and judge the way `judge compare` does."""
    items = load_prompts(spec.prompts, spec.prompt_column, spec.limit)
    flow_ref = flow_judge_ref(spec.judge)
    template_ref = "flow" if flow_ref and spec.template == "pairwise" else spec.template
    template = prepare_template(load_template(template_ref), items, None)
    return JudgedPlan(spec, items, template, resolve_model(flow_ref or spec.judge, cache_dir))


class InPlace:
    """A model being trained as an engine that answers (the Engine protocol's generate): batches of
    similar length, left padding, greedy or sampled, decoded as HFEngine decodes. It switches the
    model to eval mode and back, and restores the tokenizer's padding side, which the trainer's
    collator reads. `adapter_off` answers as the base (a PEFT model with its adapter disabled)."""

    def __init__(self, model: ModelInfo, net: Any, tokenizer: Any, batch_size: int,
                 adapter_off: bool = False) -> None:
        self.model = model
        self.net = net
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.adapter_off = adapter_off

    def stream(self, chats: Sequence[Chat], params: SamplingParams,
               labels: Sequence[str] | None = None,
               grammar: Grammar | None = None) -> Iterator[tuple[int, Completion]]:
        """The whole call, then its completions: the model leaves training mode for the call
        and must be back in it before the trainer's next step, not between two yields."""
        yield from enumerate(self.generate(chats, params, labels, grammar))

    def generate(self, chats: Sequence[Chat], params: SamplingParams,
                 labels: Sequence[str] | None = None,
                 grammar: Grammar | None = None) -> list[Completion]:
        import torch

        refuse_grammar("in-training", grammar)
        texts = [str(self.tokenizer.apply_chat_template(
            [m.model_dump() for m in chat], tokenize=False, add_generation_prompt=True))
            for chat in chats]
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        results: dict[int, Completion] = {}
        was_training, side = self.net.training, self.tokenizer.padding_side
        off = self.net.disable_adapter() if self.adapter_off else contextlib.nullcontext()
        self.net.eval()
        self.tokenizer.padding_side = "left"
        sample = params.temperature > 0
        try:
            with off, torch.no_grad():
                if sample:
                    torch.manual_seed(params.seed)
                for start in range(0, len(order), self.batch_size):
                    idx = order[start : start + self.batch_size]
                    enc = self.tokenizer([texts[i] for i in idx], return_tensors="pt",
                                         padding=True, add_special_tokens=False)
                    out = self.net.generate(
                        **enc.to(self.net.device), max_new_tokens=params.max_new_tokens,
                        do_sample=sample, temperature=params.temperature if sample else None,
                        top_p=None, top_k=None, use_cache=True,
                        pad_token_id=self.tokenizer.pad_token_id)
                    new = out[:, enc["input_ids"].shape[1]:]
                    for row, i in enumerate(idx):
                        results[i] = self._completion(new[row].tolist())
        finally:
            self.tokenizer.padding_side = side
            self.net.train(was_training)
        return [results[i] for i in range(len(texts))]

    def _completion(self, ids: list[int]) -> Completion:
        used = len(ids)
        if self.tokenizer.eos_token_id in ids:  # the stop token counts, as in judge's engines
            used = ids.index(self.tokenizer.eos_token_id) + 1
            ids = ids[: used - 1]
        text = str(self.tokenizer.decode(ids, skip_special_tokens=True))
        return Completion(text=text.strip(), tokens=used)

    def label_probs(self, chats: Sequence[Chat], labels: Sequence[str]) -> list[dict[str, float]]:
        raise TypeError("the model being trained answers prompts; it is not the judge")

    def close(self) -> None:
        self.net = None


def quiet(done: int, tokens: int) -> None:
    """Progress of the judged stages: none (the trainer's step log is the progress)."""


class JudgedWinRate(TrainerCallback):
    """Logs the judged win rate against the base through trainer.log (see the module docstring).
    `attach` it to the trainer it watches: logging and the model in place go through it."""

    def __init__(self, plan: JudgedPlan, base: ModelInfo, lineage: str, out: Path,
                 engine: EngineOptions) -> None:
        self.plan, self.base, self.lineage = plan, base, lineage
        self.folder = RunFolder(out / FOLDER)
        self.params = SamplingParams(max_new_tokens=plan.spec.max_new_tokens)
        self.judge = Judge(plan.judge, plan.template, plan.spec.verdict,
                           SamplingParams(max_new_tokens=plan.spec.judge_max_new_tokens))
        self.judges = EnginePool(engine)  # the judge, loaded at its first use, kept till the end
        self.trainer: Any = None
        self.answers: dict[str, str] = {}
        self.verdicts: Ledger[Judgment] | None = None

    def attach(self, trainer: Any) -> None:
        self.trainer = trainer

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            began = time.perf_counter()
            self.answers = self.base_answers(state.global_step)
            log.info("judged evaluation: the base's answers to %d prompts, %.1f s",
                     len(self.answers), time.perf_counter() - began)
            self.verdicts = Ledger(self.folder.judgments(self.plan.judge, self.plan.template.name),
                                   Judgment)
        self.trainer.accelerator.wait_for_everyone()

    def on_step_end(self, args, state, control, **kwargs):
        step = state.global_step
        if step % self.plan.spec.every and step != state.max_steps:
            return
        if state.is_world_process_zero:
            self.evaluate(step, control)
        self.trainer.accelerator.wait_for_everyone()

    def on_train_end(self, args, state, control, **kwargs):
        self.judges.close()

    def net(self) -> Any:
        return self.trainer.accelerator.unwrap_model(self.trainer.model)

    def answer(self, info: ModelInfo, engine: Callable[[], InPlace]) -> dict[str, str]:
        """`info`'s answers to every prompt through judge's generate stage: cached ones are read,
        and `engine` is made only when some are missing."""
        pool = EnginePool(EngineOptions(), lambda _info, _options: engine())
        ledger = Ledger(self.folder.generations(info), Generation)
        try:
            found, _ = generate_stage(pool, info, self.plan.items, self.params, ledger,
                                      len(self.plan.items), quiet)
        finally:
            pool.close()
        return {item.prompt_id: shown_answer(item, found[item.prompt_id])
                for item in self.plan.items}

    def in_place(self, info: ModelInfo, adapter_off: bool = False) -> InPlace:
        return InPlace(info, self.net(), self.trainer.processing_class, self.plan.spec.batch_size,
                       adapter_off)

    def base_answers(self, step: int) -> dict[str, str]:
        """At step 0 the model in training is the base. A resumed run reads the base's answers
        from the cache, or has the base answer now: the adapter off, else a copy of it."""
        from accelerate.utils import is_peft_model

        if step == 0:
            return self.answer(self.base, lambda: self.in_place(self.base))
        if is_peft_model(self.net()):
            return self.answer(self.base, lambda: self.in_place(self.base, adapter_off=True))
        return self.answer(self.base, self.base_copy)

    def base_copy(self) -> InPlace:
        from transformers import AutoModelForCausalLM

        net = self.net()
        copy = AutoModelForCausalLM.from_pretrained(self.base.path, dtype=net.dtype)
        return InPlace(self.base, copy.to(net.device), self.trainer.processing_class,
                       self.plan.spec.batch_size)

    def evaluate(self, step: int, control: Any) -> None:
        began = time.perf_counter()
        policy = ModelInfo(ref=f"step-{step}", path=str(self.folder.root.parent),
                           fingerprint=content_key("judge-eval-policy/1", self.lineage, step),
                           dtype=self.base.dtype)
        tuned = self.answer(policy, lambda: self.in_place(policy))
        pairs = {pid: (self.answers[pid], tuned[pid]) for pid in tuned}
        assert self.verdicts is not None, "on_train_begin opens the ledger"
        judgments, _ = judge_stage(self.judges, self.judge,
                                   [shown_request(i) for i in self.plan.items], pairs,
                                   self.verdicts, 16, quiet)
        self.log(judgments, time.perf_counter() - began, control)

    def log(self, judgments: list[Judgment], seconds: float, control: Any) -> None:
        invalid = sum(j.winner == "invalid" for j in judgments)
        logs: dict[str, float] = {f"{PREFIX}invalid": invalid}
        if invalid < len(judgments):
            rate = verdict_blocks(judgments, self.plan.spec.confidence)["pairwise"]
            logs = {f"{PREFIX}win_rate": rate.win_rate, f"{PREFIX}win_rate_low": rate.ci.low,
                    f"{PREFIX}win_rate_high": rate.ci.high, f"{PREFIX}n": rate.n,
                    f"{PREFIX}ties": rate.ties, **logs}
        else:
            log.warning("judged evaluation: every one of %d verdicts is invalid", invalid)
        logs[f"{PREFIX}runtime"] = round(seconds, 3)
        model = self.trainer.model
        was_training, should_log = model.training, control.should_log
        model.eval()  # trl's log merges the pending metrics of the mode the model is in
        try:
            self.trainer.log(logs)
        finally:
            model.train(was_training)
            # on_log clears should_log, which this step's loss log (after on_step_end) needs
            control.should_log = should_log
