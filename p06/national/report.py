"""The national Word report of a month (`exports/<YYYY-MM>/bao_cao_DA06_toan_quoc_<YYYY-MM>.docx`).

A document of Decree 30/2020/NĐ-CP's shape, like the province's (A4, Times New Roman, the issuing body and the
national motto side by side, number and place/date line, title, body, recipients and signature): the national
figures with the provinces they add up and those missing, the provinces ranked for each headline indicator, and
which province's publication (vintage, date) each month's figures come from. It reads only the national marts;
who issues it and every sentence are in catalog/national.yaml (`report`), numbers are formatted by the report's
filters (p06.wording: '1.651.144', '96,20').
"""
from __future__ import annotations

from pathlib import Path

import duckdb
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from p06.documents.word_tables import put_table_property
from p06.national import provinces, texts
from p06.publish.atomic import atomic_file
from p06.publish.indicator_catalog import load as indicator_catalog
from p06.wording import say, so

FONT = "Times New Roman"
CENTER, RIGHT = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT


def _para(container, text: str = "", *, size: float = 14, bold: bool = False, italic: bool = False, align=None,
          indent: bool = False):
    p = container.add_paragraph()
    run = p.add_run(text)
    run.bold, run.italic, run.font.size = bold or None, italic or None, Pt(size)
    if align is not None:
        p.alignment = align
    p.paragraph_format.space_after = Pt(3)
    if indent:
        p.paragraph_format.first_line_indent = Mm(10)
    return p


def _table(doc, header: tuple[str, ...], rows: list[tuple], widths_mm: tuple[float, ...]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style, table.alignment = "Table Grid", WD_TABLE_ALIGNMENT.CENTER
    for row_cells, values, bold in [(table.rows[0].cells, header, True)] + [(None, r, False) for r in rows]:
        cells = row_cells or table.add_row().cells
        for cell, value, width in zip(cells, values, widths_mm):
            p = cell.paragraphs[0]
            run = p.add_run(str(value))
            run.bold, run.font.size = bold or None, Pt(12)
            p.alignment = CENTER if bold or isinstance(value, int) else (
                RIGHT if isinstance(value, str) and value[:1].isdigit() else None)
            p.paragraph_format.space_after = Pt(0)
            cell.width = Mm(width)
    _widths(table, widths_mm)
    header_row = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header_row.append(repeat)


def _widths(table, widths_mm: tuple[float, ...]) -> None:
    """Fixed column widths (the grid and every cell: LibreOffice reads the grid, Word the cells)."""
    table.autofit = False
    for column, width in zip(table.columns, widths_mm):
        column.width = Mm(width)
        for cell in column.cells:
            cell.width = Mm(width)


def _borderless(doc):
    table = doc.add_table(rows=1, cols=2)
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    put_table_property(table._tbl.tblPr, borders)
    return table


def _letterhead(doc, r: texts.NationalReport) -> None:
    head = _borderless(doc)
    _widths(head, (70, 95))
    left, right = head.rows[0].cells
    left.paragraphs[0].add_run(r.issuer.agency_parent).font.size = Pt(13)
    left.paragraphs[0].alignment = CENTER
    _para(left, r.issuer.agency, size=13, bold=True, align=CENTER)
    _para(left, r.issuer.number, size=13, align=CENTER)
    first = right.paragraphs[0].add_run(r.motto[0])
    first.bold, first.font.size = True, Pt(12)
    right.paragraphs[0].alignment = CENTER
    _para(right, r.motto[1], size=13, bold=True, align=CENTER)
    _para(right, say(r.date_line, place=r.issuer.place), size=13, italic=True, align=CENTER)


def _value(row: dict) -> str:
    return so(row["value"], row["decimals"]) + ("%" if row["unit_vi"] == "%" else "")


def path(out_dir: Path, period: str) -> Path:
    """Where the month's national report is written."""
    return Path(out_dir) / "exports" / period / texts.load().report.file.format(period=period)


def write(con: duckdb.DuckDBPyConnection, period: str, out_dir: Path) -> Path:
    """Write the month's national report under out_dir/exports/<period>/; returns its path."""
    r = texts.load().report
    codes = list(indicator_catalog().indicators)
    cursor = con.execute("SELECT * FROM marts.indicator_monthly WHERE period = ? AND unit_level = 'nation'", [period])
    names = [d[0] for d in cursor.description]
    nation = sorted((dict(zip(names, row)) for row in cursor.fetchall()), key=lambda x: codes.index(x["indicator_code"]))
    month = f"{int(period[5:])}/{period[:4]}"
    expected = provinces.expected(period)
    held = dict(((c, (v, t)) for c, v, t in con.execute(
        "SELECT province_code, vintage, published_at FROM marts.province_publications WHERE period = ?",
        [period]).fetchall()))

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin, section.left_margin, section.right_margin = Mm(20), Mm(20), Mm(30), Mm(15)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(14)
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)

    doc.core_properties.author, doc.core_properties.title = r.issuer.agency, say(r.title, month=month)
    _letterhead(doc, r)
    _para(doc, "")
    _para(doc, r.heading, bold=True, align=CENTER)
    _para(doc, say(r.title, month=month), bold=True, align=CENTER)
    _para(doc, say(r.intro, reporting=len([c for c in held if c in {u.unit_code for u in expected}]),
                   expected=len(expected)), indent=True)
    missing = [u.name_vi for u in expected if u.unit_code not in held]
    _para(doc, say(r.partial, month=month, missing=", ".join(missing)) if missing
          else say(r.complete, month=month, expected=len(expected)), indent=True)

    _para(doc, r.figures_heading, bold=True)
    _table(doc, r.figures_header,
           [(n, row["indicator_name_vi"], _value(row), row["unit_vi"],
             f"{row['provinces_reporting']}/{row['provinces_expected']}") for n, row in enumerate(nation, 1)],
           (12, 85, 30, 18, 20))

    _para(doc, "")
    _para(doc, r.ranking_heading, bold=True)
    for code in (c for c in _headline(con, period) if c in indicator_catalog().indicators):
        ind = indicator_catalog().indicators[code]
        ranked = con.execute("SELECT rank, province_name, value FROM marts.province_ranking WHERE period = ? "
                             "AND indicator_id = ? ORDER BY rank, province_code", [period, code]).fetchall()
        _para(doc, say(r.ranking_caption, name=ind.name_vi), italic=True)
        _table(doc, r.ranking_header, [(k, name, _value({"value": v, "decimals": ind.decimals, "unit_vi": ind.unit_vi}))
                                       for k, name, v in ranked], (25, 100, 40))

    _para(doc, "")
    _para(doc, r.publications_heading, bold=True)
    _table(doc, r.publications_header,
           [(n, u.name_vi, *((held[u.unit_code][0], f"{held[u.unit_code][1]:%d/%m/%Y %H:%M}")
                             if u.unit_code in held else (r.not_received, ""))) for n, u in enumerate(expected, 1)],
           (12, 90, 30, 35))

    _para(doc, "")
    closing = _borderless(doc)
    _widths(closing, (95, 70))
    left, right = closing.rows[0].cells
    left.paragraphs[0].add_run(r.recipients_label).bold = True
    for line in r.issuer.recipients_of(period):
        _para(left, f"- {line}", size=11)
    right.paragraphs[0].add_run(r.issuer.signer_title).bold = True
    right.paragraphs[0].alignment = CENTER
    if r.issuer.signer_name:
        _para(right, "\n\n\n" + r.issuer.signer_name, bold=True, align=CENTER)

    dest = path(out_dir, period)
    with atomic_file(dest) as tmp:
        doc.save(tmp)
    return dest


def _headline(con: duckdb.DuckDBPyConnection, period: str) -> list[str]:
    """The headline indicators ranked for the month, in the order of catalog/report_templates.yaml."""
    from p06.national.marts import headline
    ranked = {c for (c,) in con.execute("SELECT DISTINCT indicator_id FROM marts.province_ranking WHERE period = ?",
                                        [period]).fetchall()}
    return [c for c in headline() if c in ranked]
