"""Months' exports written by a second process while the run's own process writes the others.

A workbook and report draft take about a second a month, all of it Python: on a history of many months,
`exports.export_periods` hands every other month to one worker process (the machine's second core). DuckDB
lets a file have one writer or many readers, never both, and the run holds the warehouse for writing, so
the worker reads a snapshot of it: the run checkpoints and copies the database file aside, the worker opens
the copy read-only. Small runs (a new month, a re-send) write in the run's process: starting a worker costs
more than it saves.

Off unless P06_EXPORT_WORKER=1: the worker holds a second copy of the export code and a workbook in memory
(about 200 MB), which takes a history load past 1 GB beside the run and its validation process; on a machine
whose second core is busy with other work it saves nothing (measured: README, Speed).

Run as `python -m p06.documents.export_worker SNAPSHOT WAREHOUSE_DIR MONTH...`.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

import duckdb

MIN_MONTHS = 4          # below this, one process writes them all
SWITCH = "P06_EXPORT_WORKER"


def enabled() -> bool:
    return os.environ.get(SWITCH, "") == "1"


class WorkerFailed(RuntimeError):
    pass


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
                 before_writing: Callable[[], None] = lambda: None) -> None:
    """Write each month with `write(con, month)`: every other month in a worker process when it is `enabled()`
    and there are MIN_MONTHS or more (the worker calls `p06.documents.exports.write_month`), the rest here.
    `before_writing()` is called once the warehouse is copied (nothing may read it while it is checkpointed)."""
    if not enabled() or len(months) < MIN_MONTHS or (os.cpu_count() or 1) < 2:
        before_writing()
        for month in months:
            write(con, month)
        return
    mine, theirs = months[0::2], months[1::2]
    with tempfile.TemporaryDirectory(prefix="p06-exports-") as tmp:
        copy = snapshot(con, Path(tmp))
        before_writing()
        log = Path(tmp) / "worker.log"
        with open(log, "w") as errors:
            worker = subprocess.Popen([sys.executable, "-m", "p06.documents.export_worker", str(copy),
                                       str(warehouse_dir), *theirs], stdout=errors, stderr=errors)
            try:
                for month in mine:
                    write(con, month)
            except BaseException:
                worker.kill()
                worker.wait()
                raise
            code = worker.wait()
        if code != 0:
            tail = log.read_text(errors="replace")[-2000:]
            raise WorkerFailed(f"the export worker failed (exit {code}) writing {', '.join(theirs)}:\n{tail}")


def main(argv: list[str]) -> int:
    from p06.documents import exports
    copy, warehouse_dir, months = Path(argv[0]), Path(argv[1]), argv[2:]
    con = duckdb.connect(str(copy), read_only=True)
    try:
        for month in months:
            exports.write_month(con, month, warehouse_dir)
    finally:
        con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
