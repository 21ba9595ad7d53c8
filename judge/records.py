"""Records that cross a seam or land on disk. Frozen, and extra="forbid" so typos fail loudly."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)

from judge.errors import InputError

Winner = Literal["base", "tuned", "tie", "invalid"]
Order = Literal["base_first", "tuned_first"]
Side = Literal["base", "tuned"]
VerdictSource = Literal["text", "logprob", "skipped", "none"]


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


R = TypeVar("R", bound=BaseModel)


def read_schema_file(cls: type[R], schema: str, data: dict[str, Any], where: str,
                     problem: str = "has a bad field") -> R:
    """A file's content (summary.json, leaderboard.json, sweep.json) as its record: another
    schema, or the first field that does not fit, is one InputError line naming `where`."""

    if data.get("schema") != schema:
        raise InputError(f"{where} is not a {schema} file")
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{where} {problem}: {field} ({first['msg']})") from None


class Message(Record):
    role: Literal["system", "user", "assistant"]
    content: str


class PromptItem(Record):
    prompt_id: str
    prompt: str
    category: str | None = None
    reference: str | None = None
    turns: list[str] | None = None  # multi-turn (MT-Bench shape); `prompt` is then the first turn
    # MT-Bench's reference answers one per turn, for per-turn grading (judge/pipeline/turns.py);
    # `reference` keeps them joined, as a pair judge reads the whole conversation
    references: list[str] | None = None

    def user_turns(self) -> list[str]:
        return list(self.turns) if self.turns else [self.prompt]


class ModelInfo(Record):
    """A resolved model reference: what a run actually loaded. An answers file (kind "answers",
    judge/models/answers.py) loads nothing: its answers are read from the file, its fingerprint is
    the file's content hash and `name` the model the file says it holds."""

    ref: str
    path: str
    fingerprint: str
    dtype: str
    gguf_file: str | None = None
    kind: Literal["model", "answers"] = "model"
    name: str | None = None

    @model_serializer(mode="wrap")
    def _drop_defaults(self, handler: SerializerFunctionWrapHandler) -> dict:
        """A model's run.json entry stays as it was before answers files existed."""
        data = handler(self)
        if data.get("kind") == "model":
            data.pop("kind")
        if data.get("name") is None:
            data.pop("name", None)
        return data


class SamplingParams(Record):
    max_new_tokens: int = 256
    temperature: float = 0.0
    seed: int = 0


class Grammar(Record):
    """What a constrained reply may be (structured outputs): exactly one of the `choice` strings,
    a full match of `regex`, or JSON valid under the `json` schema. One of the three is set."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    choice: list[str] | None = None
    regex: str | None = None
    json_schema: dict[str, Any] | None = Field(default=None, alias="json")

    @model_validator(mode="after")
    def _one_form(self) -> Grammar:
        given = [self.choice is not None, self.regex is not None, self.json_schema is not None]
        if sum(given) != 1:
            raise ValueError("a grammar is exactly one of choice, regex or json")
        if self.choice is not None and not self.choice:
            raise ValueError("a choice grammar lists at least one reply")
        return self

    @property
    def form(self) -> str:
        if self.choice is not None:
            return "choice"
        return "regex" if self.regex is not None else "json"

    def request(self) -> dict[str, Any]:
        """vLLM's structured-outputs fields for this grammar (the same for `vllm.LLM` and a vLLM
        server's `structured_outputs` request field)."""
        if self.choice is not None:
            return {"choice": list(self.choice)}
        if self.regex is not None:
            return {"regex": self.regex}
        return {"json": self.json_schema}


class Completion(Record):
    text: str
    tokens: int
    # asked with labels: each label's probability as the first token, renormalised over the labels
    # ({} when the engine saw none of them), read from the same request that produced `text`
    label_probs: dict[str, float] | None = None


class Generation(Record):
    key: str
    prompt_id: str
    prompt: str
    output: str
    tokens: int
    model: str
    params_hash: str
    outputs: list[str] | None = None  # multi-turn: one answer per user turn; `output` is the last


class SideRating(Record):
    """One answer rated on its own (pointwise templates): the reply and what it was read as."""

    raw: str | None
    label: str | None
    rating: float | None
    source: VerdictSource
    label_probs: dict[str, float] | None = None
    feedback: str | None = None


# Optional fields of a Judgment that only some templates fill; left off the line when unset, so a
# plain pairwise line stays as it was (and `judge stats` does not mistake it for a ratings line).
JUDGMENT_EXTRAS = ("weight", "rating_base", "rating_tuned", "sides", "category", "base_model",
                   "tuned_model", "constrained", "turn")


class Judgment(Record):
    """One judged comparison. Pairwise: one line per (prompt, order). Pointwise: one line per
    prompt, order and shown_first None (each answer was rated alone), ratings and sides set."""

    key: str
    prompt_id: str
    order: Order | None
    shown_first: Side | None
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
    weight: float | None = None  # graded templates: how many plain verdicts this one counts as
    rating_base: float | None = None
    rating_tuned: float | None = None
    sides: dict[Side, SideRating] | None = None
    # the prompt's category, so `judge stats` can split the file by it; never part of the key
    category: str | None = None
    # who answered: the names a leaderboard ranks by (not model_a/model_b, which would make
    # `judge stats` read a compare file as named battles); never part of the cache key
    base_model: str | None = None
    tuned_model: str | None = None
    # True when the judge's reply was constrained to the template's grammar (--structured); a
    # line without it (every line written before structured verdicts existed) was not
    constrained: bool | None = None
    # per-turn grading (MT-Bench): the user turn this line rates, 1-based; one line per turn
    turn: int | None = None

    @model_serializer(mode="wrap")
    def _drop_unset_extras(self, handler: SerializerFunctionWrapHandler) -> dict:
        data = handler(self)
        for name in JUDGMENT_EXTRAS:
            if data.get(name) is None:
                data.pop(name, None)
        return data
