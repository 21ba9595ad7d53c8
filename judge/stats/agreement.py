"""Meta-evaluation: how well does a judge agree with human labels, and with itself across orders?

Input lines (README.md, `judge agreement`): id, label ("A" | "B" | "tie"), verdict and
verdict_swapped ("A" | "B" | "tie" | "invalid"), where verdict_swapped was judged with the answers
shown the other way round and is already mapped back to the original order. An item with an invalid
verdict in either order is left out of every rate and counted in n_invalid, so each rate below is
over the same n items.

    accuracy_original  = share with verdict == label
    accuracy_swapped   = share with verdict_swapped == label
    accuracy           = their mean (the judge's accuracy with order effects averaged out)
    position_consistency = share with verdict == verdict_swapped
    both_correct       = share where both orders equal the label
    cohen_kappa_*      = (p_o − p_e) / (1 − p_e): p_o the accuracy of that order, p_e = Σ_k
                         P(label = k)·P(verdict = k) over the classes present (ties are a class);
                         null when p_e = 1 (one single class everywhere: agreement is trivial).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from judge.errors import InputError

Label = Literal["A", "B", "tie"]
Verdict = Literal["A", "B", "tie", "invalid"]


class IdLine(BaseModel):
    """A line of a user's file keyed by `id`. Extra fields (e.g. a source column) are ignored,
    since these files often carry more than we read; a misspelt required field still fails."""

    model_config = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True)
    id: str


L = TypeVar("L", bound=IdLine)


class AgreementLine(IdLine):
    """One judged, human-labelled pair."""

    label: Label
    verdict: Verdict
    verdict_swapped: Verdict


def parse_lines(rows: Sequence[dict], origin: str, record: type[L]) -> list[L]:
    """Validate rows into records; the first problem becomes one InputError line; ids are unique."""
    if not rows:
        raise InputError(f"{origin}: the file holds no lines")
    parsed, seen = [], set()
    for number, row in enumerate(rows, start=1):
        try:
            line = record.model_validate(row)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "line"
            raise InputError(f"{origin}: record {number}: {where}: {first['msg']}") from None
        if line.id in seen:
            raise InputError(f"{origin}: record {number}: id {line.id} appears twice")
        seen.add(line.id)
        parsed.append(line)
    return parsed


def read_agreement(path: Path) -> list[AgreementLine]:
    from judge.stats.lines import read_lines

    return parse_lines(read_lines(path), str(path), AgreementLine)


def cohen_kappa(labels: Sequence[str], predictions: Sequence[str]) -> float | None:
    """Cohen's kappa over the classes that occur in either sequence."""
    n = len(labels)
    observed = sum(a == b for a, b in zip(labels, predictions, strict=True)) / n
    of_labels, of_predictions = Counter(labels), Counter(predictions)
    expected = sum(of_labels[k] * of_predictions[k] for k in of_labels) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def agreement(lines: Sequence[AgreementLine]) -> dict[str, Any]:
    """The agreement metrics above, over the items judged validly in both orders."""
    valid = [x for x in lines if "invalid" not in (x.verdict, x.verdict_swapped)]
    if not valid:
        raise InputError("no item has a valid verdict in both orders; nothing to score")
    n = len(valid)
    labels = [x.label for x in valid]
    original = [x.verdict for x in valid]
    swapped = [x.verdict_swapped for x in valid]
    acc_original = sum(a == b for a, b in zip(labels, original, strict=True)) / n
    acc_swapped = sum(a == b for a, b in zip(labels, swapped, strict=True)) / n
    return {
        "n": n,
        "n_invalid": len(lines) - n,
        "accuracy_original": acc_original,
        "accuracy_swapped": acc_swapped,
        "accuracy": (acc_original + acc_swapped) / 2,
        "position_consistency": sum(a == b for a, b in zip(original, swapped, strict=True)) / n,
        "both_correct": sum(x.verdict == x.label == x.verdict_swapped for x in valid) / n,
        "cohen_kappa_original": cohen_kappa(labels, original),
        "cohen_kappa_swapped": cohen_kappa(labels, swapped),
    }
