"""Read an .ods workbook by streaming its content.xml (expat), as ooxml does for .xlsx.

Repeated rows and cells (`number-rows-repeated`, `number-columns-repeated`) cost nothing unless they
hold a value, so a sheet formatted out to column XFD and row 1.048.576 reads like any other.
(calamine was tried first: it fails on some valid files, e.g. KSpread's, and sizes its grid from the
declared repeats.) Gives values (numbers, text, booleans, dates), merged ranges (spanned cells),
hidden sheets (table style display:false), hidden rows and columns (visibility collapse/filter);
no number formats.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from p06.ingest.formats.grid import Grid, dense
from p06.ingest.formats.limits import Limits
from p06.ingest.formats.ooxml import NS_SEP, Package, _parse

_DURATION = re.compile(r"P(?:(\d+)D)?T?(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?$")


class _Pass:
    def __init__(self, file: str, limits: Limits):
        self.file, self.limits = file, limits
        self.grids: list[Grid] = []
        self.hidden_styles: set[str] = set()
        self.style: str | None = None
        self.name: str | None = None
        self.text: list[str] | None = None     # text of the open cell
        self.paragraphs = 0
        self.elements = 0

    def start(self, tag: str, a: dict) -> None:
        get = lambda name: next((v for k, v in a.items() if k.rsplit(NS_SEP, 1)[-1] == name), None)  # noqa: E731
        if tag == "style":
            self.style = get("name")
        elif tag == "table-properties" and get("display") == "false" and self.style:
            self.hidden_styles.add(self.style)
        elif tag == "table":
            self.name = get("name") or f"Sheet{len(self.grids) + 1}"
            self.sheet_hidden = get("style-name") in self.hidden_styles
            self.cells: dict[tuple[int, int], Any] = {}
            self.merged: list[tuple[int, int, int, int]] = []
            self.hidden_rows: set[int] = set()
            self.hidden_cols: set[int] = set()
            self.row = self.columns = 0
        elif self.name is None:
            return
        elif tag == "table-column":
            n = _count(get("number-columns-repeated"))
            if get("visibility") in ("collapse", "filter"):
                self.hidden_cols.update(range(self.columns, min(self.columns + n, self.limits.max_columns)))
            self.columns += n
        elif tag == "table-row":
            self.elements += 1
            if self.elements > self.limits.max_elements:
                self.limits.refuse_elements(self.file, self.name, self.row, 0)
            self.row_repeat = _count(get("number-rows-repeated"))
            self.row_cells: dict[int, Any] = {}
            self.col = 0
            if get("visibility") in ("collapse", "filter"):
                self.hidden_rows.update(range(self.row, min(self.row + self.row_repeat, self.limits.max_rows)))
        elif tag in ("table-cell", "covered-table-cell"):
            self.elements += 1
            if self.elements > self.limits.max_elements:
                self.limits.refuse_elements(self.file, self.name, self.row, self.col)
            self.repeat = _count(get("number-columns-repeated"))
            self.value = _typed(get("value-type") or get("value-type"), get)
            self.text, self.paragraphs = [], 0
            span_r, span_c = _count(get("number-rows-spanned")), _count(get("number-columns-spanned"))
            if tag == "table-cell" and (span_r > 1 or span_c > 1) and self.row < self.limits.max_rows \
                    and self.col < self.limits.max_columns:
                self.merged.append((self.row, self.col, self.row + span_r - 1, self.col + span_c - 1))
        elif self.text is not None:
            if tag == "p":
                if self.paragraphs:
                    self.text.append("\n")
                self.paragraphs += 1
            elif tag == "s":
                self.text.append(" " * _count(get("c")))
            elif tag == "tab":
                self.text.append("\t")
            elif tag == "line-break":
                self.text.append("\n")

    def chars(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def end(self, tag: str) -> None:
        if tag in ("table-cell", "covered-table-cell") and self.text is not None:
            value = self.value
            if value is None:
                value = "".join(self.text).strip() or None
            if value is not None:
                self.limits.check_cell(self.file, self.name, self.row, self.col + self.repeat - 1)
                for c in range(self.col, self.col + self.repeat):
                    self.row_cells[c] = value
            self.col += self.repeat
            self.text = None
        elif tag == "table-row" and self.name is not None:
            if self.row_cells:
                self.limits.check_cell(self.file, self.name, self.row + self.row_repeat - 1, max(self.row_cells))
                for r in range(self.row, self.row + self.row_repeat):
                    for c, v in self.row_cells.items():
                        self.cells[(r, c)] = v
                    if len(self.cells) > self.limits.max_cells:
                        self.limits.refuse_count(self.file, self.name, r, max(self.row_cells))
            self.row += self.row_repeat
        elif tag == "table" and self.name is not None:
            self.grids.append(dense(self.file, self.name, self.cells, merged=self.merged, hidden=self.sheet_hidden,
                                    hidden_rows=self.hidden_rows, hidden_cols=self.hidden_cols, format="ods"))
            self.name = None


def _typed(kind: str | None, get) -> Any:
    """The value a typed cell stores in its attributes (text cells: None, their text is read instead)."""
    try:
        if kind in ("float", "percentage", "currency"):
            raw = get("value")
            return None if raw is None else (float(raw) if any(ch in raw for ch in ".eE") else int(raw))
        if kind == "boolean":
            return get("boolean-value") in ("true", "1")
        if kind == "date":
            raw = get("date-value") or ""
            return datetime.fromisoformat(raw) if "T" in raw else date.fromisoformat(raw)
        if kind == "time":
            m = _DURATION.match(get("time-value") or "")
            if m:
                d, h, mi, s = (float(x) if x else 0.0 for x in m.groups())
                return timedelta(days=d, hours=h, minutes=mi, seconds=s)
        if kind == "string" and get("string-value") is not None:
            return get("string-value")
    except ValueError:
        return None
    return None


def _count(text: str | None) -> int:
    try:
        return max(1, int(text)) if text else 1
    except ValueError:
        return 1


def read(pkg: Package, file: str, limits: Limits) -> list[Grid]:
    """Every sheet of the workbook as a Grid (refuses a value beyond the limits as soon as it is met)."""
    p = _Pass(file, limits)
    with pkg.open("content.xml") as f:
        _parse(f, p.start, p.end, p.chars)
    return p.grids
