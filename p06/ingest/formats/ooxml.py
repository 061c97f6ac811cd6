"""Read .xlsx / .xlsm by streaming each sheet's XML (expat): only cells that hold a value are kept.

A sheet may declare its grid out to XFD1048576, or carry styled empty cells that far: neither costs
anything here, because empty cells are skipped and rows are built only up to the last value. A value
beyond the declared limits refuses the file at once, naming the cell. Every part is size-checked
against its declared (uncompressed) size before it is decompressed.

Gives: values (numbers, text, booleans, errors as text, dates as datetime), number formats, merged
ranges, hidden sheets, rows and columns (hidden, or zero height / width), formulas saved without value.
"""
from __future__ import annotations

import posixpath
import re
import zipfile
from datetime import datetime
from typing import IO, Any, Callable
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel

from p06.ingest.formats.grid import Grid, dense
from p06.ingest.formats.limits import Limits

NS_SEP = "\x01"
_REF = re.compile(r"([A-Za-z]{1,3})(\d+)$")


class NotAWorkbook(Exception):
    """The zip lacks a part every workbook has (the caller decides what the file is instead)."""


class PartTooLarge(Exception):
    def __init__(self, name: str, size: int):
        super().__init__(name)
        self.name, self.size = name, size


class Package:
    """The parts of a zip, read only after their declared size passed the limit."""

    def __init__(self, z: zipfile.ZipFile, limits: Limits):
        self.z, self.limits = z, limits
        self.names = {n.replace("\\", "/").lstrip("/"): n for n in z.namelist()}
        self.lower = {n.lower(): n for n in self.names}

    def find(self, name: str) -> str | None:
        name = posixpath.normpath(name.replace("\\", "/")).lstrip("/")
        return self.names.get(name) and name or (self.lower.get(name.lower()))

    def open(self, name: str) -> IO[bytes]:
        found = self.find(name)
        if found is None:
            raise KeyError(name)
        info = self.z.getinfo(self.names[found])
        if info.file_size > self.limits.max_part_bytes:
            raise PartTooLarge(found, info.file_size)
        return self.z.open(info)


def _parse(stream: IO[bytes], start: Callable, end: Callable | None = None, text: Callable | None = None) -> None:
    parser = expat.ParserCreate(namespace_separator=NS_SEP)
    parser.buffer_text = True
    parser.StartElementHandler = lambda tag, attrs: start(tag.rsplit(NS_SEP, 1)[-1], attrs)
    if end:
        parser.EndElementHandler = lambda tag: end(tag.rsplit(NS_SEP, 1)[-1])
    if text:
        parser.CharacterDataHandler = text
    parser.ParseFile(stream)


# A cell element with nothing inside (a styled empty cell): dropped before expat sees it, so a row
# formatted out to column XFD costs a regex match instead of a Python call per cell.
_EMPTY_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\b[^<>]*?(?:/>|>\s*</(?:[A-Za-z_][\w.-]*:)?c>)")
# A row element left empty, numbered and not hidden: nothing to read in it either.
_EMPTY_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\b(?=[^<>]*\br=)(?![^<>]*\b(?:hidden|ht)=)[^<>]*?"
                        rb"(?:/>|>\s*</(?:[A-Za-z_][\w.-]*:)?row>)")


def _drop_empty(data: bytes) -> bytes:
    return _EMPTY_ROW.sub(b"", _EMPTY_CELL.sub(b"", data))


def _parse_sheet(stream: IO[bytes], start: Callable, end: Callable, text: Callable) -> None:
    """_parse for a worksheet (the hot path): empty cell elements removed from the stream in C first
    (chunk by chunk), no namespace processing (tags are compared by local name, cached)."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    local: dict[str, str] = {}

    def on_start(tag, attrs):
        start(local.get(tag) or local.setdefault(tag, tag.rpartition(":")[2]), attrs)

    def on_end(tag):
        end(local.get(tag) or local.setdefault(tag, tag.rpartition(":")[2]))
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = on_start, on_end, text
    tail = b""
    while chunk := stream.read(1 << 20):
        data = tail + chunk
        cut = data.rfind(b"<")          # keep an element that may continue in the next chunk
        data, tail = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
        parser.Parse(_drop_empty(data), False)
    parser.Parse(_drop_empty(tail), True)


def _attr(attrs: dict, name: str) -> str | None:
    """An attribute by local name, namespaced or not."""
    if name in attrs:
        return attrs[name]
    for k, v in attrs.items():
        if k.rsplit(NS_SEP, 1)[-1] == name:
            return v
    return None


def _rels(pkg: Package, part: str) -> dict[str, tuple[str, str]]:
    """rId -> (type suffix, target part path) of a part's relationships."""
    folder, base = posixpath.split(part)
    rels_part = posixpath.join(folder, "_rels", base + ".rels")
    found: dict[str, tuple[str, str]] = {}
    if pkg.find(rels_part) is None:
        return found

    def start(tag, attrs):
        if tag == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "").replace("\\", "/")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            found[attrs.get("Id", "")] = (attrs.get("Type", "").rsplit("/", 1)[-1], path)
    with pkg.open(rels_part) as f:
        _parse(f, start)
    return found


def _workbook_part(pkg: Package) -> str:
    for rid, (kind, target) in _rels(pkg, "").items():
        if kind == "officeDocument":
            return target
    if pkg.find("xl/workbook.xml"):
        return "xl/workbook.xml"
    raise NotAWorkbook()


def _shared_strings(pkg: Package, part: str | None) -> list[str]:
    strings: list[str] = []
    if not part or pkg.find(part) is None:
        return strings
    state = {"buf": None, "depth_t": False, "rph": 0}

    def start(tag, attrs):
        if tag == "si":
            state["buf"] = []
        elif tag == "rPh":
            state["rph"] += 1
        elif tag == "t" and not state["rph"] and state["buf"] is not None:
            state["depth_t"] = True

    def end(tag):
        if tag == "si":
            strings.append("".join(state["buf"]))
            state["buf"] = None
        elif tag == "rPh":
            state["rph"] -= 1
        elif tag == "t":
            state["depth_t"] = False

    def text(data):
        if state["depth_t"]:
            state["buf"].append(data)
    with pkg.open(part) as f:
        _parse(f, start, end, text)
    return strings


def _styles(pkg: Package, part: str | None) -> list[str]:
    """Number format code of each cell style index (cellXfs)."""
    custom: dict[int, str] = {}
    xf_formats: list[int] = []
    if not part or pkg.find(part) is None:
        return []
    where = {"cellXfs": False}

    def start(tag, attrs):
        if tag == "numFmt":
            try:
                custom[int(attrs.get("numFmtId", "-1"))] = attrs.get("formatCode", "General")
            except ValueError:
                pass
        elif tag == "cellXfs":
            where["cellXfs"] = True
        elif tag == "xf" and where["cellXfs"]:
            try:
                xf_formats.append(int(attrs.get("numFmtId", "0")))
            except ValueError:
                xf_formats.append(0)

    def end(tag):
        if tag == "cellXfs":
            where["cellXfs"] = False
    with pkg.open(part) as f:
        _parse(f, start, end)
    return [custom.get(i) or BUILTIN_FORMATS.get(i, "General") for i in xf_formats]


def _number(text: str) -> int | float:
    if "." in text or "e" in text or "E" in text:
        return float(text)
    return int(text)


class _SheetReader:
    """expat handlers for one worksheet part."""

    def __init__(self, file: str, sheet: str, strings: list[str], formats: list[str], epoch: datetime, limits: Limits):
        self.file, self.sheet, self.strings, self.formats, self.epoch, self.limits = file, sheet, strings, formats, epoch, limits
        self.cells: dict[tuple[int, int], Any] = {}
        self.cell_formats: dict[tuple[int, int], str] = {}
        self.unsaved: dict[tuple[int, int], str] = {}
        self.merged: list[tuple[int, int, int, int]] = []
        self.hidden_rows: set[int] = set()
        self.visible_rows: set[int] = set()
        self.hidden_cols: set[int] = set()
        self.zero_height = False
        self.elements = 0
        self.row = -1
        self.col = -1
        self.cell: dict | None = None
        self.text: list[str] | None = None
        self.in_is = False

    def start(self, tag: str, attrs: dict) -> None:
        if tag == "v":
            self.text = []
        elif tag == "c":
            ref = attrs.get("r")
            m = _REF.match(ref) if ref else None
            if m:
                self.col = column_index_from_string(m.group(1).upper()) - 1
                self.row = int(m.group(2)) - 1
            else:
                self.col += 1
            self.cell = {"t": attrs.get("t", "n"), "s": attrs.get("s"), "v": None, "f": None, "is": None}
        elif self.cell is not None and tag in ("v", "f"):
            self.text = []
        elif self.cell is not None and tag == "is":
            self.in_is, self.cell["is"] = True, []
        elif self.in_is and tag == "t":
            self.text = []
        elif tag == "row":
            self._count()
            r = attrs.get("r")
            self.row = int(r) - 1 if r and r.isdigit() else self.row + 1
            self.col = -1
            if self.row < self.limits.max_rows:
                ht = attrs.get("ht")
                if attrs.get("hidden") in ("1", "true") or (ht is not None and _float(ht) == 0):
                    self.hidden_rows.add(self.row)
                else:
                    self.visible_rows.add(self.row)
        elif tag == "col":
            lo, hi = _int(attrs.get("min")), _int(attrs.get("max"))
            width = attrs.get("width")
            if lo and hi and (attrs.get("hidden") in ("1", "true") or (width is not None and _float(width) == 0)):
                self.hidden_cols.update(range(lo - 1, min(hi, self.limits.max_columns)))
        elif tag == "mergeCell":
            box = _box(attrs.get("ref", ""))
            if box and box[0] < self.limits.max_rows and box[1] < self.limits.max_columns:
                self.merged.append(box)
        elif tag == "sheetFormatPr":
            self.zero_height = attrs.get("zeroHeight") in ("1", "true")

    def chars(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def end(self, tag: str) -> None:
        cell = self.cell
        if cell is None:
            return
        if tag in ("v", "f") and self.text is not None:
            cell[tag] = "".join(self.text)
            self.text = None
        elif tag == "t" and self.in_is and self.text is not None:
            cell["is"].append("".join(self.text))
            self.text = None
        elif tag == "is":
            self.in_is = False
        elif tag == "c":
            self._cell(cell)
            self.cell = None

    def _count(self) -> None:
        """Bound the work on elements that hold no value (empty text, hidden empty rows)."""
        self.elements += 1
        if self.elements > self.limits.max_elements:
            self.limits.refuse_elements(self.file, self.sheet, max(self.row, 0), max(self.col, 0))

    def _cell(self, cell: dict) -> None:
        self._count()
        t, v, r, c = cell["t"], cell["v"], self.row, self.col
        if t == "inlineStr":
            value: Any = "".join(cell["is"] or []) or None
        elif v is None or v == "":
            if cell["f"] is not None and t == "n":
                self.limits.check_cell(self.file, self.sheet, r, c)
                self.unsaved[(r, c)] = f"={cell['f']}" if cell["f"] else "(a shared formula)"
            return
        elif t == "s":
            value = self.strings[int(v)] if v.isdigit() and int(v) < len(self.strings) else None
        elif t in ("str", "e"):
            value = v
        elif t == "b":
            value = v.strip() in ("1", "true")
        elif t == "d":
            value = _iso_date(v)
        else:
            value = self._numeric(v, cell["s"])
        if value is None or value == "":
            return
        self.limits.check_cell(self.file, self.sheet, r, c)
        self.cells[(r, c)] = value
        if len(self.cells) > self.limits.max_cells:
            self.limits.refuse_count(self.file, self.sheet, r, c)
        s = _int(cell["s"]) or 0
        self.cell_formats[(r, c)] = self.formats[s] if s < len(self.formats) else "General"

    def _numeric(self, v: str, style: str | None) -> Any:
        try:
            number = _number(v.strip())
        except ValueError:
            return v
        s = _int(style) or 0
        fmt = self.formats[s] if s < len(self.formats) else "General"
        if fmt != "General" and is_date_format(fmt):
            try:
                return from_excel(number, self.epoch, timedelta=is_timedelta_format(fmt))
            except (ValueError, OverflowError):
                return number
        return number

    def grid(self, hidden: bool, fmt: str) -> Grid:
        n_rows = max((r for r, _ in self.cells), default=-1) + 1
        hidden_rows = self.hidden_rows
        if self.zero_height:
            hidden_rows = hidden_rows | (set(range(n_rows)) - self.visible_rows)
        return dense(self.file, self.sheet, self.cells, self.cell_formats, merged=self.merged, unsaved=self.unsaved,
                     hidden=hidden, hidden_rows=hidden_rows, hidden_cols=self.hidden_cols, format=fmt)


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _box(ref: str) -> tuple[int, int, int, int] | None:
    parts = ref.split(":")
    corners = [_REF.match(p.replace("$", "")) for p in parts]
    if not all(corners):
        return None
    (c1, r1), (c2, r2) = [(column_index_from_string(m.group(1).upper()) - 1, int(m.group(2)) - 1) for m in corners * (3 - len(corners))][:2]
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def _iso_date(text: str) -> Any:
    try:
        return datetime.fromisoformat(text.rstrip("Z"))
    except ValueError:
        return text


def read(z: zipfile.ZipFile, file: str, fmt: str, limits: Limits) -> list[Grid]:
    """Every worksheet of the package as a Grid (chart sheets have no cells and are left out)."""
    pkg = Package(z, limits)
    book = _workbook_part(pkg)
    if pkg.find(book) is None:
        raise NotAWorkbook()
    rels = _rels(pkg, book)
    sheets: list[tuple[str, str, bool]] = []
    props = {"date1904": False}

    def start(tag, attrs):
        if tag == "sheet":
            rid = _attr(attrs, "id")
            kind, target = rels.get(rid or "", ("", ""))
            if kind == "worksheet":
                sheets.append((attrs.get("name", ""), target, attrs.get("state", "visible") in ("hidden", "veryHidden")))
        elif tag == "workbookPr":
            props["date1904"] = attrs.get("date1904") in ("1", "true")
    declared = {"n": 0}

    def count(tag, attrs):
        declared["n"] += tag == "sheet"
        start(tag, attrs)
    with pkg.open(book) as f:
        _parse(f, count)
    if declared["n"] and not sheets and not any(kind == "chartsheet" for kind, _ in rels.values()):
        raise KeyError(f"none of the {declared['n']} sheets of {book} has its part named in the relationships")
    by_kind = {kind: target for kind, target in rels.values()}
    strings = _shared_strings(pkg, by_kind.get("sharedStrings"))
    formats = _styles(pkg, by_kind.get("styles"))
    epoch = MAC_EPOCH if props["date1904"] else WINDOWS_EPOCH
    grids = []
    for name, part, hidden in sheets:
        reader = _SheetReader(file, name, strings, formats, epoch, limits)
        if pkg.find(part) is not None:
            with pkg.open(part) as f:
                _parse_sheet(f, reader.start, reader.end, reader.chars)
        grids.append(reader.grid(hidden, fmt))
    return grids
