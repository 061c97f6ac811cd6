"""Read an 'XML Spreadsheet 2003' file (Excel's SpreadsheetML, which portals also export under a .xls name).

Gives values (Number as int/float, DateTime as datetime, Boolean, String), number formats from the
file's styles, merged ranges (MergeAcross / MergeDown), hidden sheets, rows and columns.
"""
from __future__ import annotations

from datetime import datetime
from typing import IO, Any

from p06.ingest.formats.grid import Grid, dense
from p06.ingest.formats.limits import Limits
from p06.ingest.formats.ooxml import NS_SEP, _parse


def _local(attrs: dict, name: str) -> str | None:
    for k, v in attrs.items():
        if k.rsplit(NS_SEP, 1)[-1] == name:
            return v
    return None


class _Pass:
    def __init__(self, file: str, limits: Limits):
        self.file, self.limits = file, limits
        self.grids: list[Grid] = []
        self.style_formats: dict[str, str] = {}
        self.style: str | None = None
        self.sheet: str | None = None
        self.text: list[str] | None = None
        self.in_options = False
        self.visible_text: list[str] | None = None
        self.elements = 0

    def start(self, tag: str, a: dict) -> None:
        if tag == "Style":
            self.style = _local(a, "ID")
        elif tag == "NumberFormat" and self.style:
            self.style_formats[self.style] = _local(a, "Format") or "General"
        elif tag == "Worksheet":
            self.sheet = _local(a, "Name") or f"Sheet{len(self.grids) + 1}"
            self.cells: dict[tuple[int, int], Any] = {}
            self.formats: dict[tuple[int, int], str] = {}
            self.merged: list[tuple[int, int, int, int]] = []
            self.hidden_rows: set[int] = set()
            self.hidden_cols: set[int] = set()
            self.hidden = False
            self.row, self.col, self.next_col = -1, -1, 0
        elif self.sheet is None:
            return
        elif tag == "Column":
            index = _int(_local(a, "Index"))
            col = index - 1 if index else self.next_col
            span = (_int(_local(a, "Span")) or 0) + 1
            if _local(a, "Hidden") == "1" or _local(a, "Width") in ("0", "0.0"):
                self.hidden_cols.update(range(col, min(col + span, self.limits.max_columns)))
            self.next_col = col + span
        elif tag == "Row":
            self.elements += 1
            if self.elements > self.limits.max_elements:
                self.limits.refuse_elements(self.file, self.sheet, max(self.row, 0), 0)
            index = _int(_local(a, "Index"))
            self.row = index - 1 if index else self.row + 1
            self.col = -1
            if (_local(a, "Hidden") == "1" or _local(a, "Height") in ("0", "0.0")) and self.row < self.limits.max_rows:
                self.hidden_rows.add(self.row)
        elif tag == "Cell":
            self.elements += 1
            if self.elements > self.limits.max_elements:
                self.limits.refuse_elements(self.file, self.sheet, max(self.row, 0), max(self.col, 0))
            index = _int(_local(a, "Index"))
            self.col = index - 1 if index else self.col + 1
            across, down = _int(_local(a, "MergeAcross")) or 0, _int(_local(a, "MergeDown")) or 0
            if (across or down) and self.row < self.limits.max_rows and self.col < self.limits.max_columns:
                self.merged.append((self.row, self.col, self.row + down, self.col + across))
            self.cell_style = _local(a, "StyleID")
            self.cell_end = self.col + across
        elif tag == "Data":
            self.text, self.kind = [], _local(a, "Type") or "String"
        elif tag == "Visible":
            self.visible_text = []

    def chars(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)
        elif self.visible_text is not None:
            self.visible_text.append(data)

    def end(self, tag: str) -> None:
        if tag == "Data" and self.text is not None:
            value = _typed("".join(self.text), self.kind)
            self.text = None
            if value is not None:
                self.limits.check_cell(self.file, self.sheet, self.row, self.col)
                self.cells[(self.row, self.col)] = value
                self.formats[(self.row, self.col)] = self.style_formats.get(self.cell_style or "", "General")
                if len(self.cells) > self.limits.max_cells:
                    self.limits.refuse_count(self.file, self.sheet, self.row, self.col)
        elif tag == "Cell" and self.sheet is not None:
            self.col = self.cell_end
        elif tag == "Visible" and self.visible_text is not None:
            self.hidden = "".join(self.visible_text).strip() in ("SheetHidden", "SheetVeryHidden")
            self.visible_text = None
        elif tag == "Worksheet" and self.sheet is not None:
            self.grids.append(dense(self.file, self.sheet, self.cells, self.formats, merged=self.merged, hidden=self.hidden,
                                    hidden_rows=self.hidden_rows, hidden_cols=self.hidden_cols, format="xml2003"))
            self.sheet = None


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _typed(text: str, kind: str) -> Any:
    if kind == "Number":
        try:
            return float(text) if any(ch in text for ch in ".eE") else int(text)
        except ValueError:
            return text.strip() or None
    if kind == "DateTime":
        try:
            return datetime.fromisoformat(text.strip())
        except ValueError:
            return text.strip() or None
    if kind == "Boolean":
        return text.strip() in ("1", "true")
    return text if text.strip() else None


def read(stream: IO[bytes], file: str, limits: Limits) -> list[Grid]:
    p = _Pass(file, limits)
    _parse(stream, p.start, p.end, p.chars)
    return p.grids
