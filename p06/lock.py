"""One writer at a time: an OS file lock on `<warehouse>/.p06-writer.lock`.

Every writer of a warehouse holds it for its whole work: `p06 run` (from before it plans which months are
stale until its summary is printed), every Dagster run (the Warehouse resource takes it when the run starts
and gives it back when the run ends: sensor, schedule, backfill or UI launch), and `p06 findings accept`.
A second writer waits, saying who holds the lock, then finds the warehouse as the first one left it.

`fcntl.flock` locks belong to the open file: the kernel releases them when the holder's process ends, however
it ends (kill -9 included), so a crash never leaves a stale lock. The lock is re-entrant within a process
(`p06 run` holds it, then executes the Dagster job in process, whose resource takes it again), counted per
warehouse folder. The file holds the holder's pid and start time, for the message of those who wait.
"""
from __future__ import annotations

import fcntl
import os
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

LOCK_NAME = ".p06-writer.lock"

_held: dict[Path, list] = {}          # lock file -> [file descriptor, depth]
_guard = threading.RLock()


def lock_path(warehouse_dir: Path | str) -> Path:
    return Path(warehouse_dir).resolve() / LOCK_NAME


def holder(warehouse_dir: Path | str) -> str:
    """Who holds (or last held) the lock, as its file says: 'pid N, started T'."""
    try:
        text = lock_path(warehouse_dir).read_text(encoding="utf-8").strip()
    except OSError:
        return "unknown"
    return text or "unknown"


def _holder_when_written(warehouse_dir: Path | str, seconds: float = 1.0) -> str:
    """The holder, giving it a moment to write its name: it takes the lock, then writes the file."""
    deadline = time.monotonic() + seconds
    while (who := holder(warehouse_dir)) == "unknown" and time.monotonic() < deadline:
        time.sleep(0.02)
    return who


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def acquire(warehouse_dir: Path | str, say: Callable[[str], None] = _say) -> Path:
    """Take the writer lock (waiting while another process holds it); re-entrant within the process."""
    path = lock_path(warehouse_dir)
    with _guard:
        if path in _held:
            _held[path][1] += 1
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                say(f"waiting for another run ({_holder_when_written(warehouse_dir)})")
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}, started {datetime.now().isoformat(timespec='seconds')}\n".encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        _held[path] = [fd, 1]
        return path


def release(warehouse_dir: Path | str) -> None:
    """Give back one level of the lock; the last one unlocks the file."""
    path = lock_path(warehouse_dir)
    with _guard:
        entry = _held.get(path)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] == 0:
            del _held[path]
            fcntl.flock(entry[0], fcntl.LOCK_UN)
            os.close(entry[0])


def held(warehouse_dir: Path | str) -> bool:
    """True when this process holds the lock."""
    return lock_path(warehouse_dir) in _held


@contextmanager
def writer_lock(warehouse_dir: Path | str, say: Callable[[str], None] = _say) -> Iterator[Path]:
    """`with writer_lock(warehouse_dir): ...` — the only writer of the warehouse while inside."""
    acquire(warehouse_dir, say)
    try:
        yield lock_path(warehouse_dir)
    finally:
        release(warehouse_dir)
