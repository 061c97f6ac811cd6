"""Reading deliveries two at a time: this process and one reader process (the machine's second core).

Reading a spreadsheet is Python work (parse, find the header, match units, parse numbers); loading it into
the warehouse is not, and DuckDB has one writer. So when a run has several source-months to read, every other
one is read by a reader process while this process reads the one before it, and this process loads each into
the warehouse in month order, each in its own transaction (`load.ingest_source_months`). One source-month
alone is read here: starting the reader costs more than it saves. The reader lives until `shutdown()` (the
reconcile step calls it, after the last staging step) or the end of the process.

The reader is `python -m p06.ingest.pool`: pickled (paths, source, period, seen) on its stdin, pickled ("ok",
read_delivery's answer) or ("error", text) on its stdout, each preceded by its length (8 bytes, big-endian).
One job at a time is outstanding, so neither side ever waits on a full pipe.
"""
from __future__ import annotations

import atexit
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Iterator

from p06 import child_process

MIN_JOBS = 2

_process: subprocess.Popen | None = None
_started_with: tuple | None = None          # the settings (P06_* variables, folder) the reader started with


class ReaderFailed(RuntimeError):
    pass


def _settings() -> tuple:
    return os.getcwd(), tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("P06_")))


def _reader() -> subprocess.Popen:
    global _process, _started_with
    if _process is not None and (_process.poll() is not None or _started_with != _settings()):
        shutdown()                           # ended, or another province or catalog: a reader of its own
    if _process is None:
        _process = subprocess.Popen([sys.executable, "-m", "p06.ingest.pool"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE)
        _started_with = _settings()
        atexit.register(shutdown)
    return _process


def shutdown() -> None:
    """End the reader process (its memory is the run's until then)."""
    global _process
    if _process is not None:
        child_process.end(_process)
        _process = None




def _read(paths: list[Path], source, period: str, seen=None):
    from p06.ingest.load import read_delivery
    return read_delivery(paths, source, period, seen)


def read_deliveries(jobs: list[tuple]) -> Iterator[tuple]:
    """`read_delivery(paths, source, period, seen)` of each job, in order; every other job in the reader process
    when there are MIN_JOBS or more (and a second core)."""
    if len(jobs) < MIN_JOBS or (os.cpu_count() or 1) < 2:
        for job in jobs:
            yield _read(*job)
        return
    reader = _reader()
    for i in range(0, len(jobs), 2):
        pair = jobs[i:i + 2]
        try:
            if len(pair) == 2:
                child_process.send(reader.stdin, pair[1])
            mine = _read(*pair[0])
            if len(pair) == 2:
                status, theirs = child_process.receive(reader.stdout)
        except (OSError, EOFError, pickle.PickleError) as exc:
            shutdown()
            raise ReaderFailed(f"the reader process failed reading {pair[-1][2]}: {type(exc).__name__}: {exc}") from None
        yield mine
        if len(pair) == 2:
            if status != "ok":
                raise ReaderFailed(f"the reader process failed reading {pair[1][2]}: {theirs}")
            yield theirs


def _serve() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr               # anything printed must not mix with the answers
    while True:
        try:
            job = child_process.receive(stdin)
        except EOFError:
            return
        try:
            answer = ("ok", _read(*job))
        except Exception as exc:  # noqa: BLE001 (reported to the run)
            answer = ("error", f"{type(exc).__name__}: {exc}")
        child_process.send(stdout, answer)


if __name__ == "__main__":
    _serve()
