"""Read .xls and .xlsb values with python-calamine (and .xlsx that our own reader cannot parse).

calamine sizes its grid from the cells the file holds and aborts the process when that is absurd, so
it is only called once the sheet's extent is known to be within the limits: from a light scan of .xlsx parts, or (BIFF .xls) from the format itself, which cannot exceed 65.536 rows x 256
columns: the cell records are walked first (`biff`), which also gives hidden rows and columns.

Gives values (integral numbers as int, dates as date/datetime), hidden sheets, merged ranges and, for
.xls, hidden rows and columns; no number formats.
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from p06.ingest.formats.grid import Grid, dense
from p06.ingest.formats.limits import Limits


def _value(v: Any) -> Any:
    if v == "" or v is None:
        return None
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    if isinstance(v, date) and not isinstance(v, datetime):      # as openpyxl gives a date cell
        return datetime(v.year, v.month, v.day)
    if isinstance(v, (date, datetime, time, timedelta, bool, int, float)):
        return v
    return str(v)


class Failed(Exception):
    """calamine could not read the file (its error, or a Rust panic); `protected` when it asks for a password."""

    def __init__(self, exc: BaseException):
        super().__init__(f"{type(exc).__name__}: {exc}")
        self.protected = isinstance(exc, PasswordError) or any(w in str(exc).lower() for w in ("password", "encrypt"))


@contextlib.contextmanager
def _calamine_errors():
    """calamine's failures as Failed: its own errors, I/O errors and pyo3 panics (a BaseException)."""
    try:
        yield
    except BaseException as exc:
        if isinstance(exc, (CalamineError, OSError, ValueError)) or type(exc).__name__ == "PanicException":
            raise Failed(exc) from exc
        raise


@contextlib.contextmanager
def _quiet_stderr():
    """calamine's Rust panics print to file descriptor 2 (with a backtrace): keep that off the terminal."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def read(path: Path, file: str, fmt: str, limits: Limits,
         hidden: dict[str, tuple[set[int], set[int]]] | None = None) -> list[Grid]:
    """Every worksheet; `hidden` gives hidden rows and columns by sheet name when a pass found them (.xls)."""
    with open(path, "rb") as fh, _quiet_stderr(), _calamine_errors():   # by content (from_path goes by the name)
        wb = CalamineWorkbook.from_filelike(fh)
    grids = []
    try:
        for meta in wb.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue
            with _quiet_stderr(), _calamine_errors():
                sheet = wb.get_sheet_by_name(meta.name)
            cells: dict[tuple[int, int], Any] = {}
            end = sheet.end
            if end is not None:
                if not _within(end, limits):     # the extent reaches a cell with a value beyond the limits
                    limits.check_cell(file, meta.name, *end)
                start = sheet.start or (0, 0)
                with _calamine_errors():
                    rows = sheet.to_python(skip_empty_area=True)
                for r, row in enumerate(rows):
                    for c, v in enumerate(row):
                        value = _value(v)
                        if value is not None:
                            limits.check_cell(file, meta.name, start[0] + r, start[1] + c)
                            cells[(start[0] + r, start[1] + c)] = value
                            if len(cells) > limits.max_cells:
                                limits.refuse_count(file, meta.name, start[0] + r, start[1] + c)
            ranges, note = _merged(sheet)
            merged = [(r1, c1, r2, c2) for (r1, c1), (r2, c2) in ranges]
            rows, cols = (hidden or {}).get(meta.name, ((), ()))
            grids.append(dense(file, meta.name, cells, merged=merged, hidden=meta.visible != SheetVisibleEnum.Visible,
                               hidden_rows=rows, hidden_cols=cols, format=fmt, notes=[note] if note and cells else []))
    finally:
        wb.close()
    return grids


def _within(end: tuple[int, int], limits: Limits) -> bool:
    return end[0] < limits.max_rows and end[1] < limits.max_columns


def _merged(sheet) -> tuple[list, str | None]:
    """The sheet's merged ranges, and a note when calamine gives none for its format or fails to read them: the
    reader then sees a merged header or unit name in its first cell only, and the note says why."""
    try:
        ranges = sheet.merged_cell_ranges
    except Exception as exc:  # noqa: BLE001 (noted, not raised: the values are still read)
        return [], (f"sheet '{sheet.name}': merged cells not read ({type(exc).__name__}: {exc}); a merged header or "
                    "unit name counts in its first cell only")
    if ranges is None:
        return [], (f"sheet '{sheet.name}': merged cells not read (calamine gives none for this format); a merged "
                    "header or unit name counts in its first cell only")
    return list(ranges), None
