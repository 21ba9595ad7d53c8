"""Defaults the CLI and the API share, light enough for the CLI's start-up: where converted models
are kept and what a run folder is called."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache() -> str:
    """Where converted models are kept: $JUDGE_CACHE_DIR, else ~/.cache/judge. The one setting
    the API reads from the environment, as the CLI does, so both find the same converted models."""
    return os.environ.get("JUDGE_CACHE_DIR", str(Path.home() / ".cache" / "judge"))


def slug(ref: str) -> str:
    """A folder-name-safe name for a reference; an answers file by its folder and name
    (alpaca_eval calls every file model_outputs.json and tells them apart by their folder)."""
    path = Path(ref.rstrip("/"))
    name = path.name or ref
    if path.suffix.lower() in (".json", ".jsonl"):
        name = f"{path.parent.name}-{path.stem}" if path.parent.name else path.stem
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name).removesuffix(".gguf")
