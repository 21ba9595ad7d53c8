"""One writer per folder: a run folder, a leaderboard folder or a sweep folder.

    with folder_lock(Path("results/run"), "run folder"):
        ...  # append to ledgers, write summary.json and the views

The lock is an exclusive `flock` on FOLDER/.judge.lock, taken without waiting: a second process
gets one InputError line naming the folder and the holder (pid and host, written into the file
by the holder). The kernel releases a flock when its process dies, however it dies, so a lock left
by a killed run is simply taken over by the next one. On release the file is removed, so a
finished run leaves nothing behind; a process that opened the file just before it was removed
sees that its file is no longer the folder's and tries again.

flock works between processes of one machine; on network file systems it may not (NFS emulates
it with byte-range locks). It imports nothing above the ground floor (errors).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from judge.errors import InputError

LOCK_NAME = ".judge.lock"


def holder(path: Path) -> str:
    """Who holds the lock, as its file says ("pid 123 on host"), or that it does not say."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return f"pid {int(data['pid'])} on {str(data['host'])[:80]}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that has not written its pid yet"


def acquire(folder: Path, what: str) -> int:
    """An open descriptor holding the folder's lock; InputError when another process holds it."""
    path = folder / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise InputError(f"{what} {folder} is in use by another judge process "
                             f"({holder(path)}); wait for it to finish, or write elsewhere "
                             "(--out)") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the file between our open and our lock: again
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode())
    return fd


@contextmanager
def folder_lock(folder: Path, what: str = "folder") -> Iterator[None]:
    """Hold `folder`'s lock (creating the folder) for the body of the with block."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = acquire(folder, what)
    try:
        yield
    finally:
        with suppress(OSError):
            os.unlink(folder / LOCK_NAME)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
