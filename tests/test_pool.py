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



def test_answers_come_back_in_order_whatever_the_number_of_jobs():
    try:
        for n in (2, 3, 4, 7):
            jobs = [(i, 100) for i in range(n)]
            assert list(pool.in_pairs("operator:add", jobs)) == [i + 100 for i in range(n)]
    finally:
        pool.shutdown()


def test_a_caller_stopping_early_leaves_no_answer_for_the_next():
    """The helper is a job ahead: when the caller stops, that job's answer is read and dropped, not handed to
    the next caller as its own."""
    try:
        answers = pool.in_pairs("operator:add", [(i, 100) for i in range(9)])
        assert [next(answers) for _ in range(3)] == [100, 101, 102]
        answers.close()
        assert list(pool.in_pairs("operator:mul", [(i, 10) for i in range(5)])) == [0, 10, 20, 30, 40]
    finally:
        pool.shutdown()


def test_a_failing_job_is_reported_in_its_turn_and_the_helper_answers_the_next_caller():
    """A job failing here raises its own error; failing in the helper, HelperFailed naming it. Either way the
    answers before it come first, and the helper serves the next caller."""
    try:
        for failing in range(4):                         # whichever process reads the failing job
            jobs = [(1, 0) if i == failing else (2 * (i + 1), 2) for i in range(4)]
            answers = pool.in_pairs("operator:truediv", jobs)
            assert [next(answers) for _ in range(failing)] == [i + 1 for i in range(failing)]
            try:
                next(answers)
            except ZeroDivisionError:
                pass
            except pool.HelperFailed as exc:
                assert "ZeroDivisionError" in str(exc) and f"job {failing + 1} " in str(exc)
            else:
                raise AssertionError("the failure was not reported")
            answers.close()
            assert list(pool.in_pairs("operator:add", [(1, 1), (2, 2), (3, 3)])) == [2, 4, 6]
    finally:
        pool.shutdown()


def test_the_work_is_shared_by_speed(monkeypatch):
    """The helper is never left waiting for the caller: with reading as slow here as there and the caller's own
    work between answers, the helper reads about half of the jobs or more."""
    import os
    pids = [pid for pid in pool.in_pairs("p06.pool:_pid_after", [(0.05,)] * 12)]
    pool.shutdown()
    helper_share = sum(1 for pid in pids if pid != os.getpid()) / len(pids)
    assert helper_share >= 0.4, pids
