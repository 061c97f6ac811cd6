"""Deliveries in parts, made from a sample file with openpyxl: some tables (sheets), some units (rows), some
figures changed, each part's total row summed again over its own units as a department would write it.

The sample tables number their unit rows in column A (1, 2, ...) under the header; the total row follows
them (column A blank). A part keeps the header, title and notes, its unit rows (renumbered in place: the
serial numbers stay as they were) and its total row, and drops the other unit rows.
"""
from __future__ import annotations

import os
from pathlib import Path

import openpyxl


def number(value) -> float | None:
    """A figure as the samples write it: 12345, '12.345' (thousands dots) or '92,19%' (a percentage)."""
    if value is None or isinstance(value, (int, float)):
        return value
    text = str(value).strip()
    if text.endswith("%"):
        return float(text[:-1].replace(".", "").replace(",", ".")) / 100
    try:
        return float(text.replace(".", ""))
    except ValueError:
        return None


def written_like(value: float, like) -> object:
    """`value` written the way the cell `like` was: an int, text with thousands dots, or a percentage."""
    if isinstance(like, str) and like.strip().endswith("%"):
        return f"{100 * value:.2f}%".replace(".", ",")
    if isinstance(like, str):
        return f"{round(value):,}".replace(",", ".")
    if isinstance(like, float) and like < 10:
        return round(value, 4)
    return round(value)


def unit_rows(ws) -> dict[int, int]:
    """Serial number in column A -> sheet row of each unit row."""
    return {int(c.value): c.row for c in ws["A"] if isinstance(c.value, int) and not isinstance(c.value, bool)}


def total_row(ws) -> int | None:
    """The row after the last unit row when it has figures and no serial number (the table's total row)."""
    rows = unit_rows(ws)
    if not rows:
        return None
    r = max(rows.values()) + 1
    return r if ws.cell(r, 1).value is None and any(ws.cell(r, c).value is not None for c in range(3, ws.max_column + 1)) else None


def make_part(source: Path, dest: Path, sheets: list[str] | None = None, units: set[int] | None = None,
              changes: dict[tuple[str, int, str], object] | None = None,
              ratios: dict[str, dict[str, tuple[str, str]]] | None = None, mtime: float | None = None) -> Path:
    """A file holding `sheets` (default: all) of `source`, with only the unit rows numbered in `units`
    (default: all), `changes` applied ({(sheet, serial number, column letter): value}) and each total row
    summed again over the rows kept; `ratios` ({sheet: {ratio column: (numerator column, denominator
    column)}}) are the total row's ratio cells, computed from its sums."""
    wb = openpyxl.load_workbook(source)
    for ws in list(wb.worksheets):
        if sheets is not None and ws.title not in sheets:
            wb.remove(ws)
    for ws in wb.worksheets:
        rows = unit_rows(ws)
        for (sheet, serial, column), value in (changes or {}).items():
            if sheet == ws.title and serial in rows:
                ws[f"{column}{rows[serial]}"] = value
        total = total_row(ws)
        kept = [r for s, r in sorted(rows.items()) if units is None or s in units]
        if total is not None:
            _sum_again(ws, kept, total, (ratios or {}).get(ws.title, {}))
        for r in sorted((r for s, r in rows.items() if units is not None and s not in units), reverse=True):
            _delete_row(ws, r)
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dest)
    if mtime is not None:
        os.utime(dest, (mtime, mtime))
    return dest


def _sum_again(ws, kept: list[int], total: int, ratios: dict[str, tuple[str, str]]) -> None:
    letters = [openpyxl.utils.get_column_letter(c) for c in range(3, ws.max_column + 1)]
    sums = {}
    for col in letters:
        values = [number(ws[f"{col}{r}"].value) for r in kept]
        if col in ratios or ws[f"{col}{total}"].value is None or any(v is None for v in values):
            continue
        sums[col] = sum(values)
        ws[f"{col}{total}"] = written_like(sums[col], ws[f"{col}{total}"].value)
    for col, (num, den) in ratios.items():
        if sums.get(den):
            ws[f"{col}{total}"] = written_like(sums[num] / sums[den], ws[f"{col}{total}"].value)


def _delete_row(ws, r: int) -> None:
    """Delete a data row, moving the rows below up (merged ranges below it move too)."""
    below = [m for m in ws.merged_cells.ranges if m.min_row > r]
    for m in below:
        ws.unmerge_cells(str(m))
    ws.delete_rows(r)
    for m in below:
        m.shift(0, -1)
        ws.merge_cells(str(m))
