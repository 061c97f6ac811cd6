"""Everything the month gives report writers, under `<warehouse>/exports/<YYYY-MM>/`.

- `DA06_<YYYY-MM>.xlsx`: the workbook (headline, districts, appendices II and III, discrepancies, completeness)
- `bao_cao_DA06_<YYYY-MM>.md`: the report draft in Vietnamese
- `tables/<table>.csv|.parquet`: each published table for the month
- `quality.json`: the expectation results; `<warehouse>/gx/data_docs/index.html`: their Data Docs
"""
from __future__ import annotations

import json
from pathlib import Path

import duckdb

from p06.publish import excel, files, quality, report, state
from p06.publish.atomic import atomic_write_text


def export_dir(warehouse_dir: Path, period: str) -> Path:
    return Path(warehouse_dir) / "exports" / files.check_period(period)


def _paths(out: Path, period: str) -> dict:
    return {"workbook": out / f"DA06_{period}.xlsx", "report": out / f"bao_cao_DA06_{period}.md",
            "tables_dir": out / "tables", "quality": out / "quality.json"}


def _write(con: duckdb.DuckDBPyConnection, period: str, out: Path) -> None:
    paths = _paths(out, period)
    excel.write_workbook(con, period, paths["workbook"])
    report.write_report(con, period, paths["report"])
    files.export_tables(con, period, paths["tables_dir"])


def _verdict(checked: quality.QualitySummary) -> str:
    stats = checked.statistics
    verdict = "passed" if checked.success else f"FAILED ({stats['unsuccessful_expectations']} failed)"
    return f"{verdict}: {stats['successful_expectations']}/{stats['evaluated_expectations']} met"


def export_periods(con: duckdb.DuckDBPyConnection, periods: list[str], warehouse_dir: Path,
                   force: bool = False) -> dict[str, dict]:
    """Validate the months' publications together (one Great Expectations validation per table for all of
    them, one Data Docs build), then write each month's workbook, report draft, CSV/Parquet files.

    A month whose published rows are those its exports were written from is left as it is (unless `force`).
    Returns per month {'workbook', 'report', 'data_docs', 'tables_dir', 'quality': Path to quality.json,
    'expectations': str, 'exported': 'written' | 'unchanged'}. A failed validation does not raise:
    'expectations' says "FAILED ...", quality.json has the details, and the month's other files are left as
    they were.
    """
    warehouse_dir = Path(warehouse_dir)
    done = state.stored(con, "exported_sha")
    digests = {p: state.content_sha(con, p) for p in periods}
    written = [p for p in sorted(periods) if force or done.get(p) != digests[p]
               or not _paths(export_dir(warehouse_dir, p), p)["workbook"].exists()]
    # Validated first: a publication that fails its checks replaces no workbook, report or table file (only
    # quality.json says why), as it replaces no analysts' copy.
    checked = quality.validate_publication(con, written, warehouse_dir) if written else None
    for period in written if checked is not None and checked.success else []:
        _write(con, period, export_dir(warehouse_dir, period))
    out = {}
    for period in sorted(periods):
        paths = _paths(export_dir(warehouse_dir, period), period)
        if checked is not None and period in written:
            summary = {**checked.as_dict(), "periods_validated_together": written}
            atomic_write_text(paths["quality"], json.dumps(summary, ensure_ascii=False, indent=2))
            if checked.success:      # a failed validation is done again by the next run, which must not skip it
                state.record(con, period, content_sha=digests[period], exported_sha=digests[period])
            expectations = _verdict(checked)
        else:
            expectations = _stored_verdict(paths["quality"])
        out[period] = {**paths, "data_docs": warehouse_dir / "gx" / "data_docs" / "index.html",
                       "expectations": expectations, "exported": "written" if period in written else "unchanged"}
    return out


def _stored_verdict(path: Path) -> str:
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
