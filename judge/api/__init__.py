"""The Python API: what a notebook calls, one floor above the pipelines, one below the CLI.

    from judge import compare, leaderboard, stats, agreement, report

Each function takes the options of its command as keyword arguments, validated into the same
settings record the CLI builds, and returns typed records (Comparison, Leaderboard, FileStats,
AgreementResult) with `.to_pandas()`. Bad input raises judge.InputError (the CLI's exit 2), a
server that does not answer judge.ServiceError (exit 1), each with the CLI's one line.

Its names load on first use (the CLI imports judge.api.defaults at start-up, nothing more).
"""

from __future__ import annotations

import importlib
from typing import Any

WHERE = {"compare": "runs", "leaderboard": "runs", "report": "runs", "stats": "numbers",
         "agreement": "numbers", "FileStats": "numbers", "AgreementResult": "numbers",
         "Comparison": "results", "Verdict": "results", "read_comparison": "results"}

__all__ = sorted(WHERE)


def __getattr__(name: str) -> Any:
    if name in WHERE:
        return getattr(importlib.import_module(f"judge.api.{WHERE[name]}"), name)
    raise AttributeError(f"module 'judge.api' has no attribute {name!r}")
