"""What the run's helper process does (p06/pool.py) equals what this process does: reading source-months,
reconciling months."""
from __future__ import annotations

import duckdb
from conftest import SAMPLE_MONTHS, copy_samples

from p06 import catalog, pool, warehouse
from p06.ingest import load
from p06.reconcile import engine

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


def test_months_reconciled_in_pairs_find_what_one_process_finds(tmp_path):
    raw = copy_samples(tmp_path)
    with warehouse.connect(tmp_path / "p06.duckdb") as con:
        for source in catalog.sources().values():
            load.ingest_source_months(con, raw, source, list(SAMPLE_MONTHS))
        observations = con.sql("SELECT * FROM staging.observations").pl()
    try:
        both = engine.reconcile_months(observations, list(SAMPLE_MONTHS), window=12, keep_items=False, two_cores=True)
        assert pool._process is not None and pool._process.poll() is None      # the helper did reconcile
    finally:
        pool.shutdown()
    one = engine.reconcile_months(observations, list(SAMPLE_MONTHS), window=12, keep_items=False)
    assert list(both) == list(one) == sorted(SAMPLE_MONTHS)
    for month in SAMPLE_MONTHS:
        assert both[month].findings.equals(one[month].findings) and both[month].summary.equals(one[month].summary)
    assert sum(r.findings.height for r in both.values()) > 0          # the samples' planted errors are found
