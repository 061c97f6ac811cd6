"""The month's workbook for report writers: Vietnamese headers, real numbers, number formats.

Cells hold numbers (never text), formatted '#,##0' / '#,##0.00' (a figure with its indicator's decimals) or
'0.00%' (a stated ratio, kept as a fraction): Excel shows them with the reader's locale separators (3.079.271
and 96,20 in Vietnamese). Each sheet shows chosen columns of one published table under Vietnamese headers;
codes (quality, status, level) are shown as Vietnamese words. There is one appendix sheet per appendix
declared in catalog/indicators.yaml.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Callable

import duckdb
import yaml

from p06 import catalog, config
from p06.documents import discrepancies, workbook_vintage, xlsx
from p06.publish.files import read_table
from p06.publish.indicator_catalog import Appendix, load

COUNT_FORMAT = "#,##0"
PERCENT_FORMAT = "0.00%"
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
LABELS_VI = {"ok": "Đạt", "warning": "Cảnh báo", "error": "Lỗi",
             "delivered": "Đã nhận", "missing": "Chưa nhận", "withdrawn": "Đã rút lại",
             "province": "Cấp tỉnh", "old_province": "Tỉnh cũ", "district": "Cấp huyện", "commune": "Cấp xã", "tax_office": "Chi cục Thuế",
             "tax_unit": "Thuế cơ sở", "service": "Dịch vụ công", "partial": "Thiếu số liệu một số đơn vị",
             "units": "Cộng từ các đơn vị", "unit_row": "Số liệu của đơn vị", "total_row": "Dòng tổng của đơn vị gửi",
             "open": "Chưa xử lý", "accepted": "Đã xác nhận đúng", "resolved": "Đã khắc phục"}
# XlsxWriter format properties
HEADER = {"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "vcenter"}
WRAP = {"text_wrap": True, "valign": "top"}
TOP = {"valign": "top"}                    # a row's other cells beside a wrapped one: at its first line, not its last
MAX_WIDTH = 60


@dataclass(frozen=True)
class Col:
    name: str                   # column of the published table (or added by _with_labels)
    header: str                 # Vietnamese header
    kind: str = "text"          # text | label | count | decimals (the row's) | figure (a finding's) | date | datetime


@dataclass(frozen=True)
class Sheet:
    title: str
    table: str
    columns: tuple[Col, ...]
    keep: Callable[[dict], bool] = lambda row: True
    order: tuple[str, ...] = ()


INDICATOR_COLUMNS = (
    Col("indicator_code", "Mã chỉ tiêu"), Col("indicator_name_vi", "Chỉ tiêu"),
    Col("numerator", "Tử số", "count"), Col("denominator", "Mẫu số", "count"),
    Col("value", "Giá trị", "decimals"), Col("unit_vi", "Đơn vị tính"),
    Col("target", "Chỉ tiêu giao", "count"),
    Col("previous_value", "Tháng trước", "decimals"), Col("change", "Tăng/giảm so với tháng trước", "decimals"),
    Col("quality", "Chất lượng số liệu", "label"),
)
SERVICE_COLUMNS = (
    Col("service_no", "STT"), Col("service_code", "Mã dịch vụ"), Col("service_name", "Dịch vụ công trực tuyến"),
    Col("connected", "Kết nối với Cổng DVC quốc gia"),
    Col("dossiers_total", "Tổng hồ sơ", "count"), Col("dossiers_online", "Trực tuyến", "count"),
    Col("online_ratio", "Tỷ lệ trực tuyến (%)", "decimals"),
    Col("on_time", "Đúng hạn", "count"), Col("overdue", "Quá hạn", "count"),
    Col("difficulties", "Khó khăn, vướng mắc"), Col("quality", "Chất lượng số liệu", "label"),
)


def appendix_sheet(appendix: Appendix) -> Sheet:
    """An appendix of the report; its services' departments ("Sở, ngành") in a column when it groups them."""
    department = (Col("group_label", "Sở, ngành"),) if appendix.by_department else ()
    return Sheet(f"Phụ lục {appendix.numeral}", "public_services_monthly",
                 SERVICE_COLUMNS[:3] + department + SERVICE_COLUMNS[3:],
                 keep=lambda r: r.get("appendix") == appendix.numeral, order=("service_order",))


def sheets() -> tuple[Sheet, ...]:
    """The workbook's sheets, in order."""
    return (
        Sheet("Chỉ tiêu chính", "indicator_monthly",
              (Col("group_vi", "Nhóm tiện ích"),) + INDICATOR_COLUMNS
              + (Col("units_reporting", "Số đơn vị có số liệu", "count"), Col("units_expected", "Số đơn vị phải báo cáo", "count"),
                 Col("basis", "Cách tính", "label"),
                 Col("as_of_date", "Số liệu đến ngày", "date")),
              keep=lambda r: r.get("unit_level") == "province", order=("indicator_order",)),
        Sheet("Theo đơn vị", "indicator_monthly",
              (Col("unit_level", "Cấp", "label"), Col("unit_code", "Mã đơn vị"), Col("unit_name", "Đơn vị")) + INDICATOR_COLUMNS,
              keep=lambda r: r.get("unit_level") not in ("province", "service"),
              order=("indicator_order", "unit_level", "unit_code")),
        *(appendix_sheet(a) for a in load().public_services.appendices),
        Sheet("Sai lệch cần phản hồi", "reconciliation_findings",
              (Col("severity", "Mức độ", "label"), Col("department_vi", "Đơn vị gửi"),
               Col("unit_code", "Mã đơn vị"), Col("unit_name", "Đơn vị"), Col("rule_vi", "Quy tắc"),
               Col("measure_vi", "Số liệu"), Col("message_vi", "Nội dung"), Col("actual", "Số báo cáo", "figure"),
               Col("expected", "Số tính lại", "figure"), Col("difference", "Chênh lệch", "figure"),
               Col("file", "Tệp"), Col("sheet", "Trang tính"), Col("cell", "Ô"),
               Col("status", "Tình trạng", "label"), Col("first_seen", "Phát hiện lần đầu", "datetime"),
               Col("finding_key", "Mã sai lệch"), Col("rule_id", "Mã quy tắc")),
              keep=lambda r: r.get("status") != "accepted",      # a confirmed figure is not sent back again
              order=("severity_rank", "source", "unit_code", "rule_id")),
        Sheet("Tình trạng nộp số liệu", "source_completeness",
              (Col("department_vi", "Đơn vị gửi"), Col("status", "Tình trạng", "label"),
               Col("file", "Tệp"), Col("as_of_date", "Số liệu đến ngày", "date"),
               Col("received_at", "Thời điểm nhận", "datetime"),
               Col("units_expected", "Số đơn vị phải báo cáo", "count"),
               Col("units_present", "Số đơn vị đã báo cáo", "count"),
               Col("missing_units", "Đơn vị chưa báo cáo"), Col("unexpected_units", "Đơn vị ngoài danh mục"),
               Col("province_total_only", "Chỉ có dòng tổng", "label"),
               Col("rejected_deliveries", "Số tệp bị từ chối", "count"), Col("rejection_messages", "Lý do từ chối"),
               Col("error_count", "Số lỗi", "count"), Col("warning_count", "Số cảnh báo", "count")),
              order=("source",)),
    )


def _plain(value: Any) -> Any:
    """A value stored as a number/date cell: Decimal -> float, whole floats of counts -> int."""
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, float) and value != value:   # NaN
        return None
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return value


def _decimal_format(decimals: int) -> str:
    return COUNT_FORMAT + ("." + "0" * decimals if decimals > 0 else "")


def _cell(value: Any, kind: str) -> Any:
    """A cell's value from a plain value (_plain)."""
    if kind == "label" and isinstance(value, str):
        return LABELS_VI.get(value, value)
    if kind == "count" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _row_order(sheet: Sheet, codes: list[str]) -> Callable[[dict], tuple]:
    severity = {"error": 0, "warning": 1}
    index = {code: i for i, code in reversed(list(enumerate(codes)))}

    def key(row: dict) -> tuple:
        parts = []
        for name in sheet.order:
            if name == "indicator_order":
                code = str(row.get("indicator_code"))
                parts.append((index.get(code, len(codes)), code))
            elif name == "severity_rank":
                parts.append((severity.get(row.get("severity"), 2), ""))
            elif name == "service_order":
                code = str(row.get("service_code") or "")
                number = row.get("service_no")
                parts.append((code.rpartition("-")[0], number if isinstance(number, int) else 0, code))
            else:
                parts.append((0, "" if row.get(name) is None else str(row.get(name))))
        return tuple(parts)
    return key


def _format(col: Col, row: dict) -> str | None:
    """The number format of a column's cell in a row (None: General)."""
    if col.kind == "count":
        return COUNT_FORMAT
    if col.kind == "decimals":
        return _decimal_format(row["decimals"])
    if col.kind == "figure":                    # a finding's figure: a count, or a ratio as a fraction
        return PERCENT_FORMAT if row.get("measure_kind") == "ratio" else COUNT_FORMAT
    return {"date": DATE_FORMAT, "datetime": DATETIME_FORMAT}.get(col.kind)


def _write_sheet(ws: xlsx.Sheet, sheet: Sheet, rows: list[dict], codes: list[str]) -> None:
    book = ws.book
    columns = [col for col in sheet.columns if not rows or col.name in rows[0]]
    ws.append([col.header for col in columns], book.format(**HEADER))
    ordered = sorted(rows, key=_row_order(sheet, codes))
    values = [[_plain(row.get(col.name)) for col in columns] for row in ordered]
    wrapped, widths = [], []
    for index, col in enumerate(columns):
        longest = max([len(word) for word in col.header.split()] + [len(_shown(v[index])) for v in values] + [8])
        widths.append(min(longest + 2, MAX_WIDTH))
        ws.width(index, index, widths[-1])
        wrapped.append(longest + 2 > MAX_WIDTH)         # long texts (messages, service names) wrap
    styles: dict[tuple, Any] = {}

    def style(fmt: str | None, wrap: bool, tall: bool):
        if (fmt, wrap, tall) not in styles:             # a one-line row needs no alignment
            styles[fmt, wrap, tall] = book.format(num_format=fmt, **(WRAP if wrap else TOP if tall else {}))
        return styles[fmt, wrap, tall]

    fit_rows(ws, 0, [col.header for col in columns], widths, bold=True)
    for row, plain in zip(ordered, values):
        lines = fit_rows(ws, ws.rows, [_shown(v) if wrap else "" for v, wrap in zip(plain, wrapped)], widths) \
            if any(wrapped) else 1
        ws.append([_cell(value, col.kind) for value, col in zip(plain, columns)],
                  [style(_format(col, row), wrap, lines > 1) for col, wrap in zip(columns, wrapped)])
    ws.ws.freeze_panes(1, 0)
    if columns:
        ws.ws.autofilter(0, 0, max(ws.rows, 1) - 1, len(columns) - 1)
    print_setup(ws, ws.area(len(columns)), title_rows=1)


LINE_HEIGHT = 15.0          # points: one line of 11-pt text, as Excel sizes a row


def wrapped_lines(text: str, width: float, bold: bool = False) -> int:
    """How many lines a wrapped cell's text takes in a column `width` characters wide (words kept whole; bold
    text about a fifth wider)."""
    room = max(1.0, (width - 1.5) / (1.2 if bold else 1.0))
    lines, used = 1, 0
    for word in str(text).split():
        if used and used + 1 + len(word) > room:
            lines, used = lines + 1, 0
        while len(word) > room:                      # a word longer than the line (a file's SHA-256) is cut
            lines, word = lines + 1, word[int(room):]
        used += (1 if used else 0) + len(word)
    return lines + sum(1 for _ in str(text).strip().split("\n")[1:])


def fit_rows(ws: xlsx.Sheet, row: int, texts: list[str], widths: list[float], bold: bool = False) -> int:
    """Give a row (0-based) the height its wrapped texts need (Excel grows a row on opening, LibreOffice and its
    printed pages do not, and the text then runs over the row below); returns its lines."""
    lines = max([wrapped_lines(t, w, bold) for t, w in zip(texts, widths) if t] + [1])
    if lines > 1:
        ws.height(row, LINE_HEIGHT * lines)
    return lines


def print_setup(ws: xlsx.Sheet, area: str, title_rows: int = 0, fit_width: bool = True) -> None:
    """An analyst's sheet as printed: its used range only, A4 landscape, its first `title_rows` rows (the
    header) on every page, the columns fitted to the page width (pages follow down)."""
    ws.print_a4_landscape(area)
    if title_rows:
        ws.ws.repeat_rows(0, title_rows - 1)
    if fit_width:
        ws.ws.fit_to_pages(1, 0)


def _shown(value: Any) -> str:
    """A plain value (_plain) about as wide as Excel shows it."""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (dt.date, dt.datetime)):
        return "00/00/0000"
    return "" if value is None else str(value)


@cache
def _rule_names() -> dict[str, str]:
    """Each rule's description in Vietnamese (checks/rules.yaml, read as the declaration it is): the sheet of
    discrepancies names rules in words."""
    data = yaml.safe_load((config.CHECKS_DIR / "rules.yaml").read_text(encoding="utf-8")) or {}
    return {r["id"]: r.get("description_vi") or r["id"] for r in data.get("rules", []) if "id" in r}


def _with_labels(table: str, row: dict) -> dict:
    """Add what a reader needs and the table leaves implicit: group title, decimals, department, measure."""
    row = dict(row)
    cat = load()
    if table == "indicator_monthly":
        row["group_vi"] = cat.groups[row["utility_group"]]["name_vi"]
    if table == "public_services_monthly":
        row["decimals"] = cat.public_services.online_ratio.decimals
    if table == "reconciliation_findings":
        source = catalog.sources().get(str(row.get("source")))
        measure = next((m for m in source.measures if m.id == row.get("measure")), None) if source else None
        row.setdefault("department_vi", source.department_vi if source else None)
        row["measure_vi"] = measure.label_vi if measure else row.get("measure")
        row["rule_vi"] = _rule_names().get(str(row.get("rule_id")), row.get("rule_id"))
        row["measure_kind"] = measure.kind if measure else None
    if table == "source_completeness":
        source = catalog.sources().get(str(row.get("source")))
        row.setdefault("department_vi", source.department_vi if source else row.get("source"))
    return row


def write_workbook(con: duckdb.DuckDBPyConnection, period: str, path: Path) -> Path:
    """Write the month's workbook to `path` (written aside, then renamed); returns `path`."""
    from p06.documents import excel_report_sheets  # imports this module
    codes = list(load().indicators)
    book = xlsx.Book()
    tables: dict[str, list[dict]] = {}
    for sheet in sheets():
        if sheet.table not in tables:
            tables[sheet.table] = [_with_labels(sheet.table, r) for r in read_table(con, sheet.table, period)]
            if sheet.table == "reconciliation_findings":       # status and first seen, from the findings register
                tables[sheet.table] = discrepancies.with_status(con, tables[sheet.table])
        rows = [r for r in tables[sheet.table] if sheet.keep(r)]
        _write_sheet(book.add_sheet(sheet.title), sheet, rows, codes)
    workbook_vintage.add(book, con, period)         # the vintage under the headline table; the errata sheet
    excel_report_sheets.add_sheets(book, con, period)        # report-shaped tables by group, charts (issue 11)
    return book.save(path)
