"""Open a delivery file as plain grids of cell values, one per sheet, whatever the file really is.

The kind of file is told by its content, never its name (see p06/ingest/formats/ for what each
format gives). Every path is bounded: only cells holding a value are kept, a value beyond the declared
limits (catalog/common.yaml `reader_limits`) refuses the file naming the cell, and compressed parts are
size-checked before they are decompressed. A file that cannot be read raises UnreadableFile with a
message that says what the file is and what to ask for; a failure of our own code is not caught here.
"""
from __future__ import annotations

import re
import warnings
import zipfile
import zlib
from pathlib import Path
from xml.parsers import expat

from p06.ingest.formats import biff, calamine, cfb, html, ods, ooxml, sniff, spreadsheetml, text, xlsb
from p06.ingest.formats.grid import Grid, UnreadableFile, cell_ref, column_letter
from p06.ingest.formats.limits import Limits
from p06.ingest.problems import Problem

__all__ = ["Grid", "UnreadableFile", "cell_ref", "column_letter", "open_grids"]

ANY_DELIVERY = "an .xlsx workbook (or .xls, .ods) or a .csv file"
_ODS = b"application/vnd.oasis.opendocument.spreadsheet"
# What the zip module raises on damaged bytes (a bad CRC, a cut stream, a garbled name or offset).
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, UnicodeDecodeError, NotImplementedError, OSError)


def open_grids(path: Path) -> list[Grid]:
    """Every sheet of the file as a Grid (hidden ones included, marked); raises UnreadableFile with a clear problem."""
    name = path.name
    size = path.stat().st_size
    if size == 0:
        raise UnreadableFile(Problem(name, "the file is empty (0 bytes)", expected=ANY_DELIVERY))
    limits = Limits.declared()
    limits.check_size(name, size, "the file")
    with open(path, "rb") as fh:
        head = fh.read(8192)
    kind = sniff.kind(head)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        grids = _read(path, kind, limits)
    notes = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    for grid in grids:
        grid.notes.extend(notes)
    return grids


def _read(path: Path, kind: str, limits: Limits) -> list[Grid]:
    name, suffix = path.name, path.suffix.lower()
    if kind == "zip":
        return _zip(path, limits)
    if kind == "cfb":
        return _cfb(path, limits)
    if kind == "text":
        return [text.read(path.read_bytes(), name, path.stem, limits)]
    if kind == "html":
        page, _ = text.decode(path.read_bytes(), name)
        grids = html.read(page, name, limits)
        if not grids:
            under = "" if suffix in (".htm", ".html") else f" saved under a {suffix or 'workbook'} name,"
            raise UnreadableFile(Problem(name, f"the file is a web page (HTML){under} and it holds no table",
                                         expected=ANY_DELIVERY))
        return grids
    if kind == "xml-spreadsheet":
        try:
            with open(path, "rb") as fh:
                return spreadsheetml.read(fh, name, limits)
        except expat.ExpatError as exc:
            raise UnreadableFile(Problem(name, f"the file is an 'XML Spreadsheet 2003' whose XML is damaged ({exc})",
                                         expected="the workbook saved as .xlsx (open it in Excel, Save As 'Excel "
                                                  "Workbook'), or sent again")) from exc
    what = "neither a workbook nor a text file" if kind == "binary" else kind
    raise UnreadableFile(Problem(name, f"the file is {what}, not a delivery", expected=ANY_DELIVERY))


def _damaged(name: str, detail: str, kind: str = ".xlsx") -> UnreadableFile:
    return UnreadableFile(Problem(name, f"cannot open the workbook: it is truncated or damaged ({detail})",
                                  expected=f"a complete {kind} workbook; ask the department to send the file again"))


def _zip(path: Path, limits: Limits) -> list[Grid]:
    name = path.name
    try:
        z = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise _damaged(name, "the file is cut short: the directory a workbook ends with is missing" if "not a zip" in str(exc)
                       else f"its zip directory is broken: {exc}") from exc
    except _ZIP_ERRORS as exc:
        raise _damaged(name, f"its zip directory is broken: {type(exc).__name__}: {exc}") from exc
    with z:
        names = {n.replace("\\", "/").lstrip("/").lower() for n in z.namelist()}
        pkg = ooxml.Package(z, limits)
        try:
            if "mimetype" in names or "content.xml" in names:
                mimetype = _small(z, "mimetype")
                if mimetype.strip() == _ODS or ("content.xml" in names and not mimetype):
                    try:
                        return ods.read(pkg, name, limits)
                    except (expat.ExpatError, KeyError) as exc:
                        raise _damaged(name, f"its content.xml is missing or not valid XML: {exc}", ".ods") from exc
                raise UnreadableFile(Problem(name, f"the file is an OpenDocument file but not a spreadsheet "
                                                   f"({mimetype.decode('ascii', 'replace') or 'no type'})", expected=ANY_DELIVERY))
            if "xl/workbook.bin" in names:
                _scan_extent(pkg, name, limits, binary=True)
                try:
                    return calamine.read(path, name, "xlsb", limits)
                except calamine.Failed as exc:
                    if exc.protected:
                        raise _protected(name) from exc
                    raise _damaged(name, f"the .xlsb workbook cannot be read: {exc}", ".xlsb") from exc
            if "xl/workbook.xml" in names or "[content_types].xml" in names:
                return _ooxml(path, z, pkg, names, limits)
        except ooxml.PartTooLarge as exc:
            raise UnreadableFile(Problem(name, f"the part {exc.name} is {exc.size / 2**20:,.0f} MB once decompressed, "
                                               f"more than the {limits.max_part_bytes // 2**20} MB a delivery can hold",
                                         expected="a workbook of the month's table only")) from exc
        except _ZIP_ERRORS as exc:
            raise _damaged(name, f"a compressed part cannot be read: {type(exc).__name__}: {exc}") from exc
    raise UnreadableFile(_not_a_workbook(name, names))


def _not_a_workbook(name: str, names: set[str]) -> Problem:
    if "word/document.xml" in names:
        what = "a Word document (.docx)"
    elif "ppt/presentation.xml" in names:
        what = "a PowerPoint presentation"
    else:
        inner = sorted(n for n in names if not n.endswith("/"))
        what = f"a zip archive holding {', '.join(inner[:5])}{' ...' if len(inner) > 5 else ''}"
        if any(n.endswith((".xlsx", ".xls", ".csv", ".ods", ".xlsm")) for n in inner):
            return Problem(name, f"the file is {what}, not a workbook",
                           expected="the workbook itself: unzip it and file the workbook inside")
    return Problem(name, f"the file is {what}, not a workbook", expected=ANY_DELIVERY)


def _small(z: zipfile.ZipFile, member: str) -> bytes:
    info = next((i for i in z.infolist() if i.filename.lower() == member), None)
    return z.read(info)[:200] if info is not None and info.file_size < 1000 else b""


def _ooxml(path: Path, z: zipfile.ZipFile, pkg: ooxml.Package, names: set[str], limits: Limits) -> list[Grid]:
    name = path.name
    macro = "xl/vbaproject.bin" in names or b"macroEnabled" in _small(z, "[content_types].xml") or path.suffix.lower() == ".xlsm"
    fmt = "xlsm" if macro else "xlsx"
    try:
        return ooxml.read(z, name, fmt, limits)
    except ooxml.NotAWorkbook:
        raise UnreadableFile(_not_a_workbook(name, names)) from None
    except (expat.ExpatError, KeyError, ValueError, IndexError) as exc:
        ours = f"{type(exc).__name__}: {exc}"
        what = "its XML is damaged" if isinstance(exc, expat.ExpatError) else "a part is missing or inconsistent"
    # A workbook our reader cannot parse: calamine is more lenient; its extent is checked first.
    _scan_extent(pkg, name, limits)
    try:
        grids = calamine.read(path, name, fmt, limits)
    except calamine.Failed as exc:
        raise UnreadableFile(Problem(name, f"cannot open the workbook: it is not a valid .xlsx file, {what} "
                                           f"({ours}; calamine: {exc})",
                                     expected="a complete .xlsx workbook; ask the department to send the file again, "
                                              "or to open it in Excel and save it again")) from exc
    for grid in grids:
        grid.notes.append(f"read by calamine: our reader could not parse it ({ours}); no number formats, hidden rows or columns")
    return grids


_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]{1,3})(\d{1,7})\"[^>]*?(/?)>")


def _scan_extent(pkg: ooxml.Package, name: str, limits: Limits, binary: bool = False) -> None:
    """Before calamine sees an OOXML package: refuse it when a cell element lies beyond the limits.

    A light regex scan of every worksheet part (it needs no well-formed XML); binary (.xlsb) parts are
    walked record by record (`xlsb`).
    """
    from openpyxl.utils.cell import column_index_from_string
    for part in [n for n in pkg.names if n.lower().startswith("xl/worksheets/") and not n.endswith("/")]:
        with pkg.open(part) as f:
            if binary:
                if part.lower().endswith(".bin"):
                    xlsb.check_extent(f, name, part.rsplit("/", 1)[-1], limits)
                continue
            tail = b""
            while chunk := f.read(1 << 20):
                data = tail + chunk
                for m in _CELL.finditer(data):
                    if m.group(3) == b"/":
                        continue
                    r, c = int(m.group(2)) - 1, column_index_from_string(m.group(1).decode()) - 1
                    limits.check_cell(name, part.rsplit("/", 1)[-1], r, c)
                tail = data[-200:]


def _cfb(path: Path, limits: Limits) -> list[Grid]:
    name = path.name
    data = path.read_bytes()
    try:
        streams = {s.lower() for s in cfb.stream_names(data)}
    except cfb.DamagedContainer as exc:
        raise _damaged(name, f"the .xls container is cut short or broken: {exc}", ".xls") from exc
    if "encryptedpackage" in streams or "encryptioninfo" in streams:
        raise _protected(name)
    if "workbook" in streams or "book" in streams:
        try:
            grids = calamine.read(path, name, "xls", limits, biff.facts(path, name, limits))
        except biff.Encrypted as exc:
            raise _protected(name) from exc
        except (calamine.Failed, OSError) as exc:      # olefile raises OSError on a broken container
            if getattr(exc, "protected", False):
                raise _protected(name) from exc
            raise UnreadableFile(Problem(name, f"cannot read this old .xls (BIFF) workbook: it is damaged or written "
                                               f"by a program calamine cannot follow ({exc})",
                                         expected="the workbook saved as .xlsx (open it in Excel, Save As 'Excel "
                                                  "Workbook'), or sent again if it is damaged")) from exc
        if path.suffix.lower() != ".xls":
            for grid in grids:
                grid.notes.append(f"an old .xls (BIFF) workbook under a {path.suffix} name")
        return grids
    what = "a Word document (.doc)" if "worddocument" in streams else "an Office file that is not a workbook"
    raise UnreadableFile(Problem(name, f"the file is {what}", expected=ANY_DELIVERY))


def _protected(name: str) -> UnreadableFile:
    return UnreadableFile(Problem(name, "the workbook is password-protected, so it cannot be read",
                                  expected="the workbook without a password; ask the department to send it without one"))
