"""Other projects' judge prompt files as our templates: `judge templates import SOURCE --out
FILE.j2` writes one out (a full header to read and edit), and `--template SOURCE` takes one as is.

    judge_prompts.jsonl#pair-v2                   FastChat (MT-Bench), a prompt by name
    evaluators_configs/NAME/  or  .../configs.yaml[#NAME]     an alpaca_eval annotator
    config/arena-hard-v2.0.yaml                   an arena-hard-auto judge config
    prompts.py#ABSOLUTE_PROMPT[+RUBRIC]           a prometheus-eval grading prompt

Each importer keeps the prompt's words exactly, maps its placeholders and verdict labels to ours,
and writes the source's own example verdicts into `examples:`; the result loads through the one
template loader like any .j2 file. One module per source; none of them imports the loader.
"""

from __future__ import annotations

from pathlib import Path

from judge.errors import InputError
from judge.templates.importers.alpaca_eval import import_alpaca_eval
from judge.templates.importers.arena_hard import import_arena_hard
from judge.templates.importers.fastchat import import_fastchat
from judge.templates.importers.prometheus import import_prometheus
from judge.templates.importers.writer import Imported

KINDS = ("a FastChat judge_prompts.jsonl#NAME, an alpaca_eval annotator folder or configs.yaml, "
         "an arena-hard judge .yaml, or a prometheus-eval prompts.py#PROMPT")


def split(ref: str) -> tuple[Path, str | None]:
    """(file or folder, the part after its last '#'), unless the whole reference is a path."""
    if "#" in ref and not Path(ref).exists():
        path, _, fragment = ref.rpartition("#")
        return Path(path), fragment or None
    return Path(ref), None


def is_source(ref: str) -> bool:
    """Whether `ref` names another project's judge prompt file (by its shape, not its content)."""
    path, _ = split(ref)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".py"):  # without '#NAME' the import says to name the prompt
        return True
    if path.is_dir():
        return (path / "configs.yaml").is_file()
    return suffix in (".yaml", ".yml")


def import_source(ref: str, system: Path | None = None) -> Imported:
    """The template text `ref` becomes; `system` is arena-hard's system prompt file."""
    path, fragment = split(ref)
    if not path.exists():
        raise InputError(f"{path} not found (a judge prompt file to import: {KINDS})")
    suffix = path.suffix.lower()
    if system is not None and (path.is_dir() or path.name == "configs.yaml"
                               or suffix not in (".yaml", ".yml")):
        raise InputError("--system supplies arena-hard's system prompt; this source has its own")
    if suffix == ".jsonl":
        if not fragment:
            raise InputError(f"{ref}: name the prompt, e.g. {ref}#pair-v2")
        return import_fastchat(path, fragment)
    if suffix == ".py":
        if not fragment:
            raise InputError(f"{ref}: name the prompt constant, e.g. {ref}#ABSOLUTE_PROMPT")
        return import_prometheus(path, fragment)
    if path.is_dir() or path.name == "configs.yaml":
        return import_alpaca_eval(path, fragment)
    if suffix in (".yaml", ".yml"):
        return import_arena_hard(path, system)
    raise InputError(f"{ref} is not a judge prompt file this can import ({KINDS})")
