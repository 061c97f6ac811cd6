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

from p06.publish import excel, files, quality, report


def export_dir(warehouse_dir: Path, period: str) -> Path:
    return Path(warehouse_dir) / "exports" / files.check_period(period)


def export_period(con: duckdb.DuckDBPyConnection, period: str, warehouse_dir: Path) -> dict:
    """Write the month's workbook, report draft, CSV/Parquet files; validate the publication.

    Returns {'workbook', 'report', 'data_docs', 'tables_dir', 'quality': Path to quality.json, 'expectations': str}.
    A failed validation does not raise: 'expectations' says "FAILED ..." and quality.json has the details.
    """
    out = export_dir(warehouse_dir, period)
    workbook = excel.write_workbook(con, period, out / f"DA06_{period}.xlsx")
    draft = report.write_report(con, period, out / f"bao_cao_DA06_{period}.md")
    files.export_tables(con, period, out / "tables")
    checked = quality.validate_publication(con, period, Path(warehouse_dir))
    summary_path = out / "quality.json"
    summary_path.write_text(json.dumps(checked.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    stats = checked.statistics
    verdict = "passed" if checked.success else f"FAILED ({stats['unsuccessful_expectations']} failed)"
    return {
        "workbook": workbook,
        "report": draft,
        "data_docs": checked.data_docs_index,
        "tables_dir": out / "tables",
        "quality": summary_path,
        "expectations": f"{verdict}: {stats['successful_expectations']}/{stats['evaluated_expectations']} met",
    }

