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
from openpyxl.cell import Cell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.pagebreak import Break

from p06 import report_periods
from p06.documents import report_charts
from p06.documents.excel import COUNT_FORMAT, HEADER_FILL, HEADER_FONT, LABELS_VI, _decimal_format, fit_rows, style_array
from p06.documents.report import load_templates, period_text
from p06.publish import period_marts
from p06.publish.files import read_table
from p06.publish.indicator_catalog import Indicator, load

THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTERED = Alignment(wrap_text=True, horizontal="center", vertical="center")
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


def _group_sheet(wb: Workbook, title: str, heading: str, inds: list[Indicator], province: dict, units: list[dict]) -> None:
    ws = wb.create_sheet(title)
    spans = [(ind, _columns(ind)) for ind in inds]
    last_col = 2 + sum(len(cols) for _, cols in spans)
    breaks = _column_breaks(spans)
    ws.cell(row=1, column=1, value=heading).font = Font(bold=True, size=13)
    # the heading over the first printed page's columns only: merged across every column it would print in
    # fragments on pages of its own
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=breaks[0] if breaks else last_col)
    for col, text in ((1, "STT"), (2, "Đơn vị")):
        ws.cell(row=2, column=col, value=text)
        ws.merge_cells(start_row=2, start_column=col, end_row=3, end_column=col)
    col = 3
    for ind, cols in spans:
        ws.cell(row=2, column=col, value=ind.name_vi)
        if len(cols) > 1:
            ws.merge_cells(start_row=2, start_column=col, end_row=2, end_column=col + len(cols) - 1)
        for offset, (_, header, _) in enumerate(cols):
            ws.cell(row=3, column=col + offset, value=header)
        col += len(cols)
    for row in ws.iter_rows(min_row=2, max_row=3, max_col=last_col):
        for cell in row:
            cell.font, cell.fill, cell.border, cell.alignment = HEADER_FONT, HEADER_FILL, BOX, CENTERED
    # the headers' rows as high as their wrapped names need (an indicator's name over its columns)
    fit_rows(ws, 2, [ind.name_vi for ind, _ in spans], [13 * len(cols) for _, cols in spans], bold=True)
    fit_rows(ws, 3, [header for _, cols in spans for _, header, _ in cols], [13] * (last_col - 2), bold=True)
    formats = [None, None] + [fmt for _, cols in spans for _, _, fmt in cols]
    plain = [style_array(ws, fmt) for fmt in formats]
    bold = [style_array(ws, fmt, font=HEADER_FONT) for fmt in formats]
    rows = [("", province.get("name"), province, True)] + [(i, u["name"], u, False) for i, u in enumerate(units, start=1)]
    for number, name, figures, is_bold in rows:
        values = [number or None, name] + [(figures.get(ind.code) or {}).get(key) for ind, cols in spans for key, _, _ in cols]
        ws.append([Cell(ws, value=value, style_array=style)
                   for value, style in zip(values, bold if is_bold else plain)])
    ws.column_dimensions["A"].width = 5
    ws.column_dimensions["B"].width = 26
    for c in range(3, last_col + 1):
        ws.column_dimensions[get_column_letter(c)].width = 13
    ws.freeze_panes = "C4"
    ws.print_title_rows = "2:3"
    ws.print_title_cols = "A:B"                       # the units on every page
    ws.print_options.gridLines = True                 # printed cell borders (a border per cell costs 1 s a commune month)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.print_area = f"A1:{get_column_letter(last_col)}{ws.max_row}"
    # Legible, not fitted to one page width: at PRINT_SCALE the text is 10 pt; the indicators split across pages
    # between whole indicators, as many as fit the page beside the repeated unit columns.
    ws.page_setup.scale = PRINT_SCALE
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    for column in breaks:
        ws.col_breaks.append(Break(id=column))


def add_group_sheets(wb: Workbook, con: duckdb.DuckDBPyConnection, period: str) -> None:
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
            _group_sheet(wb, title[:31], heading, shown, {"name": province_name, **province}, list(units.values()))


def add_chart_sheet(wb: Workbook, con: duckdb.DuckDBPyConnection, period: str) -> None:
    t = load_templates()
    ws = wb.create_sheet("Biểu đồ")
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 12
    r = 1
    for data in report_charts.chart_data(con, period, list(t["headline"]), float(t["ranking_share"]),
                                           int(t["chart_trend_months"])):
        fmt = _decimal_format(data.decimals)
        ws.cell(row=r, column=1, value=data.name).font = Font(bold=True, size=12)
        r += 1
        blocks = (("Tháng", [(f"{int(p[5:7])}/{p[:4]}", v) for p, v in data.trend], "line"),
                  ("Đơn vị (thấp nhất trước)", data.ranked, "bar"))
        for header, points, kind in blocks:
            if not points:
                continue
            top = r
            ws.cell(row=r, column=1, value=header).font = Font(bold=True)
            ws.cell(row=r, column=2, value=data.unit_vi).font = Font(bold=True)
            for name, value in points:
                r += 1
                ws.cell(row=r, column=1, value=name)
                ws.cell(row=r, column=2, value=value).number_format = fmt
            chart = LineChart() if kind == "line" else BarChart()
            if kind == "bar":
                chart.type = "bar"
                chart.x_axis.scaling.orientation = "maxMin"          # the lowest unit on top
            chart.title = data.name if kind == "line" else f"{data.name}: các đơn vị"
            chart.legend = None
            chart.y_axis.title = data.unit_vi
            chart.x_axis.delete = chart.y_axis.delete = False
            chart.add_data(Reference(ws, min_col=2, min_row=top, max_row=r), titles_from_data=True)
            chart.set_categories(Reference(ws, min_col=1, min_row=top + 1, max_row=r))
            chart.width = 18
            chart.height = 7.5 if kind == "line" else max(7.5, 0.45 * len(points) + 2)
            ws.add_chart(chart, f"D{top}")
            r = max(r, top + int(chart.height * 2)) + 2
            ws.row_breaks.append(Break(id=r - 1))             # each chart and its table on a page of their own
    ws.print_area = f"A1:N{max(r, 1)}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def add_sheets(wb: Workbook, con: duckdb.DuckDBPyConnection, period: str) -> None:
    """The report-shaped sheets and the chart sheet, after the workbook's own."""
    add_group_sheets(wb, con, period)
    add_chart_sheet(wb, con, period)


def write_period_workbook(con: duckdb.DuckDBPyConnection, period: str, path) -> None:
    """The workbook of a longer period (`p06 report`): its report-shaped sheets and charts only."""
    import os
    from pathlib import Path
    wb = Workbook()
    wb.remove(wb.active)
    add_sheets(wb, con, period)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.xlsx")
    wb.save(tmp)
    os.replace(tmp, path)
