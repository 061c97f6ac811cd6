"""Shared fixtures: a private copy of the sample landing zone and warehouses built from it."""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from p06 import config, warehouse
from p06.ingest.load import ingest_period

# The command line speaks Vietnamese by default (catalog/cli_messages.yaml); the tests written against its English
# output run in English, and tests of the Vietnamese default unset this (tests/test_report_word.py).
os.environ.setdefault("P06_LANG", "en")

SAMPLE_MONTHS = ("2023-08", "2023-09")
SAMPLE_RAW = next(p for p in (config.REPO_DIR / "raw", Path("/work/shared/samples/raw")) if (p / "2023-09").is_dir())


def copy_samples(dest: Path, months=SAMPLE_MONTHS) -> Path:
    """The sample month folders copied (with their modification times) under dest/raw."""
    raw = dest / "raw"
    for month in months:
        shutil.copytree(SAMPLE_RAW / month, raw / month)
    return raw


def sample_file(raw: Path, period: str, source: str) -> Path:
    """The one delivered file of a sample source-month."""
    (path,) = sorted((raw / period / source).iterdir())
    return path


def make_newer(path: Path, than: Path, seconds: int = 60) -> None:
    """Give `path` a modification time after `than`'s: it is then the later e-mail."""
    later = than.stat().st_mtime + seconds
    os.utime(path, (later, later))


def staging_rows(con, source: str, period: str) -> list[tuple]:
    return con.execute(
        "SELECT * FROM staging.observations WHERE source = ? AND period = ? ORDER BY sheet, cell, measure",
        [source, period]).fetchall()


@contextmanager
def landing_env(raw: Path, warehouse_dir: Path):
    """P06_RAW_DIR and P06_WAREHOUSE_DIR pointed at a test's landing zone and warehouse, restored after."""
    saved = {k: os.environ.get(k) for k in ("P06_RAW_DIR", "P06_WAREHOUSE_DIR")}
    os.environ["P06_RAW_DIR"], os.environ["P06_WAREHOUSE_DIR"] = str(raw), str(warehouse_dir)
    try:
        yield {"raw": raw, "warehouse": warehouse_dir}
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def sample_raw(tmp_path: Path) -> Path:
    """A private, writable copy of the sample landing zone (both months)."""
    return copy_samples(tmp_path)


@pytest.fixture(scope="session")
def loaded_samples(tmp_path_factory) -> dict:
    """A warehouse holding both sample months, loaded once for the session (treat as read-only)."""
    base = tmp_path_factory.mktemp("samples")
    raw = copy_samples(base)
    db = base / "w.duckdb"
    with warehouse.connect(db) as con:
        results = {period: ingest_period(con, raw, period) for period in SAMPLE_MONTHS}
    return {"raw": raw, "db": db, "results": results}


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory) -> dict:
    """`p06 run` (in process) over both sample months from an empty warehouse, once for the session: its landing
    zone, warehouse folder and exit code. Treat as read-only; `copy_sample_run` gives a module a copy to change."""
    from pipelines import cli
    base = tmp_path_factory.mktemp("sample_run")
    raw = copy_samples(base)
    with landing_env(raw, base / "warehouse") as env:
        code = cli.main(["run"])
    return {**env, "code": code}


def copy_sample_run(sample_run: dict, dest: Path) -> dict:
    """A private copy of the session's sample run (landing zone and warehouse folder, modification times kept):
    the next `p06 run` on it finds nothing changed, as it would on the original."""
    assert sample_run["code"] == 0
    raw, warehouse_dir = dest / "raw", dest / "warehouse"
    shutil.copytree(sample_run["raw"], raw)
    shutil.copytree(sample_run["warehouse"], warehouse_dir)
    return {"raw": raw, "warehouse": warehouse_dir}


ALL_SAMPLE_MONTHS = ("2023-08", "2023-09", "2025-06", "2025-07")
PERIOD_REPORTS = ("2023-Q3", "2023", "2025-Q2", "2025-Q3", "2025")


@pytest.fixture(scope="session")
def documents_of_the_samples(tmp_path_factory) -> dict:
    """The four sample months ingested, reconciled and published in process; each month's Markdown draft, Word
    report and workbook, and the reports of the quarters and years around them (PERIOD_REPORTS), under
    wh/exports/<label>/. Shared by the Word-report and printed-layout tests: read-only, but for a test that adds
    another period's report."""
    from p06.documents import excel, report, report_word
    from p06.documents.period_report import write_period_report
    from p06.publish import period_marts
    from p06.publish.marts import publish_periods
    from p06.reconcile.store import reconcile_period
    base = tmp_path_factory.mktemp("documents")
    raw = copy_samples(base, ALL_SAMPLE_MONTHS)
    wh = base / "wh"
    db = wh / "p06.duckdb"
    docs: dict[str, dict[str, Path]] = {}
    with warehouse.connect(db) as con:
        for month in ALL_SAMPLE_MONTHS:
            ingest_period(con, raw, month)
            reconcile_period(con, month)
        publish_periods(con, list(ALL_SAMPLE_MONTHS))
        period_marts.publish_period_aggregates(con, ALL_SAMPLE_MONTHS)
        for month in ALL_SAMPLE_MONTHS:
            out = wh / "exports" / month
            docs[month] = {"md": report.write_report(con, month, out / f"bao_cao_DA06_{month}.md"),
                           "word": report_word.write_word(con, month, out / f"bao_cao_DA06_{month}.docx"),
                           "book": excel.write_workbook(con, month, out / f"DA06_{month}.xlsx")}
        for label in PERIOD_REPORTS:
            written = write_period_report(con, label, wh)
            docs[label] = {"word": written["word"], "book": written["workbook"], "md": written["report"]}
    return {"raw": raw, "wh": wh, "db": db, "docs": docs}


@pytest.fixture
def samples_db(loaded_samples, tmp_path: Path) -> Path:
    """A writable copy of the loaded sample warehouse."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(loaded_samples["db"], db)
    return db


# Hypothesis profiles: `ci` (the default) runs a fixed, derandomized number of examples so the suite is
# repeatable and bounded; `deep` runs many more, by hand: HYPOTHESIS_PROFILE=deep pytest tests/test_layout_property.py
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("ci", max_examples=100, derandomize=True,
                          deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=2000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(session, config, items):
    """The public-corpus tests first: they fork a child per file from this process, and a pipeline run done here
    before (by the tests that call `p06 run` in process) leaves DuckDB and Dagster threads whose locks a forked
    child can inherit held and hang on (seen as every corpus check 'still running after 60 s')."""
    items.sort(key=lambda item: item.nodeid.split("::")[0] != "tests/test_corpus.py")
