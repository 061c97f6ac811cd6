"""What the month's workbook says about its vintage: a line under the headline sheet's table, and a sheet
listing the errata of this vintage (the figures it changed since the previous one, and why).

Wordings come from catalog/publication_texts.yaml (p06.publish.vintages.texts).
"""
from __future__ import annotations

import duckdb

from p06.documents.xlsx import Book
from p06.publish import vintages
from p06.publish.indicator_catalog import load


def _errata_sheet():
    from p06.documents.excel import Col, Sheet  # excel imports this module
    return Sheet(vintages.texts().errata_sheet, "errata", (
        Col("table_vi", "Bảng số liệu"), Col("unit_level", "Cấp", "label"), Col("unit_code", "Mã đơn vị"),
        Col("unit_name", "Đơn vị"), Col("indicator_code", "Mã chỉ tiêu, dịch vụ, nguồn"),
        Col("indicator_name_vi", "Chỉ tiêu, dịch vụ, đơn vị gửi"), Col("figure_vi", "Số liệu"),
        Col("old_value", "Số đã công bố lần trước", "decimals"), Col("new_value", "Số đính chính", "decimals"),
        Col("difference", "Chênh lệch", "decimals"), Col("cause_vi", "Nguyên nhân"),
        Col("file", "Tệp gửi lại"), Col("sha256", "Mã băm SHA-256 của tệp")))


def _decimals(row: dict, indicators: dict, services_decimals: int) -> int:
    """A ratio's or a value's decimals as published; a count's none (a finding's figures: 2 unless whole)."""
    if row["published_table"] == vintages.FINDINGS_TABLE.split(".")[1]:
        return 0 if all(v is None or float(v).is_integer() for v in (row["old_value"], row["new_value"])) else 2
    if row["figure"] in ("value", "previous_value"):
        indicator = indicators.get(row["indicator_code"])
        return indicator.decimals if indicator else 2
    return services_decimals if row["figure"] == "online_ratio" else 0


def _rows(con: duckdb.DuckDBPyConnection, period: str, vintage: int) -> list[dict]:
    """Every figure the vintage changed (counts and ratios, of every published table; findings last), old and
    new, and why; a text figure (a source's status, a service's connection, a finding's severity) shows its old
    and new text, in Vietnamese where the workbook has a label for it."""
    from p06.documents.excel import LABELS_VI  # excel imports this module
    t, catalog = vintages.texts(), load()
    rows = []
    for row in vintages.errata_rows(con, period, vintage):
        text = row.get("old_text") is not None or row.get("new_text") is not None
        old, new = ((LABELS_VI.get(row["old_text"], row["old_text"]), LABELS_VI.get(row["new_text"], row["new_text"]))
                    if text else (row["old_value"], row["new_value"]))
        rows.append({**row, "old_value": old, "new_value": new, "cause_vi": t.causes[row["cause"]],
                     "table_vi": t.tables.get(row["published_table"], row["published_table"]),
                     "figure_vi": t.figures.get(row["figure"], row["figure"]),
                     "decimals": _decimals(row, catalog.indicators, catalog.public_services.online_ratio.decimals),
                     "difference": new - old if not text and old is not None and new is not None else None})
    return rows


def add(book: Book, con: duckdb.DuckDBPyConnection, period: str) -> None:
    """Write the vintage line under the first (headline) sheet's table and add the errata sheet."""
    from p06.documents.excel import _write_sheet
    info = vintages.current(con, period)
    if info is None or not book.sheets:
        return
    headline = book.sheets[0]
    headline.append([])
    headline.append([vintages.workbook_line(con, period)], book.format(italic=True))
    sheet = _errata_sheet()
    ws = book.add_sheet(sheet.title)
    rows = _rows(con, period, info["vintage"])
    _write_sheet(ws, sheet, rows, list(load().indicators))
    if not rows:
        ws.append([])
        ws.append([vintages.texts().errata_none if info["previous_vintage"] else vintages.texts().errata_first])
