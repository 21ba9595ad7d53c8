"""transformers engine: batched greedy or sampled generation with left padding.

On CPU it runs fp32 with one torch thread by default: bf16 is slower on these CPUs and the cores
are shared with whatever else the machine does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from judge.engines import (
    Chat,
    EngineOptions,
    Streams,
    first_token_ids,
    refuse_grammar,
    renormalise,
)
from judge.records import Completion, Grammar, ModelInfo, SamplingParams


class HFEngine(Streams):
    def __init__(self, model: ModelInfo, options: EngineOptions) -> None:
        self.model = model
        self.options = options
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        if self.device == "cpu":
            torch.set_num_threads(options.threads)
        dtype = options.dtype
        if dtype == "auto":
            dtype = "bfloat16" if self.device == "cuda" else "float32"
        self.tokenizer = AutoTokenizer.from_pretrained(
            model.path, trust_remote_code=options.trust_remote_code
        )
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        net: Any = AutoModelForCausalLM.from_pretrained(
            model.path, **{"dtype": getattr(torch, dtype),
                           "trust_remote_code": options.trust_remote_code} | options.engine_args
        )
        self.net = net.to(self.device)
        self.net.eval()

    def _texts(self, chats: Sequence[Chat]) -> list[str]:
        return [
            str(self.tokenizer.apply_chat_template(
                [m.model_dump() for m in chat], tokenize=False, add_generation_prompt=True
            ))
            for chat in chats
        ]

    def _batches(self, texts: list[str]):
        """Batches of similar length (less padding), yielding original indices with the batch."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        size = self.options.batch_size
        for start in range(0, len(order), size):
            idx = order[start : start + size]
            enc = self.tokenizer(
                [texts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False
            ).to(self.device)
            yield idx, enc

    def stream(
        self, chats: Sequence[Chat], params: SamplingParams, labels: Sequence[str] | None = None,
        grammar: Grammar | None = None,
    ) -> Iterator[tuple[int, Completion]]:
        """Batches of similar length, each batch's completions handed on as it finishes."""
        refuse_grammar("hf", grammar)
        ids = first_token_ids(self.tokenizer, labels) if labels is not None else None
        texts = self._texts(chats)
        sample = params.temperature > 0
        for idx, enc in self._batches(texts):
            if sample:  # per batch: a batch samples the same whatever else the stream holds
                torch.manual_seed(params.seed)
            with torch.inference_mode():
                out = self.net.generate(
                    **enc,
                    max_new_tokens=params.max_new_tokens,
                    do_sample=sample,
                    temperature=params.temperature if sample else None,
                    top_p=None,
                    top_k=None,
                    pad_token_id=self.tokenizer.pad_token_id,
                    # `logits` are the raw ones (before repetition penalties or temperature,
                    # which `scores` have): the first step's are what label_probs computes
                    output_logits=ids is not None,
                    return_dict_in_generate=True,
                )
            new = out.sequences[:, enc["input_ids"].shape[1] :]
            probs = torch.softmax(out.logits[0].float(), dim=-1) if ids is not None else None
            for row, i in enumerate(idx):
                yield i, self._completion(new[row].tolist(), probs, row, ids)

    def _completion(self, ids: list[int], probs: torch.Tensor | None, row: int,
                    labels: dict[str, int] | None) -> Completion:
        used = len(ids)
        if self.tokenizer.eos_token_id in ids:  # the stop token counts, as in vLLM
            used = ids.index(self.tokenizer.eos_token_id) + 1
            ids = ids[: used - 1]
        text = str(self.tokenizer.decode(ids, skip_special_tokens=True))
        first = None
        if probs is not None and labels is not None:
            first = renormalise({lab: float(probs[row, t]) for lab, t in labels.items()})
        return Completion(text=text.strip(), tokens=used, label_probs=first)

    def close(self) -> None:
        del self.net
