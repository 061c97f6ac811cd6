"""Read an HTML page saved as a workbook (portals export `<table>` as .xls): one Grid per table.

Gives text values (Excel's `x:num` attribute gives the number itself), merged ranges from colspan /
rowspan, rows and cells hidden with `display:none`; no number formats, no hidden sheets.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from p06.ingest.formats.grid import Grid, dense
from p06.ingest.formats.limits import Limits

_HIDDEN = re.compile(r"display\s*:\s*none", re.I)
_SPACE = re.compile(r"[ \t\r\n\f\u00a0]+")


class _Tables(HTMLParser):
    def __init__(self, file: str, limits: Limits):
        super().__init__(convert_charrefs=True)
        self.file, self.limits = file, limits
        self.grids: list[Grid] = []
        self.depth = 0          # nesting of <table>; only top-level tables make grids
        self.elements = 0
        self.skip = 0           # inside <script>/<style>
        self._new_table()

    def _new_table(self) -> None:
        self.cells: dict[tuple[int, int], Any] = {}
        self.taken: set[tuple[int, int]] = set()
        self.merged: list[tuple[int, int, int, int]] = []
        self.hidden_rows: set[int] = set()
        self.row = -1
        self.col = 0
        self.cell: dict | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements += 1          # every tag: bounds the time of any page
        if self.elements > self.limits.max_elements:
            self.limits.refuse_elements(self.file, f"table {len(self.grids) + 1}", max(self.row, 0), self.col)
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag in ("script", "style"):
            self.skip += 1
        elif tag == "table":
            self.depth += 1
            if self.depth == 1:
                self._new_table()
        elif self.depth != 1:
            if tag == "br" and self.cell is not None:
                self.cell["text"].append("\n")
        elif tag == "tr":
            self._close_cell()
            self.row += 1
            self.col = 0
            if _HIDDEN.search(a.get("style", "")):
                self.hidden_rows.add(self.row)
        elif tag in ("td", "th"):
            self._close_cell()
            if self.row < 0:
                self.row = 0
            while (self.row, self.col) in self.taken:
                self.col += 1
            span_r = min(_span(a.get("rowspan")), self.limits.max_rows)
            span_c = min(_span(a.get("colspan")), self.limits.max_columns)
            self.cell = {"r": self.row, "c": self.col, "text": [], "num": a.get("x:num"), "span": (span_r, span_c)}
            for dr in range(1, span_r):             # rows below: this row's own columns advance past the span
                for dc in range(span_c):
                    self.taken.add((self.row + dr, self.col + dc))
            if span_r > 1 or span_c > 1:
                self.merged.append((self.row, self.col, self.row + span_r - 1, self.col + span_c - 1))
            self.col += span_c
        elif tag == "br" and self.cell is not None:
            self.cell["text"].append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag == "table":
            if self.depth == 1:
                self._close_cell()
                if self.cells:
                    n = len(self.grids) + 1
                    self.grids.append(dense(self.file, f"table {n}", self.cells, merged=self.merged,
                                            hidden_rows=self.hidden_rows, format="html"))
            self.depth = max(0, self.depth - 1)
        elif self.depth == 1 and tag in ("td", "th"):
            self._close_cell()

    def handle_data(self, data: str) -> None:
        if self.cell is not None and not self.skip:
            self.cell["text"].append(data)

    def _close_cell(self) -> None:
        cell, self.cell = self.cell, None
        if cell is None:
            return
        text = "\n".join(_SPACE.sub(" ", part).strip() for part in "".join(cell["text"]).split("\n")).strip()
        value: Any = text or None
        if cell["num"]:
            try:
                number = float(cell["num"])
                value = int(number) if number.is_integer() and "." not in cell["num"] else number
            except ValueError:
                pass
        if value is not None:
            self.limits.check_cell(self.file, f"table {len(self.grids) + 1}", cell["r"], cell["c"])
            self.cells[(cell["r"], cell["c"])] = value
            if len(self.cells) > self.limits.max_cells:
                self.limits.refuse_count(self.file, f"table {len(self.grids) + 1}", cell["r"], cell["c"])


def _span(text: str | None) -> int:
    try:
        return max(1, int(text or 1))
    except ValueError:
        return 1


def read(text: str, file: str, limits: Limits) -> list[Grid]:
    """The page's top-level tables that hold a value, as grids named 'table 1', 'table 2', ..."""
    parser = _Tables(file, limits)
    parser.feed(text)
    parser.close()
    if parser.depth == 1 and parser.cells:          # a table never closed: keep what it holds
        parser.handle_endtag("table")
    return parser.grids
