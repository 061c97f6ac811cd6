"""What a file really is, from its first bytes (never from its name)."""
from __future__ import annotations

import re

from p06.ingest.formats.cfb import MAGIC as CFB_MAGIC

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_HTML = re.compile(rb"<\s*(!doctype\s+html|html|table|head|body|meta|tr|td|th|div|p|span|h[1-6]|a|br|form|link|script|"
                   rb"style|title|ul|li)\b", re.I)
_PAGE = re.compile(rb"<\s*(!doctype\s+html|html|table)\b", re.I)        # a page, even after other text
_XML_SPREADSHEET = re.compile(rb"urn:schemas-microsoft-com:office:spreadsheet|<\s*(ss:)?Workbook\b", re.I)
OTHER = {b"%PDF": "a PDF document", b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image",
         b"{\\rtf": "an RTF document", b"Rar!": "a RAR archive", b"7z\xbc\xaf": "a 7-Zip archive",
         b"\x1f\x8b": "a gzip archive"}


def kind(head: bytes) -> str:
    """'zip', 'cfb', 'html', 'xml-spreadsheet', 'text', or a description of another kind of file."""
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.startswith(CFB_MAGIC):
        return "cfb"
    for magic, what in OTHER.items():
        if head.startswith(magic):
            return what
    start = _text_start(head)
    if start is not None:
        if start.lstrip().startswith(b"<"):
            if _XML_SPREADSHEET.search(start[:4096]):
                return "xml-spreadsheet"
            if _HTML.search(start[:4096]):
                return "html"
        if _PAGE.search(start[:4096]):
            return "html"
        return "text"
    return "binary"


def _text_start(head: bytes) -> bytes | None:
    """The first bytes as 8-bit text (UTF-16 narrowed to its low bytes), or None if they are not text."""
    if head.startswith(b"\xef\xbb\xbf"):
        return head[3:]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _narrow(head[2:], head.startswith(b"\xff\xfe"))
    order = utf16_order(head)
    if order:
        return _narrow(head, order == "le")
    if b"\x00" in head:
        return None
    controls = sum(1 for b in head[:4096] if b < 32 and b not in (9, 10, 12, 13))
    return head if controls <= max(2, len(head[:4096]) // 200) else None


def _narrow(data: bytes, little: bool) -> bytes:
    return data[0 if little else 1::2]


def utf16_order(head: bytes) -> str | None:
    """'le' or 'be' when the bytes look like UTF-16 without a BOM: NUL bytes on one side of every pair.

    Text of digits, separators and Vietnamese letters in UTF-16 has a NUL in most ASCII pairs and
    never a NUL on the other side; binary data has NULs on both sides.
    """
    sample = head[:4096]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even = sum(1 for i in range(0, 2 * pairs, 2) if sample[i] == 0)
    odd = sum(1 for i in range(1, 2 * pairs, 2) if sample[i] == 0)
    if odd >= pairs * 0.3 and even == 0:
        return "le"
    if even >= pairs * 0.3 and odd == 0:
        return "be"
    return None
