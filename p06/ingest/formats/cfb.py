"""The stream names of an OLE2 / Compound File Binary container (old .xls, or an encrypted .xlsx).

Only the directory is read: enough to tell a BIFF workbook ("Workbook" / "Book" stream) from a
password-protected OOXML package ("EncryptedPackage") or another Office document.
"""
from __future__ import annotations

import struct

MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_END = 0xFFFFFFFE


class DamagedContainer(Exception):
    pass


def stream_names(data: bytes) -> set[str]:
    """Names of the directory entries; raises DamagedContainer if the structure is cut or inconsistent."""
    if len(data) < 512 or not data.startswith(MAGIC):
        raise DamagedContainer("shorter than its header")
    shift = struct.unpack_from("<H", data, 0x1E)[0]
    if shift not in (9, 12):
        raise DamagedContainer(f"sector size 2^{shift}")
    size = 1 << shift
    first_dir = struct.unpack_from("<I", data, 0x30)[0]
    n_difat = struct.unpack_from("<I", data, 0x48)[0]
    fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < _END]
    difat = struct.unpack_from("<I", data, 0x44)[0]
    for _ in range(min(n_difat, 1000)):
        if difat >= _END:
            break
        entries = _sector(data, difat, size)
        values = struct.unpack(f"<{size // 4}I", entries)
        fat_sectors += [s for s in values[:-1] if s < _END]
        difat = values[-1]
    fat: list[int] = []
    for s in fat_sectors:
        fat += struct.unpack(f"<{size // 4}I", _sector(data, s, size))
    names: set[str] = set()
    sector, seen = first_dir, set()
    while sector < _END:
        if sector in seen or sector >= len(fat):
            raise DamagedContainer("directory chain broken")
        seen.add(sector)
        block = _sector(data, sector, size)
        for off in range(0, size, 128):
            length = struct.unpack_from("<H", block, off + 64)[0]
            if 2 <= length <= 64 and block[off + 66] in (1, 2, 5):
                names.add(block[off:off + length - 2].decode("utf-16-le", "replace"))
        sector = fat[sector]
    return names


def _sector(data: bytes, n: int, size: int) -> bytes:
    start = (n + 1) * size
    if start + size > len(data):
        raise DamagedContainer(f"sector {n} lies beyond the end of the file")
    return data[start:start + size]
