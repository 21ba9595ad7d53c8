"""Files that ship inside the package (templates, recipes, prompt and preference sets, the lm-eval
task), found through importlib.resources so they are there wherever judge is installed.

A wheel installs as plain files on disk, so a resource is handed out as a Path: lm-eval and
`datasets` need real file names.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def resource(package: str, *parts: str) -> Path:
    """The path of a file or folder shipped in `package` (e.g. "judge.promptsets")."""
    return Path(str(files(package).joinpath(*parts)))


def shipped_files(package: str, suffix: str, recursive: bool = True) -> dict[str, Path]:
    """Shipped files of `package` with this suffix, by stem (sorted by path)."""
    root = resource(package)
    found = sorted(root.rglob(f"*{suffix}") if recursive else root.glob(f"*{suffix}"))
    return {path.stem: path for path in found}
