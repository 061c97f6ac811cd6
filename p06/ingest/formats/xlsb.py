"""A light pass over the binary sheet parts of an .xlsb workbook: refuse a cell beyond the limits before
calamine allocates its grid (which spans every cell up to the farthest one).

Records (MS-XLSB 2.1.4): a type and a size, each a 7-bit variable-length integer, then the data.
BrtRowHdr (0) starts a row (its index in the first 4 bytes); cell records give their column in their
first 4 bytes, 'short' cells (12-18) follow the previous column. Blank cells count too: whether calamine
sizes its grid by them is not documented, so the pass is conservative.
"""
from __future__ import annotations

import struct
from typing import IO

from p06.ingest.formats.limits import Limits

_ROW = 0
_CELLS = set(range(1, 12)) | {62}        # BrtCellBlank .. BrtFmlaError, BrtCellRString
_SHORT = set(range(12, 19))              # BrtShortBlank .. BrtShortIsst


def _varint(data: bytes, pos: int, width: int) -> tuple[int, int]:
    value = shift = 0
    for _ in range(width):
        if pos >= len(data):
            raise EOFError("record cut short")
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    return value, pos


def check_extent(stream: IO[bytes], file: str, sheet: str, limits: Limits) -> None:
    data = stream.read()
    pos, row, col = 0, 0, -1
    while pos < len(data):
        kind, pos = _varint(data, pos, 2)
        size, pos = _varint(data, pos, 4)
        body = data[pos:pos + size]
        pos += size
        if kind == _ROW and len(body) >= 4:
            row, col = struct.unpack_from("<I", body)[0], -1
        elif kind in _CELLS and len(body) >= 4:
            col = struct.unpack_from("<I", body)[0]
            limits.check_cell(file, sheet, row, col)
        elif kind in _SHORT:
            col += 1
            limits.check_cell(file, sheet, row, col)
