"""Both models on the same benchmark questions: per-task deltas and McNemar's exact test.

With per-sample logs on both sides the comparison is paired: both models saw the same questions,
so the discordant ones (right for one model only) carry the evidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scipy import stats as sps

from judge.benchmarks.lmeval import run_bench
from judge.errors import InputError
from judge.records import ModelInfo


def bench_pair(
    base: ModelInfo,
    tuned: ModelInfo,
    tasks: Sequence[str],
    out_dir: Path,
    limit: int | None = None,
    num_fewshot: int | None = None,
    include_path: Path | Sequence[Path] | None = None,
) -> dict[str, Any]:
    """summary.json's "benchmarks": both models benchmarked (one after the other), then compared."""
    first = run_bench(base, tasks, out_dir, limit, num_fewshot, include_path)
    return compare_bench(first, run_bench(tuned, tasks, out_dir, limit, num_fewshot, include_path))


def mcnemar_exact(base: dict[str, float], tuned: dict[str, float]) -> tuple[float, int, int] | None:
    """Two-sided exact McNemar test on paired 0/1 outcomes: (p, base-only, tuned-only)."""
    shared = sorted(set(base) & set(tuned))
    if not shared or any(v not in (0.0, 1.0) for d in (base, tuned) for v in d.values()):
        return None
    only_base = sum(base[k] == 1.0 and tuned[k] == 0.0 for k in shared)
    only_tuned = sum(base[k] == 0.0 and tuned[k] == 1.0 for k in shared)
    if only_base + only_tuned == 0:
        return 1.0, 0, 0
    test = sps.binomtest(only_tuned, only_base + only_tuned, 0.5, alternative="two-sided")
    return float(test.pvalue), only_base, only_tuned


def compare_bench(base_result: dict[str, Any], tuned_result: dict[str, Any]) -> dict[str, Any]:
    """Per task: metric, base, tuned, delta (tuned - base), stderr of the delta, p_value.

    The delta's standard error combines the two reported ones as if independent, which overstates
    it for paired questions; the paired McNemar test (when both sides logged samples) does not.
    """
    base_tasks, tuned_tasks = base_result["tasks"], tuned_result["tasks"]
    table: dict[str, Any] = {}
    for name, tuned in tuned_tasks.items():
        base = base_tasks.get(name)
        if base is None:
            raise InputError(f"benchmark task '{name}' was run for the tuned model only")
        if base["metric"] != tuned["metric"] or base["settings"] != tuned["settings"]:
            raise InputError(f"benchmark task '{name}' ran with different settings for the two "
                             "models; rerun both with the same --limit and --num-fewshot")
        se = None
        if base["stderr"] is not None and tuned["stderr"] is not None:
            se = math.sqrt(base["stderr"] ** 2 + tuned["stderr"] ** 2)
        paired = None
        if base.get("samples") and tuned.get("samples"):
            paired = mcnemar_exact(base["samples"], tuned["samples"])
        table[name] = {
            "metric": tuned["metric"], "base": base["value"], "tuned": tuned["value"],
            "delta": tuned["value"] - base["value"], "stderr": se,
            "p_value": None if paired is None else paired[0],
            "test": None if paired is None else "mcnemar_exact",
            "discordant": None if paired is None else {"base_only": paired[1],
                                                      "tuned_only": paired[2]},
            "n": tuned.get("n"),
        }
    return table
