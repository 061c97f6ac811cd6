"""Adversarial delivery files, generated: each a function writing one file into a folder.

Used by tests/test_corpus.py (run through `p06 check`) and tests/test_workbook_formats.py. Every
file is made here from the sample deliveries or from nothing; none is downloaded.
"""
from __future__ import annotations

import html
import io
import shutil
import struct
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
from conftest import SAMPLE_RAW

VNEID = SAMPLE_RAW / "2023-09" / "vneid" / "BC_CCCD_DDDT_T9_2023.xlsx"
THUE = SAMPLE_RAW / "2023-09" / "thue" / "rasoat_mst_canhan_202309.csv"

CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                 'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                 'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
                 'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                 '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                 'officedocument.spreadsheetml.worksheet+xml"/></Types>')
ROOT_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
             'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
             'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
BOOK = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
BOOK_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
             'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
             'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
              '2006/main"><dimension ref="A1:XFD1048576"/>')


def raw_xlsx(path: Path, sheet_xml: bytes | str, compresslevel: int = 6) -> Path:
    """A minimal .xlsx with one sheet whose XML is given as is (no styles, no shared strings)."""
    data = sheet_xml.encode() if isinstance(sheet_xml, str) else sheet_xml
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", BOOK)
        z.writestr("xl/_rels/workbook.xml.rels", BOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", data)
    return path


def far_cells(folder: Path) -> Path:
    """Three values: A1, XFD1 and A1048576 (the reader used to walk the 17 billion cells between them)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["XFD1"], ws["A1048576"] = "STT", 1, 2
    wb.save(folder / "far_cells.xlsx")
    return folder / "far_cells.xlsx"


def styled_empty_to_xfd(folder: Path) -> Path:
    """The vneid sample whose rows carry styled empty cells out to column XFD, plus one at XFD1048576."""
    path = folder / "styled_to_xfd.xlsx"
    with zipfile.ZipFile(VNEID) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename.startswith("xl/worksheets/sheet"):
                text = data.decode()
                text = text.replace("</row>", '<c r="XFA{r}" s="1"/><c r="XFD{r}" s="1"/></row>')
                rows, parts = text.split("<row "), []
                for i, part in enumerate(rows):
                    parts.append(part.replace("{r}", part.split('r="', 1)[1].split('"', 1)[0] if i else ""))
                text = "<row ".join(parts).replace(
                    "</sheetData>", '<row r="1048576"><c r="XFD1048576" s="1"/></row></sheetData>')
                text = text.replace('<dimension ref="', '<dimension ref="A1:XFD1048576" x="')
                data = text.encode()
            zout.writestr(item, data)
    return path


def max_values(folder: Path) -> Path:
    """5.000 rows x 60 columns of values: the most a sheet may hold (reader_limits max_cells), read in full."""
    from openpyxl.utils import get_column_letter
    cols = [get_column_letter(c + 1) for c in range(60)]
    head = '<row r="1">' + "".join(f'<c r="{cols[c]}1" t="inlineStr"><is><t>Cột {c}</t></is></c>' for c in range(60))
    rows = "".join(f'<row r="{r}">' + "".join(f'<c r="{cols[c]}{r}"><v>{r * c}</v></c>' for c in range(60)) + "</row>"
                   for r in range(2, 5001))
    return raw_xlsx(folder / "max_values.xlsx", SHEET_HEAD + "<sheetData>" + head + "</row>" + rows + "</sheetData></worksheet>")


def styled_part_near_limit(folder: Path) -> Path:
    """One value and 99 MB of styled empty cells (just under max_part_megabytes): read quickly."""
    cell = b'<c r="XFD1" s="1"/>'
    sheet = (SHEET_HEAD.encode() + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c>'
             + cell * (99 * 2**20 // len(cell)) + b"</row></sheetData></worksheet>")
    return raw_xlsx(folder / "styled_99mb.xlsx", sheet, compresslevel=1)


def many_rows_csv(folder: Path, rows: int = 200_000) -> Path:
    """The thue sample with its unit rows repeated to 200.000 lines."""
    lines = THUE.read_text(encoding="utf-8-sig").splitlines()
    header, body = lines[:2], [ln for ln in lines[2:] if ln.strip()]
    path = folder / "many_rows.csv"
    path.write_text("\n".join(header + [body[i % len(body)] for i in range(rows)]) + "\n", encoding="utf-8")
    return path


def zip_bomb(folder: Path, megabytes: int = 300) -> Path:
    """A workbook whose sheet decompresses to 300 MB (a few hundred KB on disk)."""
    chunk = b"<row/>" * (2**20 // 6)
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", BOOK)
        z.writestr("xl/_rels/workbook.xml.rels", BOOK_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(SHEET_HEAD.encode() + b"<sheetData>")
            for _ in range(megabytes):
                part.write(chunk)
            part.write(b"</sheetData></worksheet>")
    path = folder / "zip_bomb.xlsx"
    path.write_bytes(stream.getvalue())
    return path


def _td(v) -> str:
    """A cell as Excel's HTML export writes it: numbers carry their value in x:num beside the shown text."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        shown = f"{v:,}".replace(",", "\0").replace(".", ",").replace("\0", ".")
        return f'<td x:num="{v!r}">{shown}</td>'
    return f"<td>{html.escape(str(v)) if v is not None else ''}</td>"


def grid_html(path: Path, rows: list[list], title: str = "") -> Path:
    body = "".join("<tr>" + "".join(_td(v) for v in row) + "</tr>\n" for row in rows)
    path.write_text(f"<html><head><meta charset='utf-8'><title>{title}</title></head><body><table border=1>\n{body}"
                    "</table></body></html>", encoding="utf-8")
    return path


def html_as_xlsx(folder: Path) -> Path:
    """The vneid sample as a portal exports it: an HTML table under a .xls name."""
    ws = openpyxl.load_workbook(VNEID, data_only=True).worksheets[0]
    return grid_html(folder / "html_table.xls", [[c.value for c in row] for row in ws.iter_rows()], "BC")


def html_without_table(folder: Path) -> Path:
    path = folder / "login_page.xlsx"
    path.write_text("<!DOCTYPE html><html><body><p>Phiên đăng nhập đã hết hạn</p></body></html>", encoding="utf-8")
    return path


def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE2 / Compound File Binary container holding the named streams (512-byte sectors)."""
    free, end, fatsect, nostream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    names = list(streams)
    data_sectors: list[tuple[int, int]] = []         # (first sector, count) per stream
    n_dir = (len(names) + 1 + 3) // 4
    next_sector = 1 + n_dir
    for name in names:
        count = max(1, -(-len(streams[name]) // 512))
        data_sectors.append((next_sector, count))
        next_sector += count
    fat = [fatsect] + [i + 2 if i + 1 < n_dir else end for i in range(n_dir)]
    for first, count in data_sectors:
        fat += [first + i + 1 if i + 1 < count else end for i in range(count)]
    assert len(fat) <= 128, "one FAT sector only"
    fat += [free] * (128 - len(fat))
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 0x28, 0, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([free] * 108))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = (name + "\0").encode("utf-16-le")
        e = bytearray(128)
        e[0:len(raw)] = raw
        struct.pack_into("<HBB", e, 64, len(raw), kind, 1)
        struct.pack_into("<III", e, 68, nostream, right, child)
        struct.pack_into("<IQ", e, 116, start, size)
        return bytes(e)
    dirs = entry("Root Entry", 5, 1 if names else nostream, nostream, end, 0)
    for i, name in enumerate(names):
        dirs += entry(name, 2, nostream, i + 2 if i + 1 < len(names) else nostream, data_sectors[i][0], len(streams[name]))
    dirs += b"\0" * (n_dir * 512 - len(dirs))
    body = b"".join(streams[n].ljust(c * 512, b"\0") for n, (_, c) in zip(names, data_sectors))
    return bytes(header) + struct.pack("<128I", *fat) + dirs + body


def password_protected(folder: Path) -> Path:
    """What Excel saves when a workbook gets a password: a CFB container with EncryptionInfo and EncryptedPackage."""
    path = folder / "protected.xlsx"
    path.write_bytes(cfb({"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00" + b"\0" * 200,
                          "EncryptedPackage": struct.pack("<Q", 5000) + bytes(range(256)) * 20}))
    return path


def _record(kind: int, data: bytes) -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def biff_workbook(cells: list[tuple[int, int, float]], sheet: str = "S1") -> bytes:
    """A minimal BIFF8 workbook stream: globals (BOF, CODEPAGE, BOUNDSHEET, EOF), one sheet of NUMBER records."""
    bof = lambda kind: _record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 6))  # noqa: E731
    name = sheet.encode("latin-1")
    globals_ = lambda at: (bof(0x0005) + _record(0x0042, struct.pack("<H", 1200))  # noqa: E731
                           + _record(0x0085, struct.pack("<IBBBB", at, 0, 0, len(name), 0) + name) + _record(0x000A, b""))
    body = bof(0x0010) + b"".join(_record(0x0203, struct.pack("<HHHd", r, c, 15, v)) for r, c, v in cells)
    return globals_(len(globals_(0))) + body + _record(0x000A, b"")


def far_xls(folder: Path) -> Path:
    """An old .xls with values at A1 and IV65536: calamine alone would allocate the 16.7 million cells between (> 1 GB)."""
    path = folder / "far.xls"
    path.write_bytes(cfb({"Workbook": biff_workbook([(0, c, float(c)) for c in range(6)] + [(65535, 255, 7.0)] * 300)}))
    return path


def word_doc_as_xls(folder: Path) -> Path:
    path = folder / "bao_cao.xls"
    path.write_bytes(cfb({"WordDocument": b"\0" * 600, "1Table": b"\0" * 600}))
    return path


def truncated_cfb(folder: Path) -> Path:
    path = folder / "cut.xls"
    path.write_bytes(cfb({"Workbook": b"\x09\x08" + b"\0" * 3000})[:1100])
    return path


def to_cp1258(text: str) -> bytes:
    """Vietnamese text as Windows-1258 writes it: base letters, tones as combining marks."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", ch)
            tones = "".join(m for m in decomposed if m in "\u0300\u0301\u0303\u0309\u0323")
            base = unicodedata.normalize("NFC", "".join(m for m in decomposed if m not in tones))
            out += (base + tones).encode("cp1258")
    return bytes(out)


def csv_utf16_no_bom(folder: Path, order: str = "le") -> Path:
    path = folder / f"thue_utf16{order}.csv"
    path.write_bytes(THUE.read_text(encoding="utf-8-sig").encode(f"utf-16-{order}"))
    return path


def csv_cp1258(folder: Path) -> Path:
    path = folder / "thue_cp1258.csv"
    path.write_bytes(to_cp1258(THUE.read_text(encoding="utf-8-sig")))
    return path


def csv_latin1(folder: Path) -> Path:
    """Not UTF-8, and Windows-1258 would give letters Vietnamese does not have: refused, naming the byte."""
    path = folder / "latin1.csv"
    path.write_bytes("Straße;Größe\nMünchen;12\nKöln;5\n".encode("latin-1"))
    return path


def empty_file(folder: Path) -> Path:
    path = folder / "empty.xlsx"
    path.write_bytes(b"")
    return path


def noise(folder: Path) -> Path:
    path = folder / "noise.xlsx"
    path.write_bytes(bytes((i * 7919 + 13) % 256 for i in range(5000)))
    return path


def zip_as_csv(folder: Path) -> Path:
    """A zip of the CSV, saved under a .csv name."""
    path = folder / "zipped.csv"
    with zipfile.ZipFile(path, "w") as z:
        z.write(THUE, THUE.name)
    return path


def xlsx_as_csv(folder: Path) -> Path:
    path = folder / "workbook.csv"
    shutil.copyfile(VNEID, path)
    return path


def truncated_xlsx(folder: Path) -> Path:
    path = folder / "truncated.xlsx"
    data = VNEID.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def broken_xml(folder: Path) -> Path:
    """A complete zip whose sheet XML is cut in the middle (neither reader can parse it)."""
    path = folder / "broken_xml.xlsx"
    with zipfile.ZipFile(VNEID) as zin, zipfile.ZipFile(path, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            zout.writestr(name, data[: len(data) // 2] if name.startswith("xl/worksheets/") else data)
    return path


def ods_far(folder: Path) -> Path:
    """An .ods whose repeated rows put a value at row 1.048.576."""
    cell = '<table:table-cell office:value-type="float" office:value="{0}"><text:p>{0}</text:p></table:table-cell>'
    return ods(folder / "far.ods", '<table:table table:name="S1"><table:table-row>' + cell.format(1) + "</table:table-row>"
               '<table:table-row table:number-rows-repeated="1048574"><table:table-cell '
               'table:number-columns-repeated="16384"/></table:table-row><table:table-row>' + cell.format(3)
               + "</table:table-row></table:table>")


def ods(path: Path, body: str, styles: str = "") -> Path:
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
               'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" office:version="1.2">'
               f'<office:automatic-styles>{styles}</office:automatic-styles><office:body><office:spreadsheet>'
               f'{body}</office:spreadsheet></office:body></office:document-content>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
    return path


def xml_spreadsheet_2003(folder: Path, source: Path = VNEID) -> Path:
    """A workbook as Excel saves it in 'XML Spreadsheet 2003' (portals export these as .xls): cells, merges, formats."""
    wb = openpyxl.load_workbook(source, data_only=True)
    styles: dict[str, str] = {}
    sheets = []
    for ws in wb.worksheets:
        merges = {(m.min_row, m.min_col): m for m in ws.merged_cells.ranges}
        covered = {(r, c) for m in ws.merged_cells.ranges for r in range(m.min_row, m.max_row + 1)
                   for c in range(m.min_col, m.max_col + 1)} - set(merges)
        rows = []
        for row in ws.iter_rows():
            cells = []
            for cell in row:
                if (cell.row, cell.column) in covered or (cell.value is None and (cell.row, cell.column) not in merges):
                    continue
                attrs = f' ss:Index="{cell.column}"'
                if (cell.row, cell.column) in merges:
                    m = merges[(cell.row, cell.column)]
                    attrs += f' ss:MergeAcross="{m.max_col - m.min_col}" ss:MergeDown="{m.max_row - m.min_row}"'
                if cell.number_format != "General":
                    style = styles.setdefault(cell.number_format, f"s{len(styles) + 1}")
                    attrs += f' ss:StyleID="{style}"'
                data = ""
                if isinstance(cell.value, bool):
                    data = f'<Data ss:Type="Boolean">{int(cell.value)}</Data>'
                elif isinstance(cell.value, (int, float)):
                    data = f'<Data ss:Type="Number">{cell.value!r}</Data>'
                elif cell.value is not None:
                    data = f'<Data ss:Type="String">{html.escape(str(cell.value))}</Data>'
                cells.append(f"<Cell{attrs}>{data}</Cell>")
            rows.append(f'<Row ss:Index="{row[0].row}">{"".join(cells)}</Row>')
        sheets.append(f'<Worksheet ss:Name="{html.escape(ws.title)}"><Table>{"".join(rows)}</Table></Worksheet>')
    style_xml = "".join(f'<Style ss:ID="{sid}"><NumberFormat ss:Format="{html.escape(fmt)}"/></Style>'
                        for fmt, sid in styles.items())
    path = folder / "export.xls"
    path.write_text('<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n<Workbook xmlns="urn:schemas-'
                    'microsoft-com:office:spreadsheet" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">'
                    f'<Styles>{style_xml}</Styles>{"".join(sheets)}</Workbook>', encoding="utf-8")
    return path


def pdf(folder: Path) -> Path:
    path = folder / "scan.xlsx"
    path.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 4)
    return path


ADVERSARIAL = [far_cells, far_xls, max_values, styled_part_near_limit, styled_empty_to_xfd, many_rows_csv, zip_bomb, html_as_xlsx, html_without_table,
               password_protected, word_doc_as_xls, truncated_cfb, csv_utf16_no_bom, csv_cp1258, csv_latin1, empty_file,
               noise, zip_as_csv, xlsx_as_csv, truncated_xlsx, broken_xml, ods_far, xml_spreadsheet_2003, pdf]
