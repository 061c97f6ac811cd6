"""The run's second core: a helper process that does every other job of a list while this process does the
others, in order (`in_pairs`).

Reading a spreadsheet is Python work (parse, find the header, match units, parse numbers); loading it into the
warehouse is not, and DuckDB has one writer. So when a run has several source-months to read
(`p06.ingest.load.ingest_source_months`), every other one is read by the helper while this process reads the
one before it; the results come back in order, and this process loads each in month order. One job alone is
done here: starting the helper costs more than it saves. The helper lives until `shutdown()` (the reconcile
step calls it: the helper's memory, every workbook it parsed, is given back before reconciling) or the end of
the process. (Reconciling every other month in the helper too was measured: 6 s less on 39 months, but the
helper's 390 MB beside the run's took the run past its 1 GB budget.)

The helper is `python -m p06.pool`: pickled ("module:function", args) on its stdin, pickled ("ok", answer) or
("error", text) on its stdout, each preceded by its length (8 bytes, big-endian). One job at a time is
outstanding, so neither side ever waits on a full pipe.
"""
from __future__ import annotations

import atexit
import importlib
import os
import pickle
import subprocess
import sys
from typing import Callable, Iterator

from p06 import child_process

MIN_JOBS = 2

_process: subprocess.Popen | None = None
_started_with: tuple | None = None          # the settings (P06_* variables, folder) the reader started with


class HelperFailed(RuntimeError):
    pass


def _settings() -> tuple:
    return os.getcwd(), tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("P06_")))


def _helper() -> subprocess.Popen:
    global _process, _started_with
    if _process is not None and (_process.poll() is not None or _started_with != _settings()):
        shutdown()                           # ended, or another province or catalog: a reader of its own
    if _process is None:
        _process = subprocess.Popen([sys.executable, "-m", "p06.pool"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE)
        _started_with = _settings()
        atexit.register(shutdown)
    return _process


def shutdown() -> None:
    """End the helper process (its memory is the run's until then)."""
    global _process
    if _process is not None:
        child_process.end(_process)
        _process = None




def _function(name: str) -> Callable:
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


def in_pairs(function: str, jobs: list[tuple]) -> Iterator:
    """`function(*job)` of each job, in order (`function` named "module:name"); every other job in the helper
    process when there are MIN_JOBS or more (and a second core)."""
    run = _function(function)
    if len(jobs) < MIN_JOBS or (os.cpu_count() or 1) < 2:
        for job in jobs:
            yield run(*job)
        return
    helper = _helper()
    for i in range(0, len(jobs), 2):
        pair = jobs[i:i + 2]
        try:
            if len(pair) == 2:
                child_process.send(helper.stdin, (function, pair[1]))
            mine = run(*pair[0])
            if len(pair) == 2:
                status, theirs = child_process.receive(helper.stdout)
        except (OSError, EOFError, pickle.PickleError) as exc:
            shutdown()
            raise HelperFailed(f"the helper process failed on job {i + 2} of {function}: {type(exc).__name__}: {exc}") from None
        yield mine
        if len(pair) == 2:
            if status != "ok":
                raise HelperFailed(f"the helper process failed on job {i + 2} of {function}: {theirs}")
            yield theirs


def _serve() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr               # anything printed must not mix with the answers
    while True:
        try:
            function, args = child_process.receive(stdin)
        except EOFError:
            return
        try:
            answer = ("ok", _function(function)(*args))
        except Exception as exc:  # noqa: BLE001 (reported to the run)
            answer = ("error", f"{type(exc).__name__}: {exc}")
        child_process.send(stdout, answer)


if __name__ == "__main__":
    _serve()
