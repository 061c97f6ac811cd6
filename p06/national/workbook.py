"""The national workbook of a month (`exports/<YYYY-MM>/DA06_toan_quoc_<YYYY-MM>.xlsx` beside the national
warehouse): the nation's figures with the provinces missing, every province's figures, the headline indicators'
ranking, and which province's copy (vintage, time, sha256) each month's figures come from.

It reads only the national marts (a document layer) and writes its sheets with the province workbook's own
code (p06.documents.excel: `Sheet`, `Col`, `_write_sheet`: headers, number formats, widths); wording comes from
catalog/national.yaml.
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from p06.documents.excel import Col, Sheet, _write_sheet
from p06.documents.xlsx import Book
from p06.national import provinces, texts
from p06.publish.indicator_catalog import load as indicator_catalog

FIGURES = (Col("indicator_code", "Mã chỉ tiêu"), Col("indicator_name_vi", "Chỉ tiêu"),
           Col("numerator", "Tử số", "count"), Col("denominator", "Mẫu số", "count"),
           Col("value", "Giá trị", "decimals"), Col("unit_vi", "Đơn vị tính"), Col("target", "Chỉ tiêu giao", "count"),
           Col("previous_value", "Tháng trước", "decimals"), Col("quality_vi", "Chất lượng số liệu"))


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


def _sheets(t: texts.NationalWorkbook) -> dict[str, Sheet]:
    return {
        "nation": Sheet(t.nation_sheet, "indicator_monthly", FIGURES + (
            Col("provinces_reporting", "Số tỉnh có số liệu", "count"),
            Col("provinces_expected", "Số tỉnh phải báo cáo", "count"),
            Col("missing_provinces", "Tỉnh chưa có số liệu"), Col("partial_provinces", "Tỉnh có số liệu chưa đủ"))),
        "provinces": Sheet(t.provinces_sheet, "indicator_monthly", (Col("unit_code", "Mã tỉnh"), Col("unit_name", "Tỉnh"))
                           + FIGURES + (Col("vintage", "Lần công bố của tỉnh"),)),
        "ranking": Sheet(t.ranking_sheet, "province_ranking", (
            Col("indicator_name_vi", "Chỉ tiêu"), Col("rank", "Xếp hạng"), Col("province_code", "Mã tỉnh"),
            Col("province_name", "Tỉnh"), Col("value", "Giá trị", "decimals"), Col("numerator", "Tử số", "count"),
            Col("denominator", "Mẫu số", "count"), Col("provinces_ranked", "Số tỉnh được xếp hạng", "count"))),
        "publications": Sheet(t.publications_sheet, "province_publications", (
            Col("province_code", "Mã tỉnh"), Col("province_name", "Tỉnh"), Col("status", "Tình trạng"),
            Col("vintage", "Lần công bố"), Col("published_at", "Thời điểm công bố", "datetime"),
            Col("received_at", "Thời điểm nhận", "datetime"), Col("copy_sha256", "Mã băm SHA-256 của bản gửi"))),
    }


def path(out_dir: Path, period: str) -> Path:
    """Where the month's national workbook is written."""
    return Path(out_dir) / "exports" / period / texts.load().workbook.file.format(period=period)


def write(con: duckdb.DuckDBPyConnection, period: str, out_dir: Path) -> Path:
    """Write the month's national workbook under out_dir/exports/<period>/; returns its path."""
    t = texts.load().workbook
    sheets = _sheets(t)
    codes = list(indicator_catalog().indicators)
    monthly = sorted(_rows(con, "SELECT * FROM marts.indicator_monthly WHERE period = ?", [period]),
                     key=lambda r: (codes.index(r["indicator_code"]), r["unit_code"]))
    for row in monthly:
        row["quality_vi"] = t.quality.get(row["quality"], row["quality"])
    nation = [r for r in monthly if r["unit_level"] == "nation"]
    held = {r["province_code"]: r for r in _rows(con, "SELECT * FROM marts.province_publications WHERE period = ?",
                                                  [period])}
    blank = dict.fromkeys(next(iter(held.values()), {}))
    publications = [{**blank, **held.get(u.unit_code, {}), "province_code": u.unit_code, "province_name": u.name_vi,
                     "status": t.received if u.unit_code in held else t.missing} for u in provinces.expected(period)]
    ranking = _rows(con, "SELECT r.*, m.decimals FROM marts.province_ranking r JOIN marts.indicator_monthly m "
                         "ON m.period = r.period AND m.indicator_code = r.indicator_code AND m.unit_level = 'province' "
                         "AND m.unit_code = r.province_code WHERE r.period = ? ORDER BY r.indicator_code, r.rank",
                    [period])
    book = Book()
    for key, rows in (("nation", nation), ("provinces", [r for r in monthly if r["unit_level"] == "province"]),
                      ("ranking", ranking), ("publications", publications)):
        ws = book.add_sheet(sheets[key].title)
        _write_sheet(ws, sheets[key], rows, [])          # printed: A4 across, every column on the page
        if key == "nation" and nation:
            reporting = max(r["provinces_reporting"] for r in nation)
            missing = {name for r in nation for name in (r["missing_provinces"] or "").split(", ") if name}
            lines = [t.nation_line.format(reporting=reporting, expected=nation[0]["provinces_expected"],
                                          period=f"{period[5:]}/{period[:4]}")]
            if missing:
                lines.append(t.partial_line.format(missing=", ".join(
                    u.name_vi for u in provinces.expected(period) if u.name_vi in missing)))
            ws.append([])
            for line in lines:
                ws.append([line], book.format(italic=True))
    return book.save(path(out_dir, period))
