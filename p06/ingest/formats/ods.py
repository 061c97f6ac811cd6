"""A light pass over an .ods content.xml (expat): where the values are, hidden rows / columns /
sheets and merged ranges. Values themselves come from calamine, once this pass found them within
the limits (calamine sizes its grid from what the file declares, which can be far beyond any delivery).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from p06.ingest.formats.limits import Limits
from p06.ingest.formats.ooxml import Package, _parse


@dataclass
class SheetFacts:
    name: str
    hidden: bool = False
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)


class _Pass:
    def __init__(self, file: str, limits: Limits):
        self.file, self.limits = file, limits
        self.sheets: list[SheetFacts] = []
        self.hidden_styles: set[str] = set()
        self.style: str | None = None
        self.sheet: SheetFacts | None = None
        self.row = self.col = 0
        self.row_repeat = 1
        self.cell: tuple[int, int, int] | None = None     # (row, col, repeat) of the open cell
        self.has_text = False

    def start(self, tag: str, a: dict) -> None:
        get = lambda name: next((v for k, v in a.items() if k.endswith("\x01" + name) or k == name), None)  # noqa: E731
        if tag == "style":
            self.style = get("name")
        elif tag == "table-properties" and get("display") == "false" and self.style:
            self.hidden_styles.add(self.style)
        elif tag == "table":
            self.sheet = SheetFacts(get("name") or f"Sheet{len(self.sheets) + 1}", hidden=get("style-name") in self.hidden_styles)
            self.sheets.append(self.sheet)
            self.row = self.col = 0
            self.columns = 0
        elif self.sheet is None:
            return
        elif tag == "table-column":
            n = _count(get("number-columns-repeated"))
            if get("visibility") in ("collapse", "filter"):
                self.sheet.hidden_cols.update(range(self.columns, min(self.columns + n, self.limits.max_columns)))
            self.columns += n
        elif tag == "table-row":
            self.row_repeat = _count(get("number-rows-repeated"))
            self.col = 0
            if get("visibility") in ("collapse", "filter"):
                self.sheet.hidden_rows.update(range(self.row, min(self.row + self.row_repeat, self.limits.max_rows)))
        elif tag in ("table-cell", "covered-table-cell"):
            repeat = _count(get("number-columns-repeated"))
            self.cell = (self.row, self.col, repeat)
            self.has_text = get("value-type") is not None
            span_r, span_c = _count(get("number-rows-spanned")), _count(get("number-columns-spanned"))
            if tag == "table-cell" and (span_r > 1 or span_c > 1) and self.row < self.limits.max_rows and self.col < self.limits.max_columns:
                self.sheet.merged.append((self.row, self.col, self.row + span_r - 1, self.col + span_c - 1))
            self.col += repeat

    def text(self, data: str) -> None:
        if self.cell is not None and data.strip():
            self.has_text = True

    def end(self, tag: str) -> None:
        if tag in ("table-cell", "covered-table-cell") and self.cell is not None:
            if self.has_text and self.sheet is not None:
                r, c, repeat = self.cell
                self.limits.check_cell(self.file, self.sheet.name, r + self.row_repeat - 1, c + repeat - 1)
            self.cell = None
        elif tag == "table-row":
            self.row += self.row_repeat
            self.row_repeat = 1
        elif tag == "table":
            self.sheet = None


def _count(text: str | None) -> int:
    try:
        return max(1, int(text)) if text else 1
    except ValueError:
        return 1


def facts(pkg: Package, file: str, limits: Limits) -> list[SheetFacts]:
    """Per sheet, in order: hidden state, hidden rows and columns, merged ranges (refuses values beyond the limits)."""
    p = _Pass(file, limits)
    with pkg.open("content.xml") as f:
        _parse(f, p.start, p.end, p.text)
    return p.sheets
