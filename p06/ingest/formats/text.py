"""Read a CSV delivery: decode it without guessing wrong, then split it by its delimiter.

Encodings, in order: a BOM (UTF-8, UTF-16 LE/BE); UTF-16 without BOM told by its NUL bytes; strict
UTF-8; Windows-1258 (the Vietnamese code page) only when the text it gives is Vietnamese. Windows-1258
writes tones as combining marks, so its text is normalised to NFC. Anything else is refused with the
first byte UTF-8 cannot read. Gives values as text only (no formats, merges or hidden state).
"""
from __future__ import annotations

import csv
import io
import unicodedata

from p06.ingest.formats.grid import Grid, UnreadableFile, dense
from p06.ingest.formats.limits import Limits
from p06.ingest.formats.sniff import utf16_order
from p06.ingest.problems import Problem

SAVE_AS = "a CSV saved as 'CSV UTF-8' (or the workbook itself)"
MAX_LINE = 100_000      # characters: 200 columns of 500 characters; a longer line is not a table row
# Letters of Vietnamese beyond ASCII, precomposed, and the combining tone marks Windows-1258 uses.
_VI_BASE = "ăâđêôơưĂÂĐÊÔƠƯ"
_TONES = "\u0300\u0301\u0303\u0309\u0323"
_VI_LETTERS = set(_VI_BASE) | {unicodedata.normalize("NFC", b + t) for b in "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY" for t in _TONES}
_PUNCTUATION = set("–—‘’“”…•°²³±×÷€£§¶«»\u00a0·")


def decode(data: bytes, file: str) -> tuple[str, str]:
    """(text, encoding name) or UnreadableFile naming the encoding problem."""
    try:
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:].decode("utf-8"), "UTF-8 with BOM"
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16"), "UTF-16 with BOM"
        order = utf16_order(data)
        if order:
            return data.decode(f"utf-16-{order}"), f"UTF-16 {order.upper()} without BOM"
    except UnicodeDecodeError as exc:
        raise _undecodable(file, data, exc, "UTF-16") from exc
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as utf8_error:
        try:
            text = unicodedata.normalize("NFC", data.decode("cp1258"))
        except UnicodeDecodeError:
            raise _undecodable(file, data, utf8_error, "UTF-8") from utf8_error
        if _looks_vietnamese(text):
            return text, "Windows-1258"
        raise _undecodable(file, data, utf8_error, "UTF-8", tried_1258=True) from utf8_error


def _looks_vietnamese(text: str) -> bool:
    """Every non-ASCII character is a Vietnamese letter or common punctuation, and some are letters."""
    letters = others = 0
    for ch in text:
        if ord(ch) < 128 or ch in _PUNCTUATION:
            continue
        if ch in _VI_LETTERS or ch.lower() in _VI_LETTERS:
            letters += 1
        else:
            others += 1
    return letters > 0 and others <= letters // 100


def _undecodable(file: str, data: bytes, exc: UnicodeDecodeError, encoding: str, tried_1258: bool = False) -> UnreadableFile:
    at = exc.start
    line = data[:at].count(b"\n") + 1
    tail = (" nor Vietnamese text in Windows-1258 (if it was typed with a .Vn font, TCVN3, convert it "
            "to Unicode first)") if tried_1258 else ""
    return UnreadableFile(Problem(file, f"the text is not {encoding}{tail}: byte 0x{data[at]:02X} at offset {at} "
                                        f"(line {line}) cannot be read", row=line, expected=SAVE_AS))


def _delimiter(lines: list[str]) -> str:
    """';', ',' or tab: the one that splits the first lines (quotes respected) into the most equal, widest rows.

    Counting characters would be fooled by decimal commas ("96,20") in a ';' file.
    """
    def score(d: str) -> tuple[int, int]:
        try:
            widths = [len(row) for row in csv.reader(lines, delimiter=d)]
        except csv.Error:
            return (0, 0)
        return (max(widths.count(w) for w in set(widths)) if min(widths) > 1 else 0, max(widths))
    return max(";,\t", key=score)


def read(data: bytes, file: str, sheet: str, limits: Limits) -> Grid:
    text, encoding = decode(data, file)
    for number, line in enumerate(text.splitlines(), 1):
        if len(line) > MAX_LINE:
            raise UnreadableFile(Problem(file, f"line {number} is {len(line):,} characters long".replace(",", "."),
                                         row=number, expected=f"a table of at most {limits.max_columns} columns "
                                                              f"(lines of at most {MAX_LINE:,} characters)".replace(",", ".")))
    lines = [ln for ln in text.splitlines()[:200] if ln.strip()][:10]
    if not lines:
        raise UnreadableFile(Problem(file, "the file holds no data", expected="a header line and one line per unit"))
    delimiter = _delimiter(lines)
    cells: dict[tuple[int, int], str] = {}
    try:
        for r, row in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)):
            for c, value in enumerate(row):
                value = value.strip()
                if value:
                    limits.check_cell(file, sheet, r, c)
                    cells[(r, c)] = value
                    if len(cells) > limits.max_cells:
                        limits.refuse_count(file, sheet, r, c)
    except csv.Error as exc:
        raise UnreadableFile(Problem(file, f"cannot read the CSV: {exc}",
                                     expected=f"one line per row, fields separated by '{delimiter}'")) from exc
    grid = dense(file, sheet, cells, format="csv")
    grid.notes.append(f"encoding {encoding}, delimiter {delimiter!r}")
    return grid
