"""judge: is the tuned model better than its base, and how sure are we?

The package is laid out in floors, each importing only from its own and those below:
`cli` (options in, text out), `api` (what a notebook calls), `pipeline`, `sweep` and `train` (the
stages), `engines`, `templates`, `stats`, `report`, `card`, ... (one seam each), `runs` (storage:
run folders, ledgers, the run reader), and the ground (records, files, errors).
docs/reference/architecture.md has the map.

    import judge
    result = judge.compare("smollm2", "path/to/tuned", limit=4)
    result.to_pandas()

The Python API (judge/api/) is loaded on first use, so `import judge` stays light: compare,
leaderboard, stats, agreement, report, read_comparison and the records they return.
"""

from __future__ import annotations

import importlib
import sys
import types
from importlib import metadata
from typing import Any

from judge.errors import InputError, ServiceError

__version__ = "0.1.0"

API = ("compare", "leaderboard", "stats", "agreement", "report", "read_comparison",
       "Comparison", "Verdict", "FileStats", "AgreementResult")

__all__ = [*API, "InputError", "ServiceError", "__version__"]


def __getattr__(name: str) -> Any:
    """judge.compare & co., imported from judge.api when first asked for. `stats` and `report`
    are also subpackages: those are callable modules (callable_module), so `judge.stats(...)`
    works whichever of the two an import left here."""
    if name in CALLABLE_PACKAGES:
        return importlib.import_module(f"judge.{name}")
    if name in API:
        import judge.api

        return getattr(judge.api, name)
    raise AttributeError(f"module 'judge' has no attribute {name!r}")


CALLABLE_PACKAGES = ("stats", "report")


def callable_module(module_name: str, function: str) -> None:
    """Make the package `module_name` callable as judge.api's `function`: `from judge import
    stats` may hand over the judge.stats package (Python sets it as an attribute of judge once
    it is imported), and it must still be the function a notebook calls."""
    class Package(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            import judge.api

            return getattr(judge.api, function)(*args, **kwargs)

    sys.modules[module_name].__class__ = Package


def package_versions(names: tuple[str, ...]) -> dict[str, str]:
    """Installed versions of the named distributions (absent ones left out), for run records."""
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found
