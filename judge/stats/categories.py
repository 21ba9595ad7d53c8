"""Categories: the optional `category` of prompts, judgment lines and labelled pairs.

A category is text or a whole number (MT-Bench's and arena-hard's are text, some sets number their
groups); numbers are read as their text. One file must use one kind: a column that mixes text
with numbers is usually two exports pasted together, so it is an input error, not a guess.

Per-category results are reported when the lines fall into at least two groups. Lines without a
category then form their own group, named NO_CATEGORY; a single category everywhere would only
repeat the headline, so it gives no per-category block.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from judge.errors import InputError

NO_CATEGORY = "(none)"
T = TypeVar("T")


def kind_of(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return type(value).__name__
    return "text" if isinstance(value, str) else "number"


def check_categories(values: Iterable[Any], origin: str) -> None:
    """Every present category is text, or every one is a whole number: else one InputError."""
    first: tuple[int, str] | None = None
    for number, value in enumerate(values, start=1):
        if value is None:
            continue
        kind = kind_of(value)
        if kind not in ("text", "number"):
            raise InputError(f"{origin}: record {number}: category {value!r} is a {kind}; "
                             "give text or a whole number")
        if first is None:
            first = (number, kind)
        elif kind != first[1]:
            raise InputError(f"{origin}: the category column mixes types: record {first[0]} "
                             f"has {first[1]}, record {number} has {kind} ({value!r})")


def category_name(value: Any) -> str:
    return NO_CATEGORY if value is None else str(value)


def group_rows(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Rows by category name, in name order; {} when there are fewer than two groups or no line
    carries a category at all."""
    if not any(row.get("category") is not None for row in rows):
        return {}
    check_categories((row.get("category") for row in rows), "lines")
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[category_name(row.get("category"))].append(row)
    return {name: groups[name] for name in sorted(groups)} if len(groups) > 1 else {}


def group_items(items: Sequence[T], categories: Sequence[Any]) -> dict[str, list[T]]:
    """group_rows for records whose categories are given beside them."""
    if not any(c is not None for c in categories):
        return {}
    groups: dict[str, list[T]] = defaultdict(list)
    for item, category in zip(items, categories, strict=True):
        groups[category_name(category)].append(item)
    return {name: groups[name] for name in sorted(groups)} if len(groups) > 1 else {}
