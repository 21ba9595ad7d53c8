"""Files as judge reads and writes them: JSON Lines, atomic replacement, and a writability check
made before any work starts.

A torn final line (a kill in the middle of a write) is dropped with a warning; a broken line
anywhere else is damage and an input error, since skipping it silently would change the numbers.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

from judge.errors import InputError

log = logging.getLogger("judge")


def _parse_line(line: bytes) -> dict:
    row = json.loads(line)
    if not isinstance(row, dict):
        raise ValueError("not an object")
    return row


def read_jsonl(path: Path) -> tuple[list[dict], int]:
    """Parse a JSONL file; return the rows and the byte length of its clean prefix.

    A torn final line (no newline and not JSON) is left out of both, with a warning. A broken line
    that does end in a newline raises InputError: that is damage, not an interrupted write.
    """
    data = path.read_bytes()
    *complete, tail = data.split(b"\n")
    rows: list[dict] = []
    for number, line in enumerate(complete, start=1):
        if not line.strip():
            continue
        try:
            rows.append(_parse_line(line))
        except ValueError:
            message = f"{path}:{number}: not a JSON object; fix or remove that line"
            raise InputError(message) from None
    clean = len(data) - len(tail)
    if tail.strip():
        try:
            rows.append(_parse_line(tail))
            clean = len(data)
        except ValueError:
            log.warning("%s: dropping a torn last line (%d bytes)", path, len(tail))
    return rows, clean


def write_atomic(path: Path, text: str) -> None:
    """Replace a file in one rename, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """write_atomic for bytes (a PNG)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def check_writable(target: Path, option: str) -> None:
    """Fail now, with one line and nothing left behind, when `target` (a folder to create or a
    file to write) could not be written. The nearest existing folder is probed by creating and
    removing a hidden file: permission bits do not tell (root passes every os.access check, yet
    cannot create files in /sys)."""
    existing = target
    while not existing.exists():
        existing = existing.parent
    if existing == target and target.is_file():
        existing = target.parent
    if not existing.is_dir():
        raise InputError(f"{option} {target}: {existing} is a file, not a folder")
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".judge-probe-"):
            pass
    except OSError as err:
        raise InputError(f"{option} {target} is not writable ({err.strerror} in {existing})") \
            from None
