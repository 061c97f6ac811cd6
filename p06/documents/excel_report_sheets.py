"""Sheets of the month's workbook in the report's shape, and native Excel charts.

- One sheet per utility group and unit level ("Bảng nhóm 4", "Bảng nhóm 4 - Chi cục Thuế" when a group has
  several): units as rows under the province row, the group's indicators as columns (numerator, denominator and
  rate for a ratio; the count for a count), ready to print: A4 landscape, fitted to the page width, the header
  rows repeated on every page.
- "Biểu đồ": for each headline indicator (catalog/report_templates.yaml `headline`) the province over the months
  available and the units ranked by value (lowest first), each a small table with its chart beside it.
The long "Theo đơn vị" sheet (p06/publish/excel.py) stays for analysts.
"""
from __future__ import annotations

import duckdb

from p06 import report_periods
from p06.documents import report_charts
from p06.documents.excel import COUNT_FORMAT, HEADER, LABELS_VI, _decimal_format, fit_rows
from p06.documents.report import load_templates, period_text
from p06.documents.xlsx import Book
from p06.publish import period_marts
from p06.publish.files import read_table
from p06.publish.indicator_catalog import Indicator, load

BOXED_HEADER = {**HEADER, "border": 1, "border_color": "#999999", "align": "center"}
CM_PIXELS = 96 / 2.54         # a chart's size on screen
LEVEL_ORDER = ("old_province", "district", "commune", "tax_office", "tax_unit")


def _columns(ind: Indicator) -> list[tuple[str, str, str]]:
    """(row key, sub-header, number format) of an indicator's columns."""
    value = ("value", f"Tỷ lệ ({ind.unit_vi})" if ind.unit_vi == "%" else f"Giá trị ({ind.unit_vi})",
             _decimal_format(ind.decimals))
    if not ind.is_ratio:
        return [("value", f"Số lượng ({ind.unit_vi})", COUNT_FORMAT)]
    denominator = "Chỉ tiêu giao" if ind.may_exceed_factor else "Mẫu số"
    return [("numerator", "Tử số", COUNT_FORMAT), ("denominator", denominator, COUNT_FORMAT), value]


PRINT_SCALE = 90              # 11 pt cells print at 9.9 pt
PAGE_WIDTH_CHARS = 105        # column-width units across A4 landscape within 0.4" margins at 100 %, as LibreOffice prints them


def _column_breaks(spans: list) -> list[int]:
    """The columns after which a printed page ends: between whole indicators, as many as fit the page at
    PRINT_SCALE beside the repeated unit columns (A, B)."""
    room = PAGE_WIDTH_CHARS * 100 / PRINT_SCALE - (5 + 26)
    breaks, used, col = [], 0.0, 3
    for _, cols in spans:
        width = 13 * len(cols)
        if used and used + width > room:
            breaks.append(col - 1)
            used = 0.0
        used += width
        col += len(cols)
    return breaks


def _group_sheet(book: Book, title: str, heading: str, inds: list[Indicator], province: dict, units: list[dict]) -> None:
    ws = book.add_sheet(title)
    spans = [(ind, _columns(ind)) for ind in inds]
    last_col = 2 + sum(len(cols) for _, cols in spans)
    breaks = _column_breaks(spans)
    header = book.format(**BOXED_HEADER)
    # the heading over the first printed page's columns only: merged across every column it would print in
    # fragments on pages of its own
    ws.ws.merge_range(0, 0, 0, (breaks[0] if breaks else last_col) - 1, heading, book.format(bold=True, font_size=13))
    for col, text in ((0, "STT"), (1, "Đơn vị")):
        ws.ws.merge_range(1, col, 2, col, text, header)
    col = 2
    for ind, cols in spans:
        if len(cols) > 1:
            ws.ws.merge_range(1, col, 1, col + len(cols) - 1, ind.name_vi, header)
        else:
            ws.put(1, col, ind.name_vi, header)
        for offset, (_, sub_header, _) in enumerate(cols):
            ws.put(2, col + offset, sub_header, header)
        col += len(cols)
    ws.rows = 3
    # the headers' rows as high as their wrapped names need (an indicator's name over its columns)
    fit_rows(ws, 1, [ind.name_vi for ind, _ in spans], [13 * len(cols) for _, cols in spans], bold=True)
    fit_rows(ws, 2, [header for _, cols in spans for _, header, _ in cols], [13] * (last_col - 2), bold=True)
    formats = [None, None] + [fmt for _, cols in spans for _, _, fmt in cols]
    plain = [book.format(num_format=fmt) for fmt in formats]
    bold = [book.format(num_format=fmt, bold=True) for fmt in formats]
    rows = [("", province.get("name"), province, True)] + [(i, u["name"], u, False) for i, u in enumerate(units, start=1)]
    for number, name, figures, is_bold in rows:
        values = [number or None, name] + [(figures.get(ind.code) or {}).get(key) for ind, cols in spans for key, _, _ in cols]
        ws.append(values, bold if is_bold else plain)
    ws.width(0, 0, 5)
    ws.width(1, 1, 26)
    ws.width(2, last_col - 1, 13)
    ws.ws.freeze_panes(3, 2)
    ws.ws.repeat_rows(1, 2)
    ws.ws.repeat_columns(0, 1)                        # the units on every page
    ws.ws.hide_gridlines(0)                           # printed cell borders (a border per cell costs 1 s a commune month)
    ws.print_a4_landscape(ws.area(last_col))
    # Legible, not fitted to one page width: at PRINT_SCALE the text is 10 pt; the indicators split across pages
    # between whole indicators, as many as fit the page beside the repeated unit columns.
    ws.ws.set_print_scale(PRINT_SCALE)
    ws.ws.set_v_pagebreaks(breaks)


def add_group_sheets(book: Book, con: duckdb.DuckDBPyConnection, period: str) -> None:
    """The report-shaped sheets of a month (marts.indicator_monthly) or a longer period (marts.indicator_period)."""
    cat = load()
    rp = report_periods.parse(period)
    rows = read_table(con, "indicator_monthly", period) if rp.kind == "month" else period_marts.read_period(con, rp.label)
    province = {r["indicator_code"]: r for r in rows if r["unit_level"] == "province"}
    province_name = next((r["unit_name"] for r in rows if r["unit_level"] == "province"), "")
    month, _ = period_text(rp, load_templates())
    by_level: dict[str, list[dict]] = {}
    for r in rows:
        by_level.setdefault(r["unit_level"], []).append(r)
    present = {(r["unit_level"], r["indicator_code"]) for r in rows}
    for group, names in sorted(cat.groups.items()):
        inds = [i for i in cat.indicators.values() if i.group == group]
        levels = [lv for lv in LEVEL_ORDER if any((lv, i.code) in present for i in inds)]
        for level in levels:
            shown = [i for i in inds if (level, i.code) in present]
            codes = {i.code for i in shown}
            units: dict[str, dict] = {}
            for r in sorted(by_level[level], key=lambda r: str(r["unit_code"])):
                if r["indicator_code"] in codes:
                    units.setdefault(r["unit_code"], {"name": r["unit_name"]})[r["indicator_code"]] = r
            label = LABELS_VI.get(level, level)
            title = f"Bảng nhóm {group}" + (f" - {label}" if len(levels) > 1 else "")
            heading = f"Nhóm {group}. {names['name_vi']} ({label}, {month})"
            _group_sheet(book, title, heading, shown, {"name": province_name, **province}, list(units.values()))


def add_chart_sheet(book: Book, con: duckdb.DuckDBPyConnection, period: str) -> None:
    t = load_templates()
    ws = book.add_sheet("Biểu đồ")
    ws.width(0, 0, 28)
    ws.width(1, 1, 12)
    bold = book.format(bold=True)
    r, breaks = 0, []
    for data in report_charts.chart_data(con, period, list(t["headline"]), float(t["ranking_share"]),
                                           int(t["chart_trend_months"])):
        fmt = book.format(num_format=_decimal_format(data.decimals))
        ws.put(r, 0, data.name, book.format(bold=True, font_size=12))
        r += 1
        blocks = (("Tháng", [(f"{int(p[5:7])}/{p[:4]}", v) for p, v in data.trend], "line"),
                  ("Đơn vị (thấp nhất trước)", data.ranked, "bar"))
        for header, points, kind in blocks:
            if not points:
                continue
            top = r
            ws.put(r, 0, header, bold)
            ws.put(r, 1, data.unit_vi, bold)
            for name, value in points:
                r += 1
                ws.put(r, 0, name)
                ws.put(r, 1, value, fmt)
            chart = book.wb.add_chart({"type": kind})
            chart.add_series({"name": [ws.title, top, 1], "categories": [ws.title, top + 1, 0, r, 0],
                              "values": [ws.title, top + 1, 1, r, 1]})
            chart.set_title({"name": data.name if kind == "line" else f"{data.name}: các đơn vị"})
            chart.set_legend({"none": True})
            if kind == "bar":          # a bar chart's categories are its vertical axis: the lowest unit on top
                chart.set_y_axis({"reverse": True})
                chart.set_x_axis({"name": data.unit_vi})
            else:
                chart.set_y_axis({"name": data.unit_vi})
            height = 7.5 if kind == "line" else max(7.5, 0.45 * len(points) + 2)          # cm
            chart.set_size({"width": round(18 * CM_PIXELS), "height": round(height * CM_PIXELS)})
            ws.ws.insert_chart(top, 3, chart)
            r = max(r, top + int(height * 2)) + 2
            breaks.append(r)                  # each chart and its table on a page of their own
    ws.ws.set_h_pagebreaks(breaks)
    ws.print_a4_landscape(f"A1:N{r + 1}", left_right_margin=0.75)
    ws.ws.fit_to_pages(1, 0)


def add_sheets(book: Book, con: duckdb.DuckDBPyConnection, period: str) -> None:
    """The report-shaped sheets and the chart sheet, after the workbook's own."""
    add_group_sheets(book, con, period)
    add_chart_sheet(book, con, period)


def write_period_workbook(con: duckdb.DuckDBPyConnection, period: str, path) -> None:
    """The workbook of a longer period (`p06 report`): its report-shaped sheets and charts only."""
    book = Book()
    add_sheets(book, con, period)
    book.save(path)
