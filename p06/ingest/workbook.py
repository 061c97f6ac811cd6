"""Open a delivery (xlsx or csv) as plain grids of cell values, one per sheet, keeping merged ranges.

openpyxl is used (not a calamine reader) because header detection needs merged cells.
"""
from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_to_tuple

from p06.ingest.problems import Problem

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
CSV_SUFFIXES = {".csv", ".txt"}


class UnreadableFile(Exception):
    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class Grid:
    """One sheet: values by (row, column), 0-based; merged ranges as (r1, c1, r2, c2) inclusive."""
    file: str
    sheet: str
    rows: list[list[Any]]
    formats: list[list[str | None]] | None = None
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    unsaved: dict[tuple[int, int], str] = field(default_factory=dict)   # formulas the file holds no value of

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
        for r1, c1, r2, c2 in self.merged:
            if r1 <= r <= r2 and c1 <= c <= c2:
                return r1, c1
        return r, c

    def filled(self, r: int, c: int) -> Any:
        """The value shown at (r, c): a merged range shows its top-left value everywhere."""
        return self.value(*self.merged_origin(r, c))


def cell_ref(r: int, c: int) -> str:
    return f"{get_column_letter(c + 1)}{r + 1}"


def column_letter(c: int) -> str:
    return get_column_letter(c + 1)


def open_grids(path: Path) -> list[Grid]:
    """Every sheet of the file as a Grid; raises UnreadableFile with a clear problem."""
    name = path.name
    if path.stat().st_size == 0:
        raise UnreadableFile(Problem(name, "the file is empty (0 bytes)", expected="an .xlsx workbook or a .csv file"))
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return _excel_grids(path)
    if suffix in CSV_SUFFIXES:
        return [_csv_grid(path)]
    raise UnreadableFile(Problem(name, f"unsupported file type '{path.suffix}'",
                                 expected="an .xlsx workbook or a .csv file (save .xls as .xlsx)"))


def _excel_grids(path: Path) -> list[Grid]:
    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:    # a bad zip, a cut XML part, a missing part: all mean the file is damaged
        raise UnreadableFile(Problem(
            path.name, f"cannot open the workbook: it is truncated or not a valid .xlsx file ({type(exc).__name__}: {exc})",
            expected="a complete .xlsx workbook; ask the department to send the file again")) from exc
    unsaved = _unsaved_formulas(path)
    grids = []
    for ws in wb.worksheets:
        rows, formats = [], []
        for row in ws.iter_rows():
            rows.append([c.value for c in row])
            formats.append([c.number_format for c in row])
        merged = [(m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1) for m in ws.merged_cells.ranges]
        grids.append(Grid(path.name, ws.title, rows, formats, merged, unsaved.get(ws.title, {})))
    wb.close()
    return grids


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> path of its XML part inside the workbook."""
    rels = {el.get("Id"): el.get("Target") for el in ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
    parts = {}
    for el in ET.fromstring(z.read("xl/workbook.xml")).iter():
        if _local(el.tag) == "sheet":
            target = next((rels.get(v) for k, v in el.attrib.items() if _local(k) == "id"), None)
            if target:
                parts[el.get("name")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return parts


def _unsaved_formulas(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    """Per sheet, the formula cells stored without a value, by 0-based (row, column).

    openpyxl reads such a cell as blank. Excel and LibreOffice save each formula's value; programs
    that write formulas only (openpyxl among them) leave it empty. An empty text result is typed
    t="str" and is a real blank.
    """
    found: dict[str, dict[tuple[int, int], str]] = {}
    with zipfile.ZipFile(path) as z:
        for title, part in _sheet_parts(z).items():
            data = z.read(part)
            if not _FORMULA_TAG.search(data):
                continue
            cells = found.setdefault(title, {})
            for _, el in ET.iterparse(io.BytesIO(data)):
                if _local(el.tag) != "c":
                    continue
                children = {_local(child.tag): child for child in el}
                formula, value = children.get("f"), children.get("v")
                if formula is not None and el.get("r") and el.get("t", "n") == "n" and (value is None or not value.text):
                    row, col = coordinate_to_tuple(el.get("r"))
                    cells[(row - 1, col - 1)] = f"={formula.text}" if formula.text else "(a shared formula)"
                el.clear()
    return found


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "cp1258"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _looks_binary(data: bytes) -> bool:
    """A zip (xlsx) or other binary content; UTF-16 text has NUL bytes but starts with its BOM."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    return data.startswith(b"PK\x03\x04") or b"\x00" in data[:4096]


def _delimiter(lines: list[str]) -> str:
    """';', ',' or tab: the one that splits the first lines (quotes respected) into the most equal, widest rows.

    Counting characters would be fooled by decimal commas ("96,20") in a ';' file.
    """
    def score(d: str) -> tuple[int, int]:
        widths = [len(row) for row in csv.reader(lines, delimiter=d)]
        return (max(widths.count(w) for w in set(widths)) if min(widths) > 1 else 0, max(widths))
    return max(";,\t", key=score)


def _csv_grid(path: Path) -> Grid:
    data = path.read_bytes()
    if _looks_binary(data):
        raise UnreadableFile(Problem(path.name, "the file is not text: it looks like a workbook saved under a .csv name",
                                     expected="a text .csv file, or the workbook with its .xlsx name"))
    text = _decode(data)
    lines = [ln for ln in text.splitlines() if ln.strip()][:10]
    if not lines:
        raise UnreadableFile(Problem(path.name, "the file holds no data", expected="a header line and one line per unit"))
    delimiter = _delimiter(lines)
    try:
        rows = [[cell.strip() or None for cell in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    except csv.Error as exc:
        raise UnreadableFile(Problem(path.name, f"cannot read the CSV: {exc}",
                                     expected=f"one line per row, fields separated by '{delimiter}'")) from exc
    return Grid(path.name, path.stem, rows)
