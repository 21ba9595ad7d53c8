"""Answers files: a model reference that is the answers a model already gave, not the model.

    judge compare gpt4_turbo/model_outputs.json my_model/model_outputs.json   # no model loads
    judge compare smollm2 data/arena-hard-v0.1/model_answer/my-model.jsonl --prompts question.jsonl

Four formats, told apart by their content (a `.json` or `.jsonl` file):
- alpaca_eval   model_outputs.json: a JSON list (or JSON Lines) of {instruction, output, generator,
                dataset?}. Prompts are named by their text; `dataset` becomes the category.
- arena_hard    arena-hard-auto v0.1 / FastChat model_answer lines: {question_id, model_id,
                choices: [{index, turns: [{content} or text]}]}. Prompts are named by id only: the
                texts come from the question file (--prompts).
- arena_hard_v2 arena-hard-auto v2 model_answer lines: {uid, model, messages: [{role, content}]},
                an assistant content being a text or {answer: text}.
- generations   a judge run folder's generations/<model>.jsonl (judge/records.py Generation).
- lm_eval_samples  lm-eval's `--log_samples` lines (samples_<task>_<date>.jsonl) of a
                generate_until task: {doc_id, doc, arguments, resps, filtered_resps, ...}. The
                prompt is the doc's prompt field (prompt, instruction, question, input, query or
                problem, the first that is a text), else the context lm-eval sent; the answer is
                filtered_resps[0]; the model is the file's folder (lm-eval names it after the
                model) and the task, read from the file name, is the category.

The fingerprint is the file's content hash, so every cache keyed by it follows the file's content.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from judge.engines import in_order
from judge.errors import InputError
from judge.files import parse_json, read_bytes, read_jsonl, read_text
from judge.records import (
    Completion,
    Grammar,
    Message,
    ModelInfo,
    PromptItem,
    Record,
    SamplingParams,
)

Format = Literal["alpaca_eval", "arena_hard", "arena_hard_v2", "generations", "lm_eval_samples"]
SUFFIXES = (".json", ".jsonl")
KNOWN = ("alpaca_eval model_outputs (instruction, output), arena-hard model_answer lines "
         "(question_id + choices, or uid + messages), lm-eval --log_samples lines (doc_id, doc, "
         "arguments, filtered_resps) or a judge generations file")
# the doc fields of lm-eval tasks that hold the question itself, in the order they are tried
DOC_PROMPT_FIELDS = ("prompt", "instruction", "question", "input", "query", "problem")
LM_EVAL_FILE = re.compile(r"samples_(?P<task>.+?)_\d{4}-\d{2}-\d{2}T[\d\-.]+\.jsonl$")


class AnswerRow(Record):
    """One prompt's answers as a file gives them."""

    prompt_id: str | None  # None: the file names its prompts by their text only (alpaca_eval)
    prompt: str | None  # None: the file carries no prompt text (arena-hard v0.1)
    turns: list[str] | None = None  # every user turn, when the file has them and there are several
    outputs: list[str]  # one answer per user turn
    category: str | None = None


class AnswerSet(Record):
    path: str
    format: Format
    name: str | None  # the model the file says it holds (generator, model_id, model)
    rows: list[AnswerRow]

    @property
    def has_ids(self) -> bool:
        return self.format != "alpaca_eval"

    @property
    def has_text(self) -> bool:
        return self.format != "arena_hard"


def is_answers_ref(ref: str) -> bool:
    return Path(ref).suffix.lower() in SUFFIXES


def text_of(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{where}: expected a text, found {type(value).__name__}")
    return value


def from_alpaca(row: Mapping[str, Any], where: str) -> AnswerRow:
    category = row.get("dataset")
    return AnswerRow(prompt_id=None, prompt=text_of(row.get("instruction"), f"{where} instruction"),
                     outputs=[text_of(row.get("output"), f"{where} output")],
                     category=str(category) if category is not None else None)


def from_arena_hard(row: Mapping[str, Any], where: str) -> AnswerRow:
    choices = row.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise InputError(f"{where}: choices must be a non-empty list of {{index, turns}}")
    turns = choices[0].get("turns")  # several choices are several samples: the first is judged
    if not isinstance(turns, list) or not turns:
        raise InputError(f"{where}: choices[0].turns must be a non-empty list")
    outputs = [text_of(t.get("content") if isinstance(t, dict) else t, f"{where} turn")
               for t in turns]
    return AnswerRow(prompt_id=str(row["question_id"]), prompt=None, outputs=outputs)


def from_arena_hard_v2(row: Mapping[str, Any], where: str) -> AnswerRow:
    messages = row.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise InputError(f"{where}: messages must be a list of {{role, content}}")
    users = [text_of(m.get("content"), f"{where} user message") for m in messages
             if m.get("role") == "user"]
    outputs = []
    for m in messages:
        if m.get("role") == "assistant":
            content = m.get("content")
            outputs.append(text_of(content.get("answer") if isinstance(content, dict)
                                   else content, f"{where} assistant message"))
    if not users or not outputs:
        raise InputError(f"{where}: messages hold no user turn or no assistant answer")
    return AnswerRow(prompt_id=str(row["uid"]), prompt=users[0],
                     turns=users if len(users) > 1 else None, outputs=outputs)


def from_generations(row: Mapping[str, Any], where: str) -> AnswerRow:
    outputs = row.get("outputs") or [row.get("output")]
    return AnswerRow(prompt_id=str(row["prompt_id"]), prompt=text_of(row.get("prompt"), where),
                     outputs=[text_of(o, f"{where} output") for o in outputs])


def from_lm_eval(row: Mapping[str, Any], where: str) -> AnswerRow:
    args = row.get("arguments")
    first = args.get("gen_args_0") if isinstance(args, dict) else None
    if not isinstance(first, dict) or not isinstance(first.get("arg_1"), dict):
        # a loglikelihood request's second argument is the continuation scored, not sampling
        # settings: its responses are scores
        raise InputError(f"{where}: lm-eval samples of a task that scores choices "
                         "(loglikelihood), not of one that generates (generate_until): they "
                         "hold no answer to judge")
    given = row.get("doc")
    doc = given if isinstance(given, dict) else {}
    prompt = next((doc[k] for k in DOC_PROMPT_FIELDS if isinstance(doc.get(k), str)),
                  first.get("arg_0"))
    response = row.get("filtered_resps")
    while isinstance(response, list) and response:  # one request, one (filtered) response
        response = response[0]
    return AnswerRow(prompt_id=str(row["doc_id"]), prompt=text_of(prompt, f"{where} prompt"),
                     outputs=[text_of(response, f"{where} filtered_resps")])


# format -> (keys a record must have, reader, the field naming the model)
FORMATS: dict[Format, tuple[frozenset[str], Callable[[Mapping[str, Any], str], AnswerRow], str]] = {
    "generations": (frozenset({"key", "prompt_id", "output", "params_hash"}), from_generations,
                    "model"),
    "arena_hard": (frozenset({"question_id", "choices"}), from_arena_hard, "model_id"),
    "arena_hard_v2": (frozenset({"uid", "messages"}), from_arena_hard_v2, "model"),
    "alpaca_eval": (frozenset({"instruction", "output"}), from_alpaca, "generator"),
    # lm-eval's lines name no model: the folder it writes them into does (read_answers)
    "lm_eval_samples": (frozenset({"doc_id", "doc", "arguments", "filtered_resps"}), from_lm_eval,
                        ""),
}


def detect(row: Mapping[str, Any]) -> Format | None:
    return next((fmt for fmt, (keys, _, _) in FORMATS.items() if keys <= row.keys()), None)


def read_records(path: Path) -> list[Any]:
    """The records of an answers file through judge's guarded reader (judge/files.py): JSON
    Lines follow its one rule for a torn last line (dropped with a warning), as a prompt file's
    do."""
    if path.suffix.lower() == ".jsonl":
        return read_jsonl(path, "answers file")[0]
    text = read_text(path, "answers file")
    try:
        data = parse_json(text) if text.strip() else []
    except ValueError as err:
        raise InputError(f"answers file {path} is not valid JSON ({err})") from None
    if not isinstance(data, list):
        raise InputError(f"answers file {path}: expected a JSON list of answers ({KNOWN})")
    return data


def read_answers(ref: str) -> AnswerSet:
    """The rows of an answers file, its format detected from the first record."""
    path = Path(ref).expanduser()
    records = read_records(path)
    if not records:
        raise InputError(f"answers file {ref} holds no answers")
    first = records[0]
    fmt = detect(first) if isinstance(first, dict) else None
    if fmt is None:
        shown = ", ".join(map(str, first)) if isinstance(first, dict) else type(first).__name__
        raise InputError(f"answers file {ref} is in no format judge knows (its first record has "
                         f"{shown or 'nothing'}); expected {KNOWN}")
    _, reader, name_key = FORMATS[fmt]
    rows = []
    for number, record in enumerate(records, start=1):
        where = f"answers file {ref}: record {number}"
        if not isinstance(record, dict) or detect(record) != fmt:
            raise InputError(f"{where} is not in the {fmt} format of the first record")
        rows.append(reader(record, where))
    name = first.get(name_key)
    if fmt == "lm_eval_samples":
        name = path.resolve().parent.name
        task = LM_EVAL_FILE.match(path.name)
        if task:
            rows = [r.model_copy(update={"category": task["task"]}) for r in rows]
    check_unique(rows, ref, fmt)
    return AnswerSet(path=str(path), format=fmt, name=str(name) if name else None, rows=rows)


def check_unique(rows: Sequence[AnswerRow], ref: str, fmt: Format) -> None:
    seen: set[str] = set()
    for row in rows:
        key = row.prompt_id if row.prompt_id is not None else row.prompt
        assert key is not None
        if key in seen:
            hint = (" (a generations ledger holding answers of several settings: take the file "
                    "of a run with one setting)" if fmt == "generations" else "")
            raise InputError(f"answers file {ref}: prompt {shown_prompt(key)} is answered twice"
                             + hint)
        seen.add(key)


def shown_prompt(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def content_hash(path: Path) -> str:
    return hashlib.sha256(read_bytes(path, "answers file")).hexdigest()[:16]


def resolve_answers(ref: str, answers: AnswerSet | None = None) -> ModelInfo:
    """The model reference of an answers file: nothing to load, fingerprint = content hash."""
    answers = answers or read_answers(ref)
    path = Path(answers.path)
    name = answers.name or path.stem
    return ModelInfo(ref=ref, path=str(path.resolve()), fingerprint=content_hash(path), dtype="",
                     kind="answers", name=name)


class AnswersEngine:
    """An answers file behind the Engine protocol: `generate` replays the file's answer to each
    conversation, turn by turn, so a file side runs through the same cached generation stage as a
    model (same keys, same ledger, same resume). It cannot judge."""

    def __init__(self, model: ModelInfo, items: Sequence[PromptItem],
                 outputs: Mapping[str, Sequence[str]]) -> None:
        self.model = model
        self.replies: dict[tuple[str, ...], str] = {}
        for item in items:
            turns = item.user_turns()
            for n, answer in enumerate(outputs[item.prompt_id], start=1):
                key = tuple(turns[:n])
                if self.replies.setdefault(key, answer) != answer:
                    raise InputError(f"answers file {model.ref}: two prompts with the text "
                                     f"{shown_prompt(turns[0])} have different answers")

    def stream(self, chats: Sequence[Sequence[Message]], params: SamplingParams,
               labels: Sequence[str] | None = None,
               grammar: Grammar | None = None) -> Iterator[tuple[int, Completion]]:
        if labels is not None or grammar is not None:
            raise InputError(f"{self.model.ref} is an answers file: it cannot judge")
        for index, chat in enumerate(chats):
            asked = tuple(m.content for m in chat if m.role == "user")
            # tokens 0: nothing was generated here, so no speed is claimed for it
            yield index, Completion(text=self.replies[asked], tokens=0)

    def generate(self, chats: Sequence[Sequence[Message]], params: SamplingParams,
                 labels: Sequence[str] | None = None,
                 grammar: Grammar | None = None) -> list[Completion]:
        return in_order(self.stream(chats, params, labels, grammar), len(chats))

    def label_probs(self, chats: Sequence[Sequence[Message]],
                    labels: Sequence[str]) -> list[dict[str, float]]:
        raise InputError(f"{self.model.ref} is an answers file: it cannot judge")

    def close(self) -> None:
        pass
