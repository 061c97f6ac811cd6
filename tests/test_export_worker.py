"""Months' exports written by the second process are those the run's own process writes."""
from __future__ import annotations

import shutil
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
        monkeypatch.setenv(export_worker.SWITCH, "1")
        export_worker.write_months(con, MONTHS, there,
                                   lambda c, m: (written.append(m), exports.write_month(c, m, there)))
    assert written == ["2023-08"]                      # the other month went to the worker
    for month in MONTHS:
        a, b = exports.pending_dir(here, month), exports.pending_dir(there, month)   # written aside, before checks
        assert _cells(a / f"DA06_{month}.xlsx") == _cells(b / f"DA06_{month}.xlsx")
        assert (a / f"bao_cao_DA06_{month}.md").read_text() == (b / f"bao_cao_DA06_{month}.md").read_text()
        tables = sorted(p.name for p in (a / "tables").glob("*.csv"))
        assert tables and tables == sorted(p.name for p in (b / "tables").glob("*.csv"))
        for name in tables:
            assert (a / "tables" / name).read_bytes() == (b / "tables" / name).read_bytes()


def test_a_failing_worker_is_reported(loaded_samples, tmp_path, monkeypatch):
    db = tmp_path / "p06.duckdb"
    shutil.copyfile(loaded_samples["db"], db)
    monkeypatch.setattr(export_worker, "MIN_MONTHS", 1)
    monkeypatch.setenv(export_worker.SWITCH, "1")
    with warehouse.connect(db) as con:
        try:
            export_worker.write_months(con, ["2023-08", "2023-13"], tmp_path, lambda c, m: None)
        except export_worker.WorkerFailed as exc:
            assert "2023-13" in str(exc) and "period must look like" in str(exc)
        else:
            raise AssertionError("the worker's failure was not reported")


def test_off_by_default_every_month_is_written_here(tmp_path, monkeypatch):
    monkeypatch.delenv(export_worker.SWITCH, raising=False)
    written: list[str] = []
    months = [f"2024-{m:02d}" for m in range(1, export_worker.MIN_MONTHS + 2)]
    export_worker.write_months(None, months, tmp_path, lambda c, m: written.append(m))
    assert written == months
