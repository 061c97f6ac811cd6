"""The file layer: each format read into Grids (values, number formats, merged ranges, hidden state),
told by content, never by name; encodings of CSV; limits. Files are built here or are the samples."""
from __future__ import annotations

import random
import zipfile
from datetime import datetime
from pathlib import Path

import corpus_files as cf
import openpyxl
import pytest
from conftest import SAMPLE_RAW

from p06 import catalog
from p06.ingest.reader import read_file
from p06.ingest.workbook import Grid, UnreadableFile, open_grids

SAMPLES = sorted(p for p in SAMPLE_RAW.glob("*/*/*") if p.suffix in (".xlsx", ".csv"))
SOURCES = catalog.sources()


def figures(path: Path, source: str) -> list[tuple]:
    read = read_file(path, SOURCES[source], "2023-09")
    assert not read.problems, read.problems
    return sorted((o["unit_code"], o["measure"], o["value"], o["cell"]) for o in read.observations)


@pytest.mark.parametrize("path", [p for p in SAMPLES if p.suffix == ".xlsx"], ids=lambda p: p.name)
def test_xlsx_reads_as_openpyxl_does(path):
    """Our streaming reader gives openpyxl's values (types included) and number formats, for every sample cell."""
    wb = openpyxl.load_workbook(path, data_only=True)
    grids = {g.sheet: g for g in open_grids(path)}
    assert list(grids) == wb.sheetnames
    for ws in wb.worksheets:
        grid = grids[ws.title]
        assert grid.format == "xlsx" and not grid.hidden
        for row in ws.iter_rows():
            for cell in row:
                r, c = cell.row - 1, cell.column - 1
                assert (grid.value(r, c), type(grid.value(r, c))) == (cell.value, type(cell.value)) or \
                    (cell.value in ("", None) and grid.value(r, c) is None), cell.coordinate
                if cell.value is not None:
                    assert grid.number_format(r, c) == cell.number_format, cell.coordinate
        assert sorted(grid.merged) == sorted((m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1)
                                             for m in ws.merged_cells.ranges)


def zero_size(path: Path) -> None:
    """Row 5 of height 0 and column D of width 0, as Excel writes them."""
    with zipfile.ZipFile(path) as z:
        parts = {i: z.read(i) for i in z.infolist()}
    with zipfile.ZipFile(path, "w") as z:
        for info, data in parts.items():
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                text = text.replace('<row r="5" ht="15"', '<row r="5" ht="0"').replace('<col width="15"', '<col width="0"')
                assert 'ht="0"' in text and 'width="0"' in text
                data = text.encode()
            z.writestr(info, data)


def test_hidden_sheets_rows_and_columns_are_marked(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in range(1, 8):
        for c in range(1, 6):
            ws.cell(r, c, r * 10 + c)
    ws.row_dimensions[3].hidden = True
    ws.row_dimensions[5].height = 15        # made zero below (openpyxl does not write a zero height)
    ws.column_dimensions["B"].hidden = True
    ws.column_dimensions["D"].width = 15    # idem
    ws["A9"] = datetime(2023, 9, 15)
    ws["B9"] = 0.962
    ws["B9"].number_format = "0.00%"
    ws.merge_cells("C9:D10")
    ws.merge_cells("A12:B13")               # below the last value: not part of the grid
    ws["A10"] = "Ghi chú"
    hidden = wb.create_sheet("Ẩn")
    hidden["A1"] = "x"
    hidden.sheet_state = "hidden"
    very = wb.create_sheet("Rất ẩn")
    very["A1"] = "y"
    very.sheet_state = "veryHidden"
    wb.save(tmp_path / "h.xlsx")
    zero_size(tmp_path / "h.xlsx")
    grid, g2, g3 = open_grids(tmp_path / "h.xlsx")
    assert (grid.hidden, g2.hidden, g3.hidden) == (False, True, True)
    assert grid.hidden_rows == frozenset({2, 4}) and grid.hidden_cols == frozenset({1, 3})
    assert (grid.n_rows, grid.n_cols) == (10, 5)
    assert grid.value(8, 0) == datetime(2023, 9, 15) and grid.number_format(8, 1) == "0.00%"
    assert grid.merged == [(8, 2, 9, 3)] and grid.filled(9, 3) is None and grid.merged_origin(9, 3) == (8, 2)


def test_only_cells_with_values_make_the_grid(tmp_path):
    """Styled empty cells out to XFD1048576 are ignored: the grid ends at the last value."""
    path = cf.styled_empty_to_xfd(tmp_path)
    (grid,) = open_grids(path)
    (plain,) = open_grids(cf.VNEID)
    assert grid.rows == plain.rows and grid.formats == plain.formats


def test_a_value_beyond_the_limits_refuses_naming_the_cell(tmp_path):
    with pytest.raises(UnreadableFile) as exc:
        open_grids(cf.far_cells(tmp_path))
    p = exc.value.problem
    assert (p.sheet, p.row, p.column) == ("Sheet", 1, "XFD")
    assert "cell XFD1 holds a value beyond column GR" in p.message and "200 columns" in p.message


def test_a_zip_bomb_is_refused_by_declared_size(tmp_path):
    with pytest.raises(UnreadableFile, match="300 MB once decompressed, more than the 100 MB"):
        open_grids(cf.zip_bomb(tmp_path))


@pytest.mark.parametrize("make", [cf.csv_utf16_no_bom, lambda d: cf.csv_utf16_no_bom(d, "be"), cf.csv_cp1258],
                         ids=["utf16le-no-bom", "utf16be-no-bom", "cp1258"])
def test_csv_encodings_read_the_same_figures(make, tmp_path):
    path = make(tmp_path)
    (grid,) = open_grids(path)
    (plain,) = open_grids(cf.THUE)
    assert grid.rows == plain.rows and grid.format == "csv"
    assert figures(path, "thue") == figures(cf.THUE, "thue")


def test_csv_with_utf16_bom_and_utf8_bom(tmp_path):
    text = cf.THUE.read_text(encoding="utf-8-sig")
    (tmp_path / "a.csv").write_bytes("\ufeff".encode("utf-16-le") + text.encode("utf-16-le"))
    (tmp_path / "b.csv").write_bytes(text.encode("utf-8"))
    (plain,) = open_grids(cf.THUE)
    assert open_grids(tmp_path / "a.csv")[0].rows == open_grids(tmp_path / "b.csv")[0].rows == plain.rows


def test_undecodable_csv_names_the_byte_and_line(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("Đơn vị;Số\nHà Nội;1\n".encode() + "Straße;2\n".encode("latin-1"))
    with pytest.raises(UnreadableFile) as exc:
        open_grids(path)
    p = exc.value.problem
    assert "byte 0xDF at offset 32 (line 3)" in p.message and p.row == 3 and "CSV UTF-8" in p.expected


def test_html_table_reads_the_same_figures_as_the_workbook(tmp_path):
    path = cf.html_as_xlsx(tmp_path)
    assert [g.format for g in open_grids(path)] == ["html"]
    assert figures(path, "vneid") == figures(cf.VNEID, "vneid")


@pytest.mark.parametrize("path", [p for p in SAMPLES if p.suffix == ".xlsx"], ids=lambda p: p.name)
def test_xml_spreadsheet_2003_reads_as_the_workbook(path, tmp_path):
    """Every sample saved as 'XML Spreadsheet 2003': same values, number formats and merged ranges."""
    converted = cf.xml_spreadsheet_2003(tmp_path, path)
    for ours, theirs in zip(open_grids(converted), open_grids(path), strict=True):
        assert (ours.sheet, ours.rows, sorted(ours.merged), ours.format) == \
            (theirs.sheet, theirs.rows, sorted(theirs.merged), "xml2003")
        assert [[f if v is not None else None for f, v in zip(fr, vr)] for fr, vr in zip(ours.formats, ours.rows)] == \
            [[f if v is not None else None for f, v in zip(fr, vr)] for fr, vr in zip(theirs.formats, theirs.rows)]


def test_xml_spreadsheet_2003_hidden_state(tmp_path):
    path = tmp_path / "h.xml"
    path.write_text('<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
                    'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet" xmlns:x="urn:schemas-microsoft-com:office:'
                    'excel"><Worksheet ss:Name="A"><Table><Column ss:Index="2" ss:Hidden="1" ss:Span="1"/><Row><Cell>'
                    '<Data ss:Type="Number">1</Data></Cell><Cell ss:Index="4"><Data ss:Type="String">d</Data></Cell></Row>'
                    '<Row ss:Hidden="1"><Cell><Data ss:Type="Number">2.5</Data></Cell></Row></Table></Worksheet>'
                    '<Worksheet ss:Name="B"><Table><Row><Cell><Data ss:Type="String">x</Data></Cell></Row></Table>'
                    '<WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel"><Visible>SheetHidden</Visible>'
                    "</WorksheetOptions></Worksheet></Workbook>", encoding="utf-8")
    a, b = open_grids(path)
    assert a.rows == [[1, None, None, "d"], [2.5, None, None, None]]
    assert (a.hidden_rows, a.hidden_cols, a.hidden, b.hidden) == (frozenset({1}), frozenset({1, 2}), False, True)


def test_html_spans_numbers_and_hidden_rows(tmp_path):
    path = tmp_path / "p.xls"
    path.write_text("<html><body><p>x</p><table><tr><th colspan=2>Nhóm</th><th rowspan=2>C</th></tr>"
                    "<tr><td>A</td><td>B<br>b</td></tr><tr style='display: none'><td x:num='1234.5'>1.234,5</td>"
                    "<td>7</td><td>&amp;</td></tr></table><table><tr><td>t2</td></tr></table></body></html>",
                    encoding="utf-8")
    grid, second = open_grids(path)
    assert grid.rows == [["Nhóm", None, "C"], ["A", "B\nb", None], [1234.5, "7", "&"]]
    assert sorted(grid.merged) == [(0, 0, 0, 1), (0, 2, 1, 2)] and grid.hidden_rows == frozenset({2})
    assert (second.sheet, second.rows) == ("table 2", [["t2"]])


def test_ods_values_hidden_state_and_spans(tmp_path):
    styles = ('<style:style style:name="ta2" style:family="table"><style:table-properties table:display="false"/>'
              "</style:style>")
    cell = '<table:table-cell office:value-type="float" office:value="{0}"><text:p>{0}</text:p></table:table-cell>'
    body = ('<table:table table:name="Dữ liệu"><table:table-column/><table:table-column table:visibility="collapse"/>'
            '<table:table-column table:number-columns-repeated="16382"/>'
            '<table:table-row><table:table-cell table:number-columns-spanned="2" office:value-type="string">'
            '<text:p>Đơn vị</text:p></table:table-cell><table:covered-table-cell/></table:table-row>'
            '<table:table-row table:visibility="collapse">' + cell.format(5) + cell.format("2.5") + "</table:table-row>"
            '<table:table-row table:number-rows-repeated="2">' + cell.format(7) + "</table:table-row>"
            '<table:table-row table:number-rows-repeated="1048570"><table:table-cell table:number-columns-repeated="16384"/>'
            '</table:table-row></table:table><table:table table:name="Ẩn" table:style-name="ta2"><table:table-row>'
            + cell.format(1) + "</table:table-row></table:table>")
    grid, hidden = open_grids(cf.ods(tmp_path / "d.xlsx", body, styles))
    assert grid.rows == [["Đơn vị", None], [5, 2.5], [7, None], [7, None]]
    assert grid.merged == [(0, 0, 0, 1)] and grid.hidden_rows == frozenset({1}) and grid.hidden_cols == frozenset({1})
    assert (grid.format, hidden.hidden, grid.hidden) == ("ods", True, False)


def test_workbook_our_reader_cannot_parse_falls_back_to_calamine(tmp_path):
    """A control character in the sheet XML (not well-formed for expat): calamine reads it, and says so."""
    path = cf.raw_xlsx(tmp_path / "c.xlsx", cf.SHEET_HEAD + '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a\x01b'
                       '</t></is></c><c r="B1"><v>5</v></c></row></sheetData></worksheet>')
    (grid,) = open_grids(path)
    assert grid.rows == [["a\x01b", 5]] and "read by calamine" in grid.notes[0]


@pytest.mark.parametrize("make,says", [
    (cf.password_protected, "password-protected"), (cf.html_without_table, "web page (HTML)"),
    (cf.truncated_xlsx, "cut short"), (cf.broken_xml, "XML is damaged"), (cf.zip_as_csv, "zip archive"),
    (cf.noise, "neither a workbook nor a text file"), (cf.pdf, "PDF"), (cf.word_doc_as_xls, "Word document"),
(cf.truncated_cfb, "truncated or damaged")],
    ids=lambda v: getattr(v, "__name__", None))
def test_what_the_file_is_is_said(make, says, tmp_path):
    with pytest.raises(UnreadableFile) as exc:
        open_grids(make(tmp_path))
    assert says in exc.value.problem.message and exc.value.problem.expected


def test_many_merged_ranges_find_their_origin_like_a_scan():
    rng = random.Random(7)
    merged = []
    for _ in range(300):
        r, c = rng.randrange(500), rng.randrange(30)
        merged.append((r, c, r + rng.randrange(3), c + rng.randrange(3)))
    grid = Grid("f", "s", [[None] * 40 for _ in range(510)], merged=merged)
    for _ in range(2000):
        r, c = rng.randrange(505), rng.randrange(35)
        expected = next(((m[0], m[1]) for m in merged if m[0] <= r <= m[2] and m[1] <= c <= m[3]), (r, c))
        got = grid.merged_origin(r, c)
        assert got == expected or any(m[:2] == got and m[0] <= r <= m[2] and m[1] <= c <= m[3] for m in merged)


CORPUS_XLS = sorted((Path(__file__).resolve().parent.parent / ".corpus").rglob("*.xls"))


@pytest.mark.skipif(not CORPUS_XLS, reason="no .xls in .corpus/: run scripts/corpus")
def test_old_xls_under_an_xlsx_name_is_read_as_xls(tmp_path):
    source = next(p for p in CORPUS_XLS if p.read_bytes()[:4] == b"\xd0\xcf\x11\xe0")
    renamed = tmp_path / "renamed.xlsx"
    renamed.write_bytes(source.read_bytes())
    as_xls, as_xlsx = open_grids(source), open_grids(renamed)
    assert [g.rows for g in as_xls] == [g.rows for g in as_xlsx] and as_xlsx[0].format == "xls"
    assert "old .xls (BIFF) workbook under a .xlsx name" in as_xlsx[0].notes[0]


@pytest.mark.parametrize("seed", [cf.VNEID, cf.THUE, "ods", "html"], ids=["xlsx", "csv", "ods", "html"])
def test_damaged_bytes_are_refused_or_read_never_a_crash(seed, tmp_path):
    """Bytes flipped, zeroed or cut at random in a good file: open_grids reads it or raises UnreadableFile, nothing else."""
    if seed == "ods":
        seed = cf.ods(tmp_path / "s.ods", '<table:table table:name="S"><table:table-row><table:table-cell '
                      'office:value-type="float" office:value="3"><text:p>3</text:p></table:table-cell></table:table-row>'
                      "</table:table>")
    elif seed == "html":
        seed = cf.html_as_xlsx(tmp_path)
    good = Path(seed).read_bytes()
    rng = random.Random(6)
    for i in range(60):
        data = bytearray(good)
        if i % 3 == 0:
            data = data[: rng.randrange(1, len(data))]
        else:
            for _ in range(rng.randint(1, 12)):
                data[rng.randrange(len(data))] = rng.randrange(256) if i % 3 == 1 else 0
        path = tmp_path / f"m{i}{Path(seed).suffix}"
        path.write_bytes(bytes(data))
        try:
            open_grids(path)
        except UnreadableFile as exc:
            assert exc.problem.message and exc.problem.expected


def test_library_warnings_become_notes_not_terminal_output(monkeypatch):
    """A warning raised while reading (as openpyxl's 'Data Validation extension is not supported') is kept
    on the grids as a note and never reaches the terminal."""
    import warnings

    from p06.ingest.formats import ooxml
    original = ooxml.read

    def noisy(*args, **kwargs):
        warnings.warn("Data Validation extension is not supported and will be removed", UserWarning, stacklevel=1)
        return original(*args, **kwargs)
    monkeypatch.setattr(ooxml, "read", noisy)
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        grids = open_grids(cf.VNEID)
    assert escaped == []
    assert grids[0].notes == ["UserWarning: Data Validation extension is not supported and will be removed"]


def test_xlsb_records_beyond_the_limits_are_refused_before_calamine():
    """The .xlsb pass: a row header (record 0) then a real-number cell (record 5) in column XFD."""
    import io
    import struct

    from p06.ingest.formats import xlsb
    from p06.ingest.formats.limits import Limits

    def record(kind: int, body: bytes) -> bytes:
        return bytes([kind, len(body)]) + body
    near = record(0, struct.pack("<I", 3) + b"\0" * 13) + record(5, struct.pack("<I", 2) + b"\0" * 12)
    far = near + record(5, struct.pack("<I", 16383) + b"\0" * 12)
    xlsb.check_extent(io.BytesIO(near), "f.xlsb", "sheet1.bin", Limits.declared())
    with pytest.raises(UnreadableFile, match="cell XFD4 holds a value beyond column GR"):
        xlsb.check_extent(io.BytesIO(far), "f.xlsb", "sheet1.bin", Limits.declared())


def _tiny_limits(monkeypatch, **changes):
    from dataclasses import replace

    from p06.ingest.formats.limits import Limits
    small = replace(Limits.declared(), **changes)
    monkeypatch.setattr(Limits, "declared", classmethod(lambda cls: small))
    return small


@pytest.mark.parametrize("fmt", ["xlsx", "ods", "html", "xml2003", "csv"])
def test_markup_without_values_is_bounded_too(fmt, tmp_path, monkeypatch):
    """Rows and cells that hold nothing still cost time: past max_elements (3 x max_cells) the file is refused."""
    _tiny_limits(monkeypatch, max_cells=100)
    n = 400
    if fmt == "xlsx":
        path = cf.raw_xlsx(tmp_path / "e.xlsx", cf.SHEET_HEAD + "<sheetData>" + "".join(
            f'<row r="{r}" hidden="1"><c r="A{r}" t="str"><v></v></c></row>' for r in range(1, n)) + "</sheetData></worksheet>")
    elif fmt == "ods":
        path = cf.ods(tmp_path / "e.ods", '<table:table table:name="S">' + "<table:table-row><table:table-cell/>"
                      "</table:table-row>" * n + "</table:table>")
    elif fmt == "html":
        path = tmp_path / "e.html"
        path.write_text("<table>" + "<tr><td></td></tr>" * n + "</table>")
    elif fmt == "xml2003":
        path = tmp_path / "e.xml"
        path.write_text('<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
                        'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="S"><Table>'
                        + "<Row><Cell/></Row>" * n + "</Table></Worksheet></Workbook>")
    if fmt == "csv":        # a CSV line far longer than any table row
        path = tmp_path / "e.csv"
        path.write_text("a;1\n" + ";" * 200_000 + "\n")
        says = "line 2 is 200.000 characters long"
    else:
        says = "far larger than a delivery: more than 300 cells, rows or tags"
    with pytest.raises(UnreadableFile, match=says):
        open_grids(path)


def test_too_many_values_are_refused_naming_where(tmp_path, monkeypatch):
    _tiny_limits(monkeypatch, max_cells=10)
    path = tmp_path / "v.csv"
    path.write_text("\n".join(f"{r};{r}" for r in range(20)))
    with pytest.raises(UnreadableFile) as exc:
        open_grids(path)
    assert "more than 10 values (reached at cell A6)" in exc.value.problem.message and exc.value.problem.row == 6
