"""alpaca_eval annotator configs: an evaluator folder (`evaluators_configs/NAME/`) or its
`configs.yaml` (`#NAME` picks one annotator when the file holds several).

The config names its prompt file relative to the `evaluators_configs/` folder (`OTHER/x.txt`);
it is looked for there, then beside the config. A prompt in ChatML (`<|im_start|>system ...
<|im_end|>` blocks) gives the system and user messages, each trimmed as alpaca_eval trims them; a
plain prompt is the user message. Placeholders are `{name}` (alpaca_eval fills them by string
replacement; every other brace is literal text): {instruction} -> instruction, {output_1} ->
answer_a, {output_2} -> answer_b; others (e.g. {input}) stay variables for
`judge templates check` to name. Parsers:

- `logprob_parser` (weighted annotators): the numerator token means output_1 is better, the other
  denominator token output_2; read from the first token's label probabilities (`--verdict both`
  or `logprob`), which is alpaca_eval's reading (P(output_2) = the tuned side's share when shown
  second). With `log_prob_index: -1` (chain of thought) the token closes the reply: the label is
  read from the reply's last character instead.
- `regex_parser` (alpaca_eval's default): `outputs_to_match` {1: regex, 2: regex}; the label
  whose pattern matches earliest wins (ties to the first), as alpaca_eval reads one completion.
- `ranking_parser`: a list of {model, rank} dicts; the rank of model_1 is the verdict (1: first,
  2: second); `--structured` holds the reply to a JSON schema of that list.

Function calling (`functions`/`tools` in completions_kwargs), batches of several examples per
prompt, few-shot prompts with assistant turns, and other parsers are refused with a line saying
why.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from judge.errors import InputError
from judge.files import read_text
from judge.patterns import Pattern, PatternError
from judge.sandbox import TEMPLATE_BYTES
from judge.templates.importers.writer import (
    Imported,
    fields,
    jinja_body,
    jinja_literal,
    keep_last_newline,
    replace_pieces,
    template_text,
)

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
NAMES = {"instruction": "instruction", "output_1": "answer_a", "output_2": "answer_b"}
MEANING = {1: "first", 2: "second", 0: "tie", 1.5: "tie"}
CALLING = ("functions", "function_call", "tools", "tool_choice")
RANKING_PARSER = (r"""['"]model['"]\s*:\s*['"]model_1['"]\s*,\s*['"]rank['"]\s*:\s*(\d+)"""
                  r"""|['"]rank['"]\s*:\s*(\d+)\s*,\s*['"]model['"]\s*:\s*['"]model_1['"]""")
# model_1 then model_2, each ranked 1 or 2: every reply it allows names model_1's rank
RANKING_SCHEMA = {
    "type": "array", "minItems": 2, "maxItems": 2, "items": False,
    "prefixItems": [{"type": "object", "additionalProperties": False,
                     "required": ["model", "rank"],
                     "properties": {"model": {"const": model}, "rank": {"enum": [1, 2]}}}
                    for model in ("model_1", "model_2")],
}


def find_config(path: Path, name: str | None) -> tuple[str, dict, Path]:
    """(annotator name, its config, the configs.yaml) of a folder or configs.yaml."""
    file = path / "configs.yaml" if path.is_dir() else path
    text = read_text(file, "alpaca_eval config", TEMPLATE_BYTES)  # a regular file, bounded
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as err:
        raise InputError(f"{file}: cannot read it as YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise InputError(f"{file} is not an alpaca_eval annotator config (NAME: {{...}})")
    if name is None and len(data) == 1:
        name = next(iter(data))
    if name not in data:
        raise InputError(f"{file}: pick an annotator with #NAME (it has: {', '.join(data)})")
    return str(name), data[name], file


def prompt_file(config: dict, file: Path) -> Path:
    given = config.get("prompt_template")
    if not isinstance(given, str):
        raise InputError(f"{file}: the annotator names no prompt_template")
    tried = [file.parent.parent / given, file.parent / Path(given).name]
    found = next((p for p in tried if p.is_file()), None)
    if found is None:
        raise InputError(f"{file}: its prompt {given} is not at {' or '.join(map(str, tried))}")
    return found


def chat_parts(text: str, where: str) -> tuple[str | None, str]:
    """(system, user) of a ChatML prompt, each trimmed; a plain prompt is all user message."""
    if not text.strip().startswith("<|im_start|>"):
        return None, text
    messages = []
    for block in text.strip().split("<|im_start|>")[1:]:
        role, _, rest = block.partition("\n")
        messages.append((role.strip(), rest.split("<|im_end|>", 1)[0].strip()))
    roles = [role for role, _ in messages]
    if roles not in (["user"], ["system", "user"]):
        raise InputError(f"{where}: its prompt has the chat turns {roles} (few-shot replies); a "
                         "judge template renders one system and one user message")
    return (messages[0][1] if roles[0] == "system" else None), messages[-1][1]


def refusal(config: dict, where: str) -> str | None:
    calls = [k for k in CALLING if k in (config.get("completions_kwargs") or {})]
    if calls:
        return (f"{where} asks the API for function calling ({calls[0]}); a local judge "
                "replies in text, so its annotations cannot be read the same way")
    if int(config.get("batch_size", 1) or 1) > 1:
        return (f"{where} puts {config['batch_size']} examples in one prompt; a judge template "
                "judges one pair per call")
    return None


def import_alpaca_eval(path: Path, name: str | None) -> Imported:
    name, config, file = find_config(path, name)
    where = f"alpaca_eval annotator {name} ({file})"
    refused = refusal(config, where)
    if refused:
        raise InputError(refused)
    source = prompt_file(config, file)
    system, user = chat_parts(read_text(source, "alpaca_eval prompt", TEMPLATE_BYTES), where)
    pieces = replace_pieces(user, PLACEHOLDER)
    header: dict[str, Any] = {
        "kind": "pairwise",
        "description": f"alpaca_eval annotator {name}",
        "system": keep_last_newline(jinja_literal(system)) if system else None,
        "variables": fields(pieces, NAMES),
    }
    if system and PLACEHOLDER.search(system):
        raise InputError(f"{where}: its system message holds a placeholder")
    header |= parser_fields(config, where, user)
    mapped = ", ".join(f"{{{f}}} -> {NAMES.get(f, f)}" for f in
                       dict.fromkeys(p.field for p in pieces if p.field))
    comments = [f"Imported from alpaca_eval's {file.parent.name}/{file.name} (annotator {name}),",
                f"prompt {source.parent.name}/{source.name}. Placeholders: {mapped}."]
    notes = []
    if config.get("processors_to_kwargs"):
        notes.append(f"{where}: its processors ({', '.join(config['processors_to_kwargs'])}) "
                     "are not imported; both answer orders are judged anyway")
    return Imported(f"alpaca_eval-{name}", template_text(header, jinja_body(pieces, NAMES),
                                                         comments), notes)


def parser_fields(config: dict, where: str, prompt: str) -> dict[str, Any]:
    parser = config.get("fn_completion_parser", "regex_parser")
    kwargs = config.get("completion_parser_kwargs") or {}
    if parser == "logprob_parser":
        return logprob_fields(kwargs, where)
    if parser == "regex_parser":
        return regex_fields(kwargs, where, prompt)
    if parser == "ranking_parser":
        return {"labels": {"1": "first", "2": "second"}, "parser": RANKING_PARSER,
                "logprob": False, "grammar": {"json": RANKING_SCHEMA},
                "examples": RANKING_EXAMPLES}
    raise InputError(f"{where}: its parser {parser} reads replies in a way a template parser "
                     "(one regex) cannot express")


def logprob_fields(kwargs: dict, where: str) -> dict[str, Any]:
    first = kwargs.get("numerator_token")
    others = [t for t in kwargs.get("denominator_tokens") or [] if t != first]
    if not isinstance(first, str) or len(others) != 1 or not isinstance(others[0], str):
        raise InputError(f"{where}: logprob_parser needs a numerator token and one other "
                         "denominator token")
    second = others[0]
    choices = f"{re.escape(first)}|{re.escape(second)}"
    last = kwargs.get("log_prob_index", "batch") == -1
    fields_ = {"labels": {first: "first", second: "second"}, "logprob": not last}
    if last:  # chain of thought: the token that closes the reply
        return fields_ | {"parser": rf"({choices})\s*\Z", "examples": [
            {"output": f"Output 1 is more accurate.\n{first}", "verdict": first},
            {"output": f"The second output follows the instruction. {second}", "verdict": second},
            {"output": f"{first} is better, I think.", "verdict": None}]}
    return fields_ | {"parser": rf"\A\s*({choices})(?!\w)", "examples": [
        {"output": first, "verdict": first}, {"output": second, "verdict": second},
        {"output": f"{first}odel", "verdict": None}]}


def regex_fields(kwargs: dict, where: str, prompt: str) -> dict[str, Any]:
    patterns = kwargs.get("outputs_to_match")
    if not isinstance(patterns, dict) or not patterns:
        raise InputError(f"{where}: regex_parser needs outputs_to_match")
    labels, match = {}, {}
    for key, pattern in patterns.items():
        meaning = MEANING.get(float(key) if str(key).replace(".", "", 1).isdigit() else -1)
        if meaning is None:
            raise InputError(f"{where}: outputs_to_match key {key!r} is not a preference "
                             "(1, 2, or 0 for a tie)")
        labels[str(key)], match[str(key)] = meaning, str(pattern)
    examples: list[dict[str, str | None]] = []
    for label, pattern in match.items():  # the prompt's own example replies, where it has them
        try:  # the config's regexes are user regexes: compiled and run with a time limit
            shown = Pattern(pattern).search(prompt)
        except PatternError as err:
            raise InputError(f"{where}: its outputs_to_match pattern for {label}: {err}") \
                from None
        if shown and shown.group(0).strip():
            examples.append({"output": shown.group(0).strip(), "verdict": label})
    examples.append({"output": "I cannot decide.", "verdict": None})
    parser = "(" + "|".join(f"(?:{p})" for p in match.values()) + ")"
    return {"labels": labels, "parser": parser, "match": match, "logprob": False,
            "examples": examples}


# ranking_parser's reading: model_1's rank is the verdict; any other rank is no verdict
RANKING_EXAMPLES = [
    {"output": "[{'model': 'model_1', 'rank': 1}, {'model': 'model_2', 'rank': 2}]",
     "verdict": "1"},
    {"output": "[{'model': 'model_1', 'rank': 2}, {'model': 'model_2', 'rank': 1}]",
     "verdict": "2"},
    {"output": '[{"model": "model_2", "rank": 1}, {"model": "model_1", "rank": 2}]',
     "verdict": "2"},
    {"output": "[{'rank': 1, 'model': 'model_1'}, {'rank': 2, 'model': 'model_2'}]",
     "verdict": "1"},
    {"output": "[{'model': 'model_1', 'rank': 3}, {'model': 'model_2', 'rank': 1}]",
     "verdict": None},
]
