"""alpaca_eval's annotations (annotations.json, a JSON array, or the same records as JSONL).

Each record is one judged pair: `output_1` is the baseline's answer, `output_2` the model's, and
`preference` in [1, 2] says how much the model's answer was preferred (1 = baseline, 2 = model,
1.5 = a draw, 0 = a draw in old files, null = the judge's reply could not be read). One record is
one item, as in alpaca_eval's own win rate, so its `win_rate`, `standard_error` and
`discrete_win_rate` come out as alpaca_eval computes them (as fractions, not percentages). Answer
lengths are the characters of output_1 and output_2, the texts feed the bias and style numbers,
and `dataset` (or `category`) is the category.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from judge.errors import InputError
from judge.stats.anchors.base import StatsFile
from judge.stats.categories import check_categories


def read_annotations(rows: Sequence[Mapping[str, Any]], origin: str) -> StatsFile:
    models = sorted({str(r["generator_2"]) for r in rows if r.get("generator_2") is not None})
    if len(models) > 1:
        raise InputError(f"{origin}: alpaca_eval annotations of {len(models)} models "
                         f"({', '.join(models[:3])}...); give one model's annotations")
    categories = [row.get("category", row.get("dataset")) for row in rows]
    check_categories(categories, origin)
    lines, texts = [], {}
    for number, (row, category) in enumerate(zip(rows, categories, strict=True), start=1):
        base, model = row.get("output_1"), row.get("output_2")
        if not isinstance(base, str) or not isinstance(model, str):
            raise InputError(f"{origin}: record {number}: output_1 and output_2 must both be "
                             "texts (the baseline's and the model's answers)")
        pid = str(number)  # records carry no id; alpaca_eval counts each record once
        lines.append({"prompt_id": pid, "preference": row.get("preference"),
                      "len_base": len(base), "len_tuned": len(model), "category": category})
        texts[pid] = (base, model)
    return StatsFile(format="alpaca_eval", kind="pairwise", rows=lines, texts=texts)
