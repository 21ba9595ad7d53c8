"""Records that cross a seam or land on disk. Frozen, and extra="forbid" so typos fail loudly."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Winner = Literal["base", "tuned", "tie", "invalid"]
Order = Literal["base_first", "tuned_first"]
Side = Literal["base", "tuned"]
VerdictSource = Literal["text", "logprob", "skipped", "none"]


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Message(Record):
    role: Literal["system", "user", "assistant"]
    content: str


class PromptItem(Record):
    prompt_id: str
    prompt: str
    category: str | None = None
    reference: str | None = None


class ModelInfo(Record):
    """A resolved model reference: what a run actually loaded."""

    ref: str
    path: str
    fingerprint: str
    dtype: str
    gguf_file: str | None = None


class SamplingParams(Record):
    max_new_tokens: int = 256
    temperature: float = 0.0
    seed: int = 0


class Completion(Record):
    text: str
    tokens: int


class Generation(Record):
    key: str
    prompt_id: str
    prompt: str
    output: str
    tokens: int
    model: str
    params_hash: str


class Judgment(Record):
    key: str
    prompt_id: str
    order: Order
    shown_first: Side
    raw: str | None
    verdict: str | None
    label_probs: dict[str, float] | None
    p_tuned: float | None
    score: float | None
    winner: Winner
    source: VerdictSource
    skipped: bool = False
    len_base: int
    len_tuned: int
