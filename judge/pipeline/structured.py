"""Whether a run's judges are held to their templates' grammars (`--structured`), and to which.

`--structured` / `--no-structured` decide when given. Otherwise a run folder that already holds a
run keeps what it recorded: a record (run.json, agreement.json) without the setting was judged
unconstrained, so it resumes unconstrained, with the same cache keys and the same numbers; a run
killed before writing its record is read from its judgment lines (`constrained` or not). A new
folder is constrained where the engine can do it (in-process vLLM, a vLLM server) and free
elsewhere, with a one-line notice.
"""

from __future__ import annotations

import logging
from pathlib import Path

from judge.engines import EngineOptions, pick_kind
from judge.engines.openai_engine import non_vllm_server
from judge.errors import InputError
from judge.files import parse_json, read_text
from judge.records import Grammar
from judge.templates.grammar import grammar_for
from judge.templates.template import JudgeTemplate

log = logging.getLogger("judge")


def constrains_replies(options: EngineOptions) -> str | None:
    """None when the engine these options load can constrain replies to a grammar, else why not.
    In-process vLLM and vLLM on Ray can; an OpenAI-compatible server can when it is vLLM (its
    /models entries say `owned_by: vllm`), since the request field is vLLM's own."""
    kind = pick_kind(options.kind)
    if kind in ("vllm", "ray"):  # Ray's vLLM stage builds vLLM's structured-output params
        return None
    if kind == "openai":
        other = non_vllm_server(options)
        return None if other is None else f"the server at {other} is not a vLLM server"
    return f"the {kind} engine cannot constrain replies"


def recorded_setting(record: Path) -> bool | None:
    """What a run's record file (run.json, agreement.json) says, else its judgment lines: None
    when neither tells; False for a record or line without the setting."""
    try:
        data = parse_json(read_text(record, "run record"))
    except (InputError, ValueError):
        return lines_setting(record.parent / "judgments")
    if not isinstance(data, dict):
        return None
    config = data["config"] if isinstance(data.get("config"), dict) else data
    return bool(config.get("structured", False))


def lines_setting(ledgers: Path) -> bool | None:
    """Whether the first judged line of a folder's ledgers was constrained (None: no such line)."""
    for path in sorted(ledgers.glob("*.jsonl")):
        try:
            text = read_text(path, "ledger")
        except InputError:
            continue
        for line in text.splitlines():
            try:
                row = parse_json(line)
            except ValueError:
                continue
            if isinstance(row, dict) and not row.get("skipped"):
                return bool(row.get("constrained"))
    return None


def resolve_structured(asked: bool | None, record: Path, engine: EngineOptions) -> bool:
    if asked is False:
        return False
    why_not = constrains_replies(engine)
    if asked:
        if why_not:
            raise InputError(f"--structured: {why_not}; pass --no-structured")
        return True
    recorded = recorded_setting(record)
    if recorded is not None:
        if recorded and why_not:
            log.info("structured verdicts are off: %s (this run recorded them on)", why_not)
            return False
        if not recorded and why_not is None:
            log.info("%s was judged without structured verdicts; it goes on so (pass "
                     "--structured to constrain its judges)", record.parent)
        return recorded
    if why_not:
        log.info("structured verdicts are off: %s", why_not)
        return False
    return True


def judge_grammar(template: JudgeTemplate, reads_text: bool, budget: int,
                  structured: bool) -> Grammar | None:
    """The grammar one judge is held to, or None (off, verdicts from log-probs, or none fits)."""
    if not structured or not reads_text:
        return None
    found = grammar_for(template, budget)
    if found.grammar is None:
        log.info("template %s: replies stay free (%s)", template.name, found.note)
    return found.grammar
