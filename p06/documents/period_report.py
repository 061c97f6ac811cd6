"""`p06 report --period P`: the report of any period, under `<warehouse>/exports/<label>/`.

A month (2023-09) is rendered from its published tables; a quarter (2023-Q3), half-year (2023-H1), nine months
(2023-9M) or year (2023) first rebuilds marts.indicator_period for it, the previous period of its kind and the
same period a year earlier (what its comparisons read), then renders. Writes `bao_cao_DA06_<label>.docx` (with
its charts under `charts/`), the Markdown draft `bao_cao_DA06_<label>.md`, and for a longer period the workbook
`DA06_<label>.xlsx` of its report-shaped sheets and charts (a month's workbook is written by `p06 run`).
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from p06 import report_periods
from p06.documents import excel_report_sheets, report, report_word
from p06.publish import period_marts


class NothingPublished(LookupError):
    """No month of the period is published."""


def write_period_report(con: duckdb.DuckDBPyConnection, label: str, warehouse_dir: Path) -> dict[str, Path]:
    rp = report_periods.parse(label)
    if rp.kind != "month":
        period_marts.ensure_periods(con, [rp.label, rp.previous().label, rp.year_earlier().label])
    draft = report.Draft(con, rp.label)
    if not draft.months_present or not draft.rows:
        raise NothingPublished(f"no month of {rp.label} ({rp.first_month} to {rp.last_month}) is published: "
                               f"run `p06 run --period YYYY-MM` first")
    out = Path(warehouse_dir) / "exports" / rp.label
    md = report.write_text(out / f"bao_cao_DA06_{rp.label}.md", draft.markdown())
    word = report_word.render(con, rp.label, out / f"bao_cao_DA06_{rp.label}.docx", draft=draft)
    result = {"word": word, "report": md, "months_present": draft.months_present, "months_missing": draft.months_missing}
    if rp.kind != "month":          # a month's workbook is the run's
        result["workbook"] = out / f"DA06_{rp.label}.xlsx"
        excel_report_sheets.write_period_workbook(con, rp.label, result["workbook"])
    return result
