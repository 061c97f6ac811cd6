"""Months' exports written by the second process are those the run's own process writes."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from openpyxl import load_workbook
from test_publish_exports import _publish

from p06 import warehouse
from p06.documents import export_worker, exports

MONTHS = ["2023-08", "2023-09"]


def _cells(path: Path) -> dict[str, list[list]]:
    wb = load_workbook(path, read_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def test_worker_writes_the_same_files_as_the_run(loaded_samples, tmp_path, monkeypatch):
    db = tmp_path / "p06.duckdb"
    shutil.copyfile(loaded_samples["db"], db)
    _publish(db, MONTHS)
    here, there = tmp_path / "here", tmp_path / "there"
    written: list[str] = []
    with warehouse.connect(db) as con:
        for month in MONTHS:
            exports.write_month(con, month, here)
        monkeypatch.setattr(export_worker, "MIN_MONTHS", 1)
        monkeypatch.setattr(export_worker, "MIN_LEFT", 2)
        claims = _recorded_claims(monkeypatch)

        def write_here(c, m):         # the worker has time to claim the last month while this one is written
            written.append(m)
            exports.write_month(c, m, there)
            _wait_for(lambda: (claims[0] / "2023-09").exists())
        export_worker.write_months(con, MONTHS, there, write_here)
    assert written == ["2023-08"]                      # the last month went to the worker
    for month in MONTHS:
        a, b = exports.pending_dir(here, month), exports.pending_dir(there, month)   # written aside, before checks
        assert _cells(a / f"DA06_{month}.xlsx") == _cells(b / f"DA06_{month}.xlsx")
        assert (a / f"bao_cao_DA06_{month}.md").read_text() == (b / f"bao_cao_DA06_{month}.md").read_text()
        tables = sorted(p.name for p in (a / "tables").glob("*.csv"))
        assert tables and tables == sorted(p.name for p in (b / "tables").glob("*.csv"))
        for name in tables:
            assert (a / "tables" / name).read_bytes() == (b / "tables" / name).read_bytes()


def _recorded_claims(monkeypatch) -> list[Path]:
    """The claims folders of the write_months calls that follow (the worker process uses the same folder)."""
    folders: list[Path] = []

    class Recorded(export_worker.Claims):
        def __init__(self, folder):
            super().__init__(folder)
            folders.append(self.folder)
    monkeypatch.setattr(export_worker, "Claims", Recorded)
    return folders


def _wait_for(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_months_are_shared_from_both_ends_and_each_written_once(tmp_path, monkeypatch):
    """The run's process takes months from the first, the worker from the last; a month claimed is not
    claimed again, whichever process asks."""
    claims = export_worker.Claims(tmp_path / "claims")
    months = [f"2024-{m:02d}" for m in range(1, 7)]
    taken = {"run": [], "worker": []}
    for here, there in zip(months, reversed(months)):
        for who, month in (("run", here), ("worker", there)):
            if claims.claim(month):
                taken[who].append(month)
    assert taken == {"run": months[:3], "worker": months[:2:-1]}
    assert claims.unclaimed(months) == [] and not claims.claim(months[0])


def test_the_worker_starts_only_when_ready(tmp_path, monkeypatch):
    """Until `ready()` (the validation process has answered), every month is written by the run's process."""
    monkeypatch.setattr(export_worker, "snapshot", lambda con, folder: folder / "copy")
    started: list[list[str]] = []

    class Idle:                      # a worker that claims nothing: the run's process writes every month
        stdin = open(os.devnull, "wb")

        def wait(self):
            return 0
    monkeypatch.setattr(export_worker, "_start", lambda *a: started.append(a[3]) or Idle())
    months = [f"2024-{m:02d}" for m in range(1, 9)]
    written: list[str] = []
    export_worker.write_months(None, months, tmp_path, lambda c, m: written.append(m), ready=lambda: len(written) >= 2)
    # the worker was asked for the months left when the third month was about to be written, from the last
    assert started == [months[:1:-1]] and written == months


def test_a_failing_worker_s_months_are_written_here(loaded_samples, tmp_path, monkeypatch, caplog):
    db = tmp_path / "p06.duckdb"
    shutil.copyfile(loaded_samples["db"], db)
    monkeypatch.setattr(export_worker, "MIN_MONTHS", 1)
    monkeypatch.setattr(export_worker, "MIN_LEFT", 2)
    claims = _recorded_claims(monkeypatch)
    written: list[str] = []

    def write_here(c, m):             # the worker claims the last month (and fails on it) meanwhile
        written.append(m)
        _wait_for(lambda: (claims[0] / "2023-13").exists())
    with warehouse.connect(db) as con:
        export_worker.write_months(con, ["2023-08", "2023-13"], tmp_path, write_here)
    # the worker claimed 2023-13 and failed on it: the run's process wrote it, and said why
    assert written == ["2023-08", "2023-13"]
    assert "export worker failed" in caplog.text and "period must look like" in caplog.text


def test_switched_off_every_month_is_written_here(tmp_path, monkeypatch):
    monkeypatch.setenv(export_worker.SWITCH, "0")
    written: list[str] = []
    months = [f"2024-{m:02d}" for m in range(1, export_worker.MIN_MONTHS + 2)]
    export_worker.write_months(None, months, tmp_path, lambda c, m: written.append(m))
    assert written == months


def test_a_few_months_are_written_here(tmp_path, monkeypatch):
    monkeypatch.delenv(export_worker.SWITCH, raising=False)
    written: list[str] = []
    months = [f"2024-{m:02d}" for m in range(1, export_worker.MIN_MONTHS)]
    export_worker.write_months(None, months, tmp_path, lambda c, m: written.append(m))
    assert written == months


def test_the_worker_stops_when_the_run_is_gone(loaded_samples, tmp_path):
    """A run killed on its own (not with its process group) must not leave the worker writing months aside that
    the next run writes too: the worker stops as soon as the run's end of its stdin pipe closes."""
    db = tmp_path / "p06.duckdb"
    shutil.copyfile(loaded_samples["db"], db)
    _publish(db, MONTHS)
    claims = export_worker.Claims(tmp_path / "claims")
    worker = export_worker._start(db, tmp_path / "w", claims, MONTHS, tmp_path / "worker.log")
    try:
        _wait_for(lambda: (claims.folder / MONTHS[0]).exists())          # it has started writing
        worker.stdin.close()                                             # as when the run's process dies
        code = worker.wait(timeout=20)
    finally:
        worker.kill()
    assert code == 3, (tmp_path / "worker.log").read_text()
    assert not claims.written(MONTHS[1])                                  # it stopped in the first month
