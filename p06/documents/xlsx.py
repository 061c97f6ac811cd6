"""Workbooks written with XlsxWriter: rows appended to a sheet that knows its size, formats made once per
workbook from their properties.

A month's workbook by commune (70,000 cells) is written in 0.82 s with XlsxWriter against 1.17 s with
openpyxl (`scripts/bench_documents.py`). openpyxl still reads the deliveries, and the tests read the workbooks
back with it.
"""
from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from pathlib import Path
from typing import Any, Iterable

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name

from p06.publish.atomic import atomic_file

CHAR_PIXELS = 7        # Calibri 11's digit width: a column `w` characters wide is stored as w (set_column adds
                       # Excel's on-screen padding, 0.71 characters, which the printed layouts are not sized with)
A4 = 9


def _missing(value: Any) -> bool:
    """None, "", NaN, NaT, pandas' NA and infinities: written as a blank cell (as openpyxl wrote them)."""
    if value is None or isinstance(value, str):
        return value is None or value == ""
    try:
        return bool(value != value) or (isinstance(value, float) and math.isinf(value))
    except (TypeError, ValueError):             # pandas.NA is neither equal nor unequal to itself
        return True


class Sheet:
    """A worksheet and how many rows it holds (`rows`, the next row to append is rows + 1 in Excel's terms)."""

    def __init__(self, book: Book, ws) -> None:
        self.book, self.ws, self.rows, self.cols = book, ws, 0, 0

    @property
    def title(self) -> str:
        return self.ws.name

    def put(self, row: int, col: int, value: Any, fmt: Format | None = None) -> None:
        """Write a value at (row, col), 0-based; a number as a number, a date as a date, None as a blank
        (written only with a format); text is never read as a formula, number or link."""
        self._write(row, col, value, fmt)
        self.rows, self.cols = max(self.rows, row + 1), max(self.cols, col + 1)

    def _write(self, row: int, col: int, value: Any, fmt: Format | None) -> None:
        ws = self.ws
        if _missing(value):
            if fmt is not None:
                ws.write_blank(row, col, None, fmt)
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value, fmt)
        elif isinstance(value, (int, float)):
            ws.write_number(row, col, value, fmt)
        elif isinstance(value, str):
            ws.write_string(row, col, value, fmt)
        elif isinstance(value, (dt.date, dt.datetime)):
            ws.write_datetime(row, col, value, fmt)
        elif isinstance(value, numbers.Number):               # Decimal, numpy
            ws.write_number(row, col, float(value), fmt)
        else:
            ws.write_string(row, col, str(value), fmt)

    def append(self, values: Iterable[Any], formats: Iterable[Format | None] | Format | None = None) -> int:
        """Write a row after the last one (one format for every cell, or one per cell); returns its 0-based index."""
        row = self.rows
        values = list(values)
        fmts = formats if isinstance(formats, (list, tuple)) else [formats] * len(values)
        for col, (value, fmt) in enumerate(zip(values, fmts)):
            self._write(row, col, value, fmt)
        self.rows, self.cols = row + 1, max(self.cols, len(values))
        return row

    def width(self, first: int, last: int, chars: float) -> None:
        """Columns first..last (0-based) `chars` characters wide, as stored in the file."""
        self.ws.set_column_pixels(first, last, round(chars * CHAR_PIXELS))

    def height(self, row: int, points: float) -> None:
        self.ws.set_row(row, points)

    def area(self, last_col: int | None = None) -> str:
        """A1:<last column><last row> of what the sheet holds (at least A1)."""
        cols = max(last_col if last_col is not None else self.cols, 1)
        return f"A1:{xl_col_to_name(cols - 1)}{max(self.rows, 1)}"

    def print_a4_landscape(self, area: str, left_right_margin: float = 0.4) -> None:
        """Printed on A4 across, within `area`; the page's other margins as Excel's own defaults."""
        self.ws.print_area(area)
        self.ws.set_landscape()
        self.ws.set_paper(A4)
        self.ws.set_margins(left=left_right_margin, right=left_right_margin, top=1.0, bottom=1.0)


class Book:
    """An .xlsx being written; `save()` replaces the destination whole (written aside, then renamed)."""

    def __init__(self) -> None:
        self.sheets: list[Sheet] = []
        self._formats: dict[tuple, Format] = {}
        self.wb = xlsxwriter.Workbook(options={"strings_to_numbers": False, "strings_to_formulas": False,
                                              "strings_to_urls": False, "remove_timezone": True,
                                              "default_date_format": "dd/mm/yyyy"})

    def format(self, **properties: Any) -> Format | None:
        """The format with these XlsxWriter properties (num_format, bold, bg_color, text_wrap, valign, ...), made
        once per workbook; None for none."""
        properties = {k: v for k, v in properties.items() if v not in (None, False)}
        if not properties:
            return None
        key = tuple(sorted(properties.items()))
        if key not in self._formats:
            self._formats[key] = self.wb.add_format(properties)
        return self._formats[key]

    def add_sheet(self, title: str) -> Sheet:
        """A sheet named `title` as Excel allows: at most 31 characters, none of []:*?/\\, no quote at either end, and
        unique (a second sheet of the same name gets " (2)", as Excel names a copy)."""
        name = re.sub(r"[\[\]:*?/\\]", "-", title).strip("'")[:31] or "Sheet"
        taken = {s.title.casefold() for s in self.sheets} | {"history"}
        number, unique = 1, name
        while unique.casefold() in taken:
            number += 1
            unique = f"{name[:31 - len(f' ({number})')]} ({number})"
        sheet = Sheet(self, self.wb.add_worksheet(unique))
        self.sheets.append(sheet)
        return sheet

    def save(self, path: Path | str) -> Path:
        """Write the workbook to `path` atomically; returns `path`."""
        path = Path(path)
        with atomic_file(path) as tmp:
            self.wb.filename = str(tmp)
            self.wb.close()
        return path
