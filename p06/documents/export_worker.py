"""Months' exports written by a second process, on the machine's second core, once the validation is done.

A month's workbook, report and dashboard take one to three seconds, all of it Python, in one process. On a
history of many months `exports.export_periods` starts one worker process (`write_months`) to write months
beside the run's own process. It starts when the validation process (p06/publish/gx_worker.py, which runs
beside the first months' files) has answered and ended: the two together would compete for the second
core, and the three processes together would take the run past its memory budget (measured: README, Speed).

Who writes which month is settled by claims (`Claims`): the run's process takes the months from the first,
the worker from the last, each claiming a month before writing it, so they meet wherever the speed of each
puts them and no month is written twice. DuckDB lets a file have one writer or many readers, never both, and
the run holds the warehouse for writing, so the worker reads a snapshot of it: the run checkpoints and copies
the database file aside (a few tens of MB), the worker opens the copy read-only. If the worker fails, the run's
process writes the months the worker had claimed and not finished, and logs why; if the run's process ends
(killed), the worker stops too.

Small runs (fewer than MIN_MONTHS months) write in the run's process: starting a worker costs more than it
saves. P06_EXPORT_WORKER=0 writes every month in the run's process.

Run as `python -m p06.documents.export_worker SNAPSHOT WAREHOUSE_DIR CLAIMS_DIR MONTH...` (the months in the
order to try them).
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Callable

import duckdb

MIN_MONTHS = 4          # below this, one process writes them all
MIN_LEFT = 3            # the worker is started only while this many months are left to claim
SWITCH = "P06_EXPORT_WORKER"

log = logging.getLogger(__name__)


def enabled() -> bool:
    return os.environ.get(SWITCH, "1") != "0"


class Claims:
    """Which process writes which month: a month is claimed by creating its file (exclusive create: one process
    gets it), and marked written by the worker when its files are all written aside."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def claim(self, month: str) -> bool:
        try:
            os.close(os.open(self.folder / month, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            return True
        except FileExistsError:
            return False

    def unclaimed(self, months: list[str]) -> list[str]:
        return [m for m in months if not (self.folder / m).exists()]

    def mark_written(self, month: str) -> None:
        (self.folder / f"{month}.written").touch()

    def written(self, month: str) -> bool:
        return (self.folder / f"{month}.written").exists()


def snapshot(con: duckdb.DuckDBPyConnection, folder: Path) -> Path:
    """A copy of the warehouse the run holds, for readers in other processes (checkpointed first, so that
    the file holds every committed row)."""
    source = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    con.execute("CHECKPOINT")
    copy = Path(folder) / "warehouse_snapshot.duckdb"
    shutil.copyfile(source, copy)
    return copy


def write_months(con: duckdb.DuckDBPyConnection, months: list[str], warehouse_dir: Path,
                 write: Callable[[duckdb.DuckDBPyConnection, str], None],
                 before_writing: Callable[[], None] = lambda: None,
                 ready: Callable[[], bool] = lambda: True) -> None:
    """Write each month with `write(con, month)`, in month order, here; with MIN_MONTHS or more (and a second
    core), a worker process (which calls `p06.documents.exports.write_month`) takes months from the last as soon
    as `ready()` says the second core is free, while at least MIN_LEFT are left. `before_writing()` is called
    once the warehouse is copied (nothing may read it while it is checkpointed)."""
    if not enabled() or len(months) < MIN_MONTHS or (os.cpu_count() or 1) < 2:
        before_writing()
        for month in months:
            write(con, month)
        return
    with tempfile.TemporaryDirectory(prefix="p06-exports-") as tmp:
        copy = snapshot(con, Path(tmp))
        before_writing()
        claims, log_path = Claims(Path(tmp) / "claims"), Path(tmp) / "worker.log"
        mine: list[str] = []
        worker: subprocess.Popen | None = None
        try:
            for month in months:
                left = claims.unclaimed(months) if worker is None else []
                if len(left) >= MIN_LEFT and ready():
                    worker = _start(copy, warehouse_dir, claims, left[::-1], log_path)
                if claims.claim(month):
                    mine.append(month)
                    write(con, month)
        except BaseException:
            if worker is not None:
                worker.kill()
                worker.wait()
            raise
        if worker is None:
            return
        code = worker.wait()
        worker.stdin.close()
        if code == 0:
            return
        unfinished = [m for m in months if m not in mine and not claims.written(m)]
        tail = log_path.read_text(errors="replace")[-2000:]
        log.warning("the export worker failed (exit %s); writing %s here:\n%s", worker.returncode,
                    ", ".join(unfinished) or "nothing", tail)
        for month in unfinished:
            write(con, month)


def _start(copy: Path, warehouse_dir: Path, claims: Claims, months: list[str], log_path: Path) -> subprocess.Popen:
    """The worker process; its stdin is a pipe this process never writes to: when this process ends, killed or
    not, the pipe closes and the worker stops (`_end_with_the_run`), rather than write on unwatched."""
    with open(log_path, "w") as errors:       # the child holds its own descriptor
        return subprocess.Popen([sys.executable, "-m", "p06.documents.export_worker", str(copy), str(warehouse_dir),
                                 str(claims.folder), *months], stdin=subprocess.PIPE, stdout=errors, stderr=errors)


def _end_with_the_run() -> None:
    """In the worker: stop at once when the run's process is gone (its end of the stdin pipe closed)."""
    def watch() -> None:
        sys.stdin.buffer.read()
        os._exit(3)
    threading.Thread(target=watch, name="p06-run-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    from p06.documents import exports
    _end_with_the_run()
    copy, warehouse_dir, claims, months = Path(argv[0]), Path(argv[1]), Claims(Path(argv[2])), argv[3:]
    con = duckdb.connect(str(copy), read_only=True)
    try:
        for month in months:
            if claims.claim(month):
                exports.write_month(con, month, warehouse_dir)
                claims.mark_written(month)
    finally:
        con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
