"""The run's second core: a helper process that shares the jobs of a list with this process, the answers given
back in order (`in_pairs`).

Reading a spreadsheet is Python work (parse, find the header, match units, parse numbers); loading it into the
warehouse is not, and DuckDB has one writer. So when a run has several source-months to read
(`p06.ingest.load.ingest_source_months`), the helper and this process each take the next month not yet taken;
the answers come back in order, and this process loads each in month order. As this process also loads, the
helper reads more of them (measured on 39 months: ingest 16 s instead of 19 to 21 s when the two read every
other month, the helper then waiting while this process loaded). One job alone is
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
import threading
from typing import Callable, Iterator

from p06 import child_process

MIN_JOBS = 2
READ_AHEAD = 3        # answers this process holds, read ahead of the caller, at most

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
    """`function(*job)` of each job, in order (`function` named "module:name"), shared with the helper process
    when there are MIN_JOBS or more (and a second core). Both take the next job not yet taken: the helper, fed by a
    thread of this process, as soon as it answers; this process when its caller needs the next answer, reading
    ahead (up to READ_AHEAD answers) while the helper has that one. Each process thus reads as many jobs as its
    speed allows, and the caller's own work between answers (loading into the warehouse) never leaves the helper
    idle."""
    run = _function(function)
    if len(jobs) < MIN_JOBS or (os.cpu_count() or 1) < 2:
        for job in jobs:
            yield run(*job)
        return
    helper = _helper()
    ready = threading.Condition()
    done: dict[int, tuple[str, object]] = {}   # job -> ("ok", answer), ("error", the helper's text) or ("raise", exception)
    taken, stopping = 0, False

    def take() -> int | None:                        # with `ready` held
        nonlocal taken
        if stopping or taken >= len(jobs):
            return None
        taken += 1
        return taken - 1

    def feed_the_helper() -> None:
        while True:
            with ready:
                index = take()
            if index is None:
                return
            try:
                child_process.send(helper.stdin, (function, jobs[index]))
                answer = child_process.receive(helper.stdout)
            except (OSError, EOFError, pickle.PickleError) as exc:
                shutdown()
                answer = ("error", f"{type(exc).__name__}: {exc}")
            with ready:
                done[index] = answer
                ready.notify_all()
            if answer[0] != "ok":
                return

    feeder = threading.Thread(target=feed_the_helper, name="p06-reader-feed", daemon=True)
    feeder.start()
    try:
        for index in range(len(jobs)):
            while True:
                with ready:
                    if index in done:
                        status, answer = done.pop(index)
                        break
                    mine = take() if taken <= index or len(done) < READ_AHEAD else None
                    if mine is None:
                        ready.wait()
                        continue
                try:
                    result = ("ok", run(*jobs[mine]))
                except Exception as exc:  # noqa: BLE001 (raised in its turn, after the answers before it)
                    result = ("raise", exc)
                with ready:
                    done[mine] = result
            if status == "raise":
                raise answer
            if status != "ok":
                raise HelperFailed(f"the helper process failed on job {index + 1} of {function}: {answer}")
            yield answer
    finally:
        with ready:
            stopping = True                          # the feeder ends after the job it has (read and dropped)
        feeder.join()


def _pid_after(seconds: float) -> int:
    """A job for the tests: wait, then say which process did it."""
    import time
    time.sleep(seconds)
    return os.getpid()


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
