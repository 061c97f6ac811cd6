"""Source-months read by the run's helper process (p06/pool.py) load exactly what reading them here loads."""
from __future__ import annotations

import duckdb
from conftest import SAMPLE_MONTHS, copy_samples

from p06 import catalog, pool, warehouse
from p06.ingest import load

COLUMNS = "period, source, unit_kind, unit_code, measure, value, file, sheet, cell"


def _staged(db) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"SELECT {COLUMNS} FROM staging.observations ORDER BY ALL").fetchall()
    finally:
        con.close()


def test_reader_process_loads_what_this_process_loads(tmp_path):
    raw = copy_samples(tmp_path)
    months = list(SAMPLE_MONTHS)
    assert len(months) >= pool.MIN_JOBS
    sources = list(catalog.sources().values())
    here, there = tmp_path / "here.duckdb", tmp_path / "there.duckdb"
    with warehouse.connect(here) as con:
        for source in sources:
            for month in months:
                load.ingest_source_month(con, raw, source, month)
    try:
        with warehouse.connect(there) as con:
            results = [r for source in sources for r in load.ingest_source_months(con, raw, source, months)]
        assert pool._process is not None and pool._process.poll() is None      # the reader did read
    finally:
        pool.shutdown()
    assert [r.period for r in results] == months * len(sources)
    assert {r.status for r in results} <= {"loaded", "not_expected", "missing", "rejected"}
    staged = _staged(there)
    assert staged and staged == _staged(here)

