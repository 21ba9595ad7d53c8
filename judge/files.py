"""Files as judge reads and writes them: one guarded reader for every file a user can name, JSON
Lines, atomic replacement, and a writability check made before any work starts.

The reader takes regular files only (a FIFO, a device or a folder is one line, never a read that
hangs or never ends), at most MAX_BYTES of them, and JSON nested at most MAX_DEPTH deep (no
RecursionError). Every problem is an InputError naming the file, and the line for JSON Lines.

JSON Lines, one rule for every such file judge reads (prompt sets, answers files, judgment files,
its own ledgers): a last line with no newline that is not JSON is a torn write (a kill in the
middle of an append): it is dropped with a warning naming the file and line. A broken line anywhere
else is damage and an input error, since skipping it silently would change the numbers.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from judge.errors import InputError

log = logging.getLogger("judge")

MAX_BYTES = 4 << 30  # 4 GiB: more than any prompt set or ledger, less than a runaway file
MAX_DEPTH = 100  # nesting of JSON arrays and objects; records need a handful


def check_regular(path: Path, what: str) -> None:
    """InputError unless `path` is an existing regular file (or a link to one)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{what} {path} does not exist") from None
    except OSError as err:
        raise InputError(f"{what} {path} cannot be read ({err.strerror})") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{what} {path} is a folder, not a file")
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or \
            stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a plain file"
        raise InputError(f"{what} {path} is {kind}, not a regular file")


def meant_local(ref: str, suffixes: tuple[str, ...] = ()) -> bool:
    """Whether a reference that names nothing on disk was meant as a local path, not a hub id:
    it starts like a path (/, ., ~), ends in a file suffix, or its first folder exists here (a
    missing `results/tuned` is a missing folder to report, not a hub id to look up)."""
    path = Path(ref).expanduser()
    if ref.startswith(("/", ".", "~")) or (suffixes and path.suffix.lower() in suffixes):
        return True
    return len(path.parts) > 1 and Path(path.parts[0]).is_dir()


def read_bytes(path: Path, what: str = "file", limit: int = MAX_BYTES) -> bytes:
    """A regular file's bytes, at most `limit` of them; anything else is one InputError line."""
    check_regular(path, what)
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as err:
        raise InputError(f"{what} {path} cannot be read ({err.strerror or err})") from None
    if len(data) > limit:
        raise InputError(f"{what} {path} is over {limit:,} bytes, the limit for such a file")
    return data


def read_text(path: Path, what: str = "file", limit: int = MAX_BYTES) -> str:
    """read_bytes as UTF-8 text."""
    try:
        return read_bytes(path, what, limit).decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"{what} {path} is not UTF-8 text (byte {err.start})") from None


def depth(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed JSON value (iteratively: no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                stack.extend((child, level + 1)
                             for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def parse_json(text: str | bytes) -> Any:
    """json.loads with its failures as ValueError: bad syntax, nesting over MAX_DEPTH, a number
    Python will not read."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError(f"nested over {MAX_DEPTH} levels deep") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(str(err).splitlines()[0] if str(err) else type(err).__name__) from None
    if isinstance(value, dict | list) and depth(value) > MAX_DEPTH:
        raise ValueError(f"nested over {MAX_DEPTH} levels deep")
    return value


def read_json(path: Path, what: str = "file") -> Any:
    """A whole JSON document from a regular file; any problem is one InputError line."""
    try:
        return parse_json(read_text(path, what))
    except ValueError as err:
        raise InputError(f"{what} {path} is not valid JSON ({err})") from None


def _parse_line(line: bytes) -> dict:
    row = parse_json(line)
    if not isinstance(row, dict):
        raise ValueError(f"a JSON {type(row).__name__}, not an object")
    return row


def read_jsonl(path: Path, what: str = "file") -> tuple[list[dict], int]:
    """Parse a JSONL file; return the rows (objects) and the byte length of its clean prefix.

    A torn final line (no newline and not JSON) is left out of both, with a warning. A broken line
    that does end in a newline, or a line that is JSON but not an object, raises InputError naming
    its line number: that is damage, not an interrupted write.
    """
    data = read_bytes(path, what)
    *complete, tail = data.split(b"\n")
    rows: list[dict] = []
    for number, line in enumerate(complete, start=1):
        if not line.strip():
            continue
        try:
            rows.append(_parse_line(line))
        except ValueError as err:
            message = f"{path}:{number}: not a JSON object ({err}); fix or remove that line"
            raise InputError(message) from None
    clean = len(data) - len(tail)
    if tail.strip():
        try:
            row = parse_json(tail)
        except ValueError:
            log.warning("%s:%d: dropping a torn last line (%d bytes, no newline, not JSON)",
                        path, len(complete) + 1, len(tail))
        else:
            if not isinstance(row, dict):
                raise InputError(f"{path}:{len(complete) + 1}: not a JSON object (a JSON "
                                 f"{type(row).__name__}); fix or remove that line")
            rows.append(row)
            clean = len(data)
    return rows, clean


def write_atomic(path: Path, text: str) -> None:
    """Replace a file in one rename, so a reader never sees half of it."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace a file with `data` in one rename; on any failure the temp file is removed and the
    old file is left as it was. A target that is a folder is an InputError."""
    check_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_target(path: Path) -> None:
    """A file judge is about to (re)write must not be a folder or some other non-file."""
    if path.is_dir():
        raise InputError(f"{path} is a folder; judge writes a file of that name there: move "
                         "the folder away")
    if path.exists() and not path.is_file():
        raise InputError(f"{path} is not a regular file; judge writes a file of that name there")


def check_targets(paths: list[Path]) -> None:
    """check_target for every file a command will write, before it computes anything."""
    for path in paths:
        check_target(path)


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
