"""A light pass over an old .xls (BIFF8/BIFF5) workbook stream: where the values are, hidden rows and columns.

calamine allocates the whole rectangle up to the farthest cell (65.536 x 256 cells, over 1 GB), so the
cell records are walked here first and a value beyond the limits refuses the file before calamine runs.
"""
from __future__ import annotations

import struct

import olefile

from p06.ingest.formats.limits import Limits

# record type -> the cell records holding a value (row, first column at offsets 0 and 2)
_CELLS = {0x0203, 0x027E, 0x00FD, 0x0204, 0x0205, 0x0006, 0x00D6, 0x00BD, 0x0201, 0x00BE}
_BOF, _EOF, _BOUNDSHEET, _ROW, _COLINFO, _FILEPASS = 0x0809, 0x000A, 0x0085, 0x0208, 0x007D, 0x002F


class Encrypted(Exception):
    pass


def facts(path, file: str, limits: Limits) -> dict[str, tuple[set[int], set[int]]]:
    """Per sheet name: (hidden rows, hidden columns); refuses a value beyond the limits."""
    with olefile.OleFileIO(str(path)) as ole:
        name = next((n for n in ("Workbook", "Book") if ole.exists(n)), None)
        if name is None:
            raise OSError("no Workbook stream")
        limits.check_size(file, ole.get_size(name), "the workbook stream")
        data = ole.openstream(name).read()
    sheets: list[str] = []
    found: dict[str, tuple[set[int], set[int]]] = {}
    index, pos, depth = -1, 0, 0         # index: substream after the globals, in BOUNDSHEET order
    while pos + 4 <= len(data):
        kind, size = struct.unpack_from("<HH", data, pos)
        body = data[pos + 4:pos + 4 + size]
        pos += 4 + size
        if kind == _BOF:
            depth += 1
            if depth == 1 and _is_sheet(body):
                index += 1
        elif kind == _EOF:
            depth = max(0, depth - 1)
        elif kind == _FILEPASS:
            raise Encrypted()
        elif kind == _BOUNDSHEET and len(body) > 8:
            sheets.append(_sheet_name(body))
        elif depth == 1 and index >= 0 and len(body) >= 4:
            sheet = sheets[index] if index < len(sheets) else f"sheet {index + 1}"
            rows, cols = found.setdefault(sheet, (set(), set()))
            if kind in _CELLS and kind not in (0x0201, 0x00BE):
                r, c = struct.unpack_from("<HH", body)
                last = struct.unpack_from("<H", body, len(body) - 2)[0] if kind == 0x00BD else c
                limits.check_cell(file, sheet, r, max(c, last))
            elif kind == _ROW and len(body) >= 16 and struct.unpack_from("<H", body, 12)[0] & 0x20:
                r = struct.unpack_from("<H", body)[0]
                if r < limits.max_rows:
                    rows.add(r)
            elif kind == _COLINFO and len(body) >= 10 and struct.unpack_from("<H", body, 8)[0] & 0x1:
                first, last = struct.unpack_from("<HH", body)
                cols.update(range(first, min(last + 1, limits.max_columns)))
    return found


def _is_sheet(bof: bytes) -> bool:
    return len(bof) >= 4 and struct.unpack_from("<H", bof, 2)[0] != 0x0005


def _sheet_name(body: bytes) -> str:
    n, flags = body[6], body[7]
    raw = body[8:]
    return raw[:2 * n].decode("utf-16-le", "replace") if flags & 1 else raw[:n].decode("latin-1", "replace")
