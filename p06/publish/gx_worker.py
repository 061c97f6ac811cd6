"""Great Expectations in a process of its own, started ahead by `p06 run`.

Importing Great Expectations takes seconds. `p06 run` asks for this process (`want`): for a run of one month it
starts at once (the import overlaps reading); for a run of a few months the reconcile step starts it, as soon as
the reader process (p06/pool.py) has ended (the import then overlaps reconciling and publishing); for a history,
the publish step does (`run_months`, per Dagster run). Never beside the reader: the run, its reader and this
process together pass the run's memory budget (1 GB: 411 + 254 + 316 MB measured on the two sample months when
this process started with the run). The exports step then hands it the published rows to validate
(`quality.validate_publication`). Without a started process (a run from the Dagster UI, tests) the validation
runs in the run's own process.

Protocol: pickled (Collected, warehouse_dir) on stdin, pickled ("ok", QualitySummary) or ("error", text)
on stdout, each preceded by its length (8 bytes, big-endian). Light on imports: the run's process does not
import Great Expectations through this module.
"""
from __future__ import annotations

import atexit
import os
import pickle
import subprocess
import sys
from pathlib import Path

from p06 import child_process

_process: subprocess.Popen | None = None
_wanted = False
_ahead = False
AHEAD_MONTHS = 3        # a run of this many months or fewer starts the process when reconciling starts


class WorkerError(RuntimeError):
    pass


def want(wanted: bool = True) -> None:
    """Whether runs start a validation process (`p06 run`'s do; a run from the UI validates in its own
    process); when, `run_months` says."""
    global _wanted
    _wanted = wanted


def run_months(months: int) -> None:
    """The next run's number of months: one month starts the process at once (its files are read in the run's own
    process, one per source: no reader process), up to AHEAD_MONTHS when reconciling starts."""
    global _ahead
    _ahead = _wanted and months <= AHEAD_MONTHS
    if _wanted and months == 1:
        start()


def start_if_wanted(reconciling: bool = False) -> None:
    """Start the process if the run wants one: at the reconcile step for a short run, at the publish step for any."""
    if _wanted and (_ahead or not reconciling):
        start()


def start() -> None:
    """Start the validation process (importing Great Expectations at once) unless one is running."""
    global _process
    if running():
        return
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
    _process = subprocess.Popen([sys.executable, "-m", "p06.publish.gx_worker"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, env=env)
    atexit.register(stop)


def running() -> bool:
    return _process is not None and _process.poll() is None


def stop() -> None:
    """End the validation process (it is idle or done)."""
    global _process
    if _process is not None:
        child_process.end(_process)
        _process = None




def validate(collected, warehouse_dir: Path):
    """Validate in the started process; it ends after answering. Raises WorkerError when it fails."""
    global _process
    process = _process
    if process is None or process.poll() is not None:
        raise WorkerError("no validation process")
    try:
        child_process.send(process.stdin, (collected, str(warehouse_dir)))
        status, value = child_process.receive(process.stdout)
    except (OSError, EOFError, pickle.PickleError) as exc:
        stop()
        raise WorkerError(f"{type(exc).__name__}: {exc}") from None
    stop()
    if status != "ok":
        raise WorkerError(value)
    return value


def _serve() -> None:
    import great_expectations  # noqa: F401  (the point of this process: import it while the run works)

    from p06.publish import quality
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr               # anything GX prints must not mix with the answers
    while True:
        try:
            collected, warehouse_dir = child_process.receive(stdin)
        except EOFError:
            return
        try:
            answer = ("ok", quality.validate_collected(collected, Path(warehouse_dir)))
        except Exception as exc:  # noqa: BLE001 (reported to the run, which validates in its own process)
            answer = ("error", f"{type(exc).__name__}: {exc}")
        child_process.send(stdout, answer)


if __name__ == "__main__":
    _serve()
