"""The shape every reader returns: one Grid per sheet, plus the error a file cannot be read with."""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import get_column_letter

from p06.ingest.problems import Problem


class UnreadableFile(Exception):
    """The file cannot be read as a delivery; `problem` says why and what to send instead."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class Grid:
    """One sheet: values by (row, column), 0-based, from A1 to the last cell holding a value.

    `merged` ranges are (r1, c1, r2, c2) inclusive, clipped to the grid. `hidden` is a hidden (or very
    hidden) sheet; `hidden_rows` / `hidden_cols` are 0-based indexes inside the grid (hidden, or of
    zero height / width). `format` is what the file really is: 'xlsx', 'xlsm', 'xlsb', 'xls', 'ods',
    'xml2003' (XML Spreadsheet 2003), 'csv' or 'html'. `notes` are remarks of the file layer (a part the reader skipped, a library warning).
    """
    file: str
    sheet: str
    rows: list[list[Any]]
    formats: list[list[str | None]] | None = None
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    unsaved: dict[tuple[int, int], str] = field(default_factory=dict)   # formulas the file holds no value of
    hidden: bool = False
    hidden_rows: frozenset[int] = frozenset()
    hidden_cols: frozenset[int] = frozenset()
    format: str = "xlsx"
    notes: list[str] = field(default_factory=list)

    def unsaved_formula(self, r: int, c: int) -> str | None:
        """The formula at (r, c) when the file stores it without its value (it then reads as blank)."""
        return self.unsaved.get((r, c))

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @property
    def n_cols(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def value(self, r: int, c: int) -> Any:
        row = self.rows[r] if 0 <= r < len(self.rows) else []
        return row[c] if 0 <= c < len(row) else None

    def number_format(self, r: int, c: int) -> str | None:
        if not self.formats or r >= len(self.formats) or c >= len(self.formats[r]):
            return None
        return self.formats[r][c]

    def merged_origin(self, r: int, c: int) -> tuple[int, int]:
        """The top-left cell of the merged range holding (r, c), or (r, c) itself."""
        if len(self.merged) < 16:
            candidates = self.merged
        else:       # many ranges: look only at those starting at or above row r
            index = self.__dict__.get("_merge_index")
            if index is None or index[0] is not self.merged:
                ordered = sorted(self.merged)
                index = (self.merged, ordered, [m[0] for m in ordered])
                self.__dict__["_merge_index"] = index
            _, ordered, starts = index
            candidates = ordered[:bisect_right(starts, r)]
        for r1, c1, r2, c2 in candidates:
            if r1 <= r <= r2 and c1 <= c <= c2:
                return r1, c1
        return r, c

    def filled(self, r: int, c: int) -> Any:
        """The value shown at (r, c): a merged range shows its top-left value everywhere."""
        return self.value(*self.merged_origin(r, c))


def cell_ref(r: int, c: int) -> str:
    return f"{column_letter(c)}{r + 1}"


def column_letter(c: int) -> str:
    """Letters of 0-based column c ('A', 'AA', ...), also past XFD (a CSV or HTML table may be that wide)."""
    if c < 16384:
        return get_column_letter(c + 1)
    letters = ""
    n = c + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def dense(file: str, sheet: str, cells: dict[tuple[int, int], Any], formats: dict[tuple[int, int], str] | None = None,
          **extra: Any) -> Grid:
    """A Grid from the cells that hold a value: rows from A1 to the last such cell, clipped extras."""
    n_rows = max((r for r, _ in cells), default=-1) + 1
    n_cols = max((c for _, c in cells), default=-1) + 1
    rows: list[list[Any]] = [[None] * n_cols for _ in range(n_rows)]
    for (r, c), v in cells.items():
        rows[r][c] = v
    grid_formats = None
    if formats is not None:
        grid_formats = [[None] * n_cols for _ in range(n_rows)]
        for (r, c), f in formats.items():
            if r < n_rows and c < n_cols:
                grid_formats[r][c] = f
    merged = [(r1, c1, min(r2, n_rows - 1), min(c2, n_cols - 1))
              for r1, c1, r2, c2 in extra.pop("merged", []) if r1 < n_rows and c1 < n_cols]
    extra["merged"] = [m for m in merged if (m[0], m[1]) != (m[2], m[3])]
    extra["hidden_rows"] = frozenset(r for r in extra.get("hidden_rows", ()) if r < n_rows)
    extra["hidden_cols"] = frozenset(c for c in extra.get("hidden_cols", ()) if c < n_cols)
    return Grid(file, sheet, rows, grid_formats, **extra)
