"""Tables as pandas DataFrames, for the records' `.to_pandas()`.

pandas is imported here, when a DataFrame is asked for, and nowhere else: `import judge` and
every command run without it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from judge.errors import InputError


def data_frame(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> Any:
    """A DataFrame of these rows (dicts), in this column order when given."""
    try:
        import pandas as pd
    except ImportError:
        raise InputError("to_pandas() needs pandas: pip install 'judge[pandas]'") from None
    return pd.DataFrame(list(rows), columns=list(columns) if columns is not None else None)


def flat_fields(value: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of a JSON-like value under its dotted name (`ci.low`), list items by index."""
    if isinstance(value, Mapping):
        found: dict[str, Any] = {}
        for key, item in value.items():
            found |= flat_fields(item, f"{prefix}.{key}" if prefix else str(key))
        return found
    if isinstance(value, list | tuple):
        found = {}
        for i, item in enumerate(value):
            found |= flat_fields(item, f"{prefix}.{i}")
        return found
    return {prefix: value}
