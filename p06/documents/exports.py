"""Everything the month gives report writers, under `<warehouse>/exports/<YYYY-MM>/`.

- `DA06_<YYYY-MM>.xlsx`: the workbook (headline, districts, appendices II and III, discrepancies, completeness)
- `bao_cao_DA06_<YYYY-MM>.md`: the report draft in Vietnamese
- `bao_cao_DA06_<YYYY-MM>.docx`: the Word report (charts under `charts/`)
- `tables/<table>.csv|.parquet`: each published table for the month
- `quality.json`: the expectation results; `<warehouse>/gx/data_docs/index.html`: their Data Docs
- `dashboard.html`: the month's dashboard (p06.documents.dashboard), one self-contained page
"""
from __future__ import annotations

import json
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb

from p06.documents import dashboard, excel, export_worker, narrative, report, report_charts, report_word
from p06.publish import files, state, vintages
from p06.publish.atomic import atomic_write_text, durable_replace


def export_dir(warehouse_dir: Path, period: str) -> Path:
    return Path(warehouse_dir) / "exports" / files.check_period(period)


def _paths(out: Path, period: str) -> dict:
    return {"workbook": out / f"DA06_{period}.xlsx", "report": out / f"bao_cao_DA06_{period}.md",
            "word": out / f"bao_cao_DA06_{period}.docx",
            "tables_dir": out / "tables", "quality": out / "quality.json"}


def _write(con: duckdb.DuckDBPyConnection, period: str, out: Path) -> None:
    paths = _paths(out, period)
    excel.write_workbook(con, period, paths["workbook"])
    report.write_report(con, period, paths["report"])
    report_word.write_word(con, period, paths["word"])
    files.export_tables(con, period, paths["tables_dir"])
    dashboard.write_dashboard(con, period, out / dashboard.FILE_NAME)


def pending_dir(warehouse_dir: Path, period: str) -> Path:
    """Where a month's files are written before its publication passes its checks."""
    return Path(warehouse_dir) / "exports" / f".pending-{files.check_period(period)}"


def write_month(con: duckdb.DuckDBPyConnection, period: str, warehouse_dir: Path) -> None:
    """The month's workbook, report draft and table files, aside (`pending_dir`; no validation): for
    `export_worker` too."""
    pending = pending_dir(Path(warehouse_dir), period)
    shutil.rmtree(pending, ignore_errors=True)
    _write(con, period, pending)


def _settle(pending: Path, out: Path, keep: bool) -> None:
    """Move the month's files written aside into place (each file renamed over its old version), or drop them."""
    if keep and pending.is_dir():
        for path in sorted(p for p in pending.rglob("*") if p.is_file()):
            dest = out / path.relative_to(pending)
            dest.parent.mkdir(parents=True, exist_ok=True)
            durable_replace(path, dest)
    shutil.rmtree(pending, ignore_errors=True)


def _validating(con: duckdb.DuckDBPyConnection, periods: list[str], warehouse_dir: Path) -> list[Future]:
    """The months' validation started in the background, when a validation process (`gx_worker`) does it: this
    process then only waits for its answer, and writes the exports meanwhile. [] otherwise (validated after)."""
    from p06.publish import gx_worker, quality
    if not periods or not gx_worker.running():
        return []
    reader = con.cursor()                  # a connection of its own: the exports read `con` meanwhile
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="p06-validation")
    future = pool.submit(quality.validate_publication, reader, periods, warehouse_dir)
    future.add_done_callback(lambda _: (reader.close(), pool.shutdown(wait=False)))
    return [future]


def settle_month(warehouse_dir: Path, period: str) -> None:
    """Move a month's files written aside (`write_month`) into place."""
    _settle(pending_dir(Path(warehouse_dir), period), export_dir(Path(warehouse_dir), period), keep=True)


def _export_digest(con: duckdb.DuckDBPyConnection, period: str, latest: bool) -> str:
    """What the month's files are written from: its published rows and the writer's narrative files of the month
    (and the month before); for the latest month, also what its trend charts and dashboard show of the earlier
    months. An earlier month keeps the files it was published with when a month before it is corrected (its
    signed report stays as signed; the correction is in the corrected month's errata); the latest month, the
    one being written and looked at, is written again to show the correction."""
    own = f"{state.content_sha(con, period)};narrative:{narrative.digest(period)}"
    if not latest:
        return own
    t = report.load_templates()
    trend = report_charts.trend_digest(con, period, list(t["headline"]), int(t["chart_trend_months"]))
    return f"{own};trend:{trend};dashboard:{dashboard.digest(con, period)}"


def _own(digest: str | None) -> str | None:
    """The part of an export digest about the month itself (its rows and narrative)."""
    return ";".join(part for part in digest.split(";") if not part.startswith(("trend:", "dashboard:"))) if digest else None


def latest_month(con: duckdb.DuckDBPyConnection) -> str | None:
    """The last month with published indicators."""
    return con.execute("SELECT max(period) FROM marts.indicator_monthly").fetchall()[0][0]


def _verdict(checked) -> str:
    """'passed: 12/12 met' or 'FAILED (1 failed): 11/12 met', of a `quality.QualitySummary`."""
    stats = checked.statistics
    verdict = "passed" if checked.success else f"FAILED ({stats['unsuccessful_expectations']} failed)"
    return f"{verdict}: {stats['successful_expectations']}/{stats['evaluated_expectations']} met"


def export_periods(con: duckdb.DuckDBPyConnection, periods: list[str], warehouse_dir: Path,
                   force: bool = False) -> dict[str, dict]:
    """Write each month's workbook, reports and CSV/Parquet files aside while the months' publications are
    validated together (one Great Expectations validation per table for all of them, one Data Docs build), then
    move them into place if the validation passed.

    A month whose published rows are those its exports were written from is left as it is (unless `force`),
    except the latest month when what its charts show of the earlier months changed (`_export_digest`).
    Returns per month {'workbook', 'report', 'data_docs', 'tables_dir', 'quality': Path to quality.json,
    'expectations': str, 'exported': 'written' | 'unchanged'}. A failed validation does not raise:
    'expectations' says "FAILED ...", quality.json has the details, and the month's other files are left as
    they were.
    """
    from p06.publish import quality  # here, not above: the export worker process needs neither pandas nor the checks
    warehouse_dir = Path(warehouse_dir)
    done = state.stored(con, "exported_sha")
    latest = latest_month(con)
    digests = {p: _export_digest(con, p, latest=p == latest) for p in periods}
    written = [p for p in sorted(periods) if force or _own(done.get(p)) != _own(digests[p])
               or (p == latest and done.get(p) != digests[p])
               or not _paths(export_dir(warehouse_dir, p), p)["workbook"].exists()]
    # Written aside while the months are validated; only a publication that passes its checks replaces the
    # month's workbook, report and table files (quality.json says why otherwise), as it replaces no analysts' copy.
    validation: list[Future] = []

    def start_validation() -> None:        # validated while the files are written, when a process does it
        validation.extend(_validating(con, written, warehouse_dir))

    # A second process writes months too once the validation process has answered (the second core is then free)
    export_worker.write_months(con, written, warehouse_dir, lambda c, p: write_month(c, p, warehouse_dir),
                               start_validation, ready=lambda: all(f.done() for f in validation))
    checked = (validation[0].result() if validation
               else quality.validate_publication(con, written, warehouse_dir) if written else None)
    for period in written:
        _settle(pending_dir(warehouse_dir, period), export_dir(warehouse_dir, period),
                keep=checked is not None and checked.success)
    if checked is not None:                               # a publication that failed its checks is no vintage
        (vintages.mark_checked if checked.success else vintages.withdraw_unchecked)(con, written)
    out = {}
    for period in sorted(periods):
        paths = _paths(export_dir(warehouse_dir, period), period)
        if checked is not None and period in written:
            summary = {**checked.as_dict(), "periods_validated_together": written}
            atomic_write_text(paths["quality"], json.dumps(summary, ensure_ascii=False, indent=2))
            if checked.success:      # a failed validation is done again by the next run, which must not skip it
                state.record(con, period, content_sha=digests[period].split(";narrative:")[0], exported_sha=digests[period])
            expectations = _verdict(checked)
        else:
            expectations = _stored_verdict(paths["quality"])
        out[period] = {**paths, "data_docs": warehouse_dir / "gx" / "data_docs" / "index.html",
                       "expectations": expectations, "exported": "written" if period in written else "unchanged"}
    return out


def _stored_verdict(path: Path) -> str:
    from p06.publish import quality
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "not validated"
    return _verdict(quality.QualitySummary(success=stored["success"], statistics=stored["statistics"]))


def export_period(con: duckdb.DuckDBPyConnection, period: str, warehouse_dir: Path) -> dict:
    """One month's exports, written again whatever was written before (see `export_periods`)."""
    result = export_periods(con, [period], warehouse_dir, force=True)[period]
    result.pop("exported")
    return result
