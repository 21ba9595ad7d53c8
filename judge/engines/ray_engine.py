"""Ray engine: the chats become a Ray Dataset that `ray.data.llm` runs on `replicas` vLLM engines
across a Ray cluster (each engine `tensor_parallel_size` devices wide); replies stream back as
they finish, each with the index of its chat.

The driver (this process) renders and tokenizes every chat with the model's own tokenizer, as
in-process vLLM's `LLM.chat` does (chat template with the generation prompt, no special tokens
added): Ray's own chat-template, tokenize and detokenize stages would each hold a CPU actor of
their own, and on a 2-core machine they deadlock the engine stage. So the workers get token ids
and return token ids, text and per-token top log-probs; label probabilities are read from the
first position exactly as the vLLM engine reads them, so they are the same numbers.

Every call is one Ray Data execution: the engines start (load the model) for it and stop after
it; the cluster stays for the run. Stages hand the engine all of their missing work in one call,
so a stage pays that start once per model, and each record is ledgered as its row comes back.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

from judge.engines import (
    Chat,
    EngineOptions,
    Streams,
    first_token_ids,
    renormalise,
)
from judge.engines.ray_cluster import Cluster, quiet_ray
from judge.engines.vllm_engine import CPU_BLOCK_SIZE, CPU_KV_CACHE_GB, TOP_LOGPROBS
from judge.errors import ServiceError, first_line
from judge.escape import term_text
from judge.records import Completion, Grammar, ModelInfo, SamplingParams

# batches an engine runs at once on a GPU (with --batch-size 16, 128 sequences: enough to keep
# vLLM's scheduler busy); on CPU one, a second only competes for the same cores
GPU_BATCHES = 8


class RayEngine(Streams):
    def __init__(self, model: ModelInfo, options: EngineOptions) -> None:
        from transformers import AutoTokenizer

        self.model = model
        self.options = options
        self.tokenizer = AutoTokenizer.from_pretrained(
            model.path, trust_remote_code=options.trust_remote_code)
        self.cluster = Cluster.start(options)
        self.replicas_served = 0  # engines that answered at least one chat in the last call

    def stream(
        self, chats: Sequence[Chat], params: SamplingParams, labels: Sequence[str] | None = None,
        grammar: Grammar | None = None,
    ) -> Iterator[tuple[int, Completion]]:
        """Completions as they finish, each with the index of its chat in `chats`; every index
        once."""
        if not chats:
            return
        import ray

        ids = first_token_ids(self.tokenizer, labels) if labels is not None else None
        sampling = sampling_params(params, ids is not None, grammar)
        rows = [{"index": i, "tokenized_prompt": self._tokens(chat), "sampling_params": sampling}
                for i, chat in enumerate(chats)]
        batch = batch_size(len(rows), self.options)
        processor = self._processor(len(rows), batch)
        # one block per batch: a block goes to one engine as one task, so the blocks are what is
        # spread over the engines (a single block would all go to one) and what streams back
        dataset = ray.data.from_items(rows, override_num_blocks=math.ceil(len(rows) / batch))
        served = 0
        try:
            for row in processor(dataset).iter_rows():
                served += row["request_id"] == 0  # each engine numbers its requests from 0
                probs = first_token_probs(row["logprobs"], ids) if ids is not None else None
                yield int(row["index"]), Completion(
                    text=row["generated_text"].strip(), tokens=int(row["num_generated_tokens"]),
                    label_probs=probs)
        except Exception as err:  # noqa: BLE001 - Ray wraps a worker's failure in its own types
            raise worker_failure(err, self.model) from None
        finally:
            self.replicas_served = served

    def close(self) -> None:
        """Nothing to free here: the engines stopped when the last call's work was done. The
        cluster stays for the next model of the run (a local one goes when the process ends,
        by Ray's own exit hook), so a run of three models starts one cluster, not three."""

    def _tokens(self, chat: Chat) -> list[int]:
        text = self.tokenizer.apply_chat_template(
            [m.model_dump() for m in chat], tokenize=False, add_generation_prompt=True)
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def _processor(self, n: int, batch: int) -> Any:
        from ray.data.llm import build_processor, vLLMEngineProcessorConfig

        quiet_ray(self.cluster.verbose)  # ray.data.llm's loggers exist once it is imported
        opts, gpu = self.options, self.cluster.gpus > 0
        replicas = max(1, min(opts.replicas, n))
        in_flight = GPU_BATCHES if gpu else 1
        config = vLLMEngineProcessorConfig(
            model_source=self.model.path,
            engine_kwargs=engine_kwargs(opts, gpu),
            batch_size=batch,
            concurrency=(replicas, replicas),  # an int n would mean "1 to n, as needed"
            max_concurrent_batches=in_flight,
            max_tasks_in_flight_per_actor=in_flight,
            chat_template_stage=False, tokenize_stage=False, detokenize_stage=False,
            # without bundles of its own the engine asks for a GPU and, where none is, waits
            placement_group_config=self.cluster.bundles(opts.tensor_parallel_size),
            runtime_env=self.cluster.runtime_env,
            log_engine_metrics=False,
        )
        light = {"num_cpus": 0.1}  # the row maps are cheap; a whole CPU each starves the engines
        return build_processor(config, preprocess=None, postprocess=keep,
                               preprocess_map_kwargs=light, postprocess_map_kwargs=light)


def batch_size(n: int, options: EngineOptions) -> int:
    """Chats per engine batch. A batch comes back whole: --batch-size bounds what a killed driver
    loses; and a stage is cut in at least `replicas` batches, so that every engine gets some."""
    return max(1, min(options.batch_size, math.ceil(n / options.replicas)))


def keep(row: dict[str, Any]) -> dict[str, Any]:
    """What comes back to the driver: the reply, its index, and which request of its engine."""
    return {name: row[name] for name in ("index", "request_id", "generated_text",
                                         "num_generated_tokens", "logprobs")}


def engine_kwargs(options: EngineOptions, gpu: bool) -> dict[str, Any]:
    """The same engine the vLLM engine builds in-process (vllm_engine.py says why each is set)."""
    dtype = options.dtype if options.dtype != "auto" else ("auto" if gpu else "float32")
    kwargs: dict[str, Any] = dict(
        dtype=dtype, enforce_eager=not gpu, max_model_len=options.max_model_len,
        gpu_memory_utilization=options.gpu_memory_utilization,
        tensor_parallel_size=options.tensor_parallel_size, enable_prefix_caching=True,
        max_logprobs=TOP_LOGPROBS, seed=options.seed, trust_remote_code=options.trust_remote_code,
        structured_outputs_config={"backend": "xgrammar", "disable_any_whitespace": True},
        disable_log_stats=True,
    )
    block = options.block_size or (None if gpu else CPU_BLOCK_SIZE)
    if block:
        kwargs["block_size"] = block
    kv_gb = options.kv_cache_gb if options.kv_cache_gb or gpu else CPU_KV_CACHE_GB
    if kv_gb:
        kwargs["kv_cache_memory_bytes"] = int(kv_gb * 2**30)
    return kwargs | options.engine_args  # --engine-args win, as on in-process vLLM


def sampling_params(params: SamplingParams, logprobs: bool, grammar: Grammar | None) -> dict:
    """vLLM's SamplingParams as the Ray stage takes them: a plain dict (it builds the object on
    the worker, structured outputs included)."""
    sampling: dict[str, Any] = {"max_tokens": params.max_new_tokens,
                                "temperature": params.temperature}
    if params.temperature > 0:
        sampling["seed"] = params.seed
    if logprobs:
        sampling["logprobs"] = TOP_LOGPROBS
    if grammar is not None:
        request = grammar.request()
        if "json" in request:  # as text: a schema as Arrow columns would not come back as given
            request["json"] = json.dumps(request["json"])
        sampling["structured_outputs"] = request
    return sampling


def first_token_probs(logprobs: Any, ids: dict[str, int]) -> dict[str, float]:
    """Label probabilities from the top log-probs of the first generated position, as the Ray
    stage returns them (per position: {token id: {logprob, rank, decoded_token}})."""
    top = logprobs[0] if logprobs is not None and len(logprobs) else {}
    return renormalise({lab: math.exp(top[t]["logprob"]) if top.get(t) else 0.0
                        for lab, t in ids.items()})


def worker_failure(err: BaseException, model: ModelInfo) -> ServiceError:
    """One line for a run whose workers failed: the error Ray reports from the worker (a model
    folder it cannot read, an engine argument its vLLM refuses), without the traceback."""
    return ServiceError(f"the Ray engine for {model.ref} failed on a worker: {worker_reason(err)} "
                        f"(every node must be able to read {model.path})")


ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception)): (.+)$")


def worker_reason(err: BaseException) -> str:
    """The last `SomeError: message` line of the worker tracebacks Ray wraps the failure in (its
    own exception types say only that an actor died), with the detail line pydantic and vLLM
    put under it."""
    seen: list[BaseException] = []
    cause: BaseException | None = err
    while cause is not None and cause not in seen:
        seen.append(cause)
        cause = getattr(cause, "cause", None) or cause.__cause__ or cause.__context__
    text = "\n".join(str(e) for e in seen)
    lines = [line for line in text.splitlines() if line.strip()]
    found = [i for i, line in enumerate(lines) if ERROR_LINE.match(line)]
    if not found:
        return first_line(seen[-1])
    name, message = ERROR_LINE.match(lines[found[-1]]).groups()  # type: ignore[union-attr]
    detail = lines[found[-1] + 1] if found[-1] + 1 < len(lines) else ""
    if detail.startswith(" ") and not detail.strip().startswith(("File ", "For further")):
        message = f"{message}: {detail.strip()}"
    return term_text(f"{name.rsplit('.', 1)[-1]}: {message}")[:400]
