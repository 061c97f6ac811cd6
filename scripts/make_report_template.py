"""Write catalog/templates/bao_cao_DA06.docx, the Word template of the report (docxtpl: Jinja2 tags in a .docx).

Run once (`.venv/bin/python scripts/make_report_template.py`) to make the template reproducibly; after that a
report writer may open the .docx in Word and change wording, headings, fonts or the order of sections, keeping
the {{ ... }} and {%p ... %} / {%tr ... %} tags. Running this script again overwrites such edits.

Layout of Decree 30/2020/NĐ-CP (Appendix I): A4, margins top 20 mm, bottom 20 mm, left 30 mm, right 15 mm;
Times New Roman; the issuing body (under its parent body) top left and the national motto top right, side by
side in a borderless two-column table, with the number and symbol under the body and the place and date under
the motto; the kind of document (BÁO CÁO) and its title centred, bold; the body 14 pt, justified, numbered
sections; recipients ("Nơi nhận") and the signature block side by side at the end.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from p06.documents.word_tables import put_table_property

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "catalog" / "templates" / "bao_cao_DA06.docx"
FONT = "Times New Roman"


PORTRAIT_TEXT_MM = 210 - 30 - 15          # A4 portrait, left 30 mm, right 15 mm
LANDSCAPE_TEXT_MM = 297 - 20 - 15         # the appendices: A4 landscape, left 20 mm, right 15 mm


def _fonts(element) -> None:
    """Times New Roman for every script, and no theme font (a theme font overrides the named one)."""
    fonts = element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
        if fonts.get(qn(attr)) is not None:
            del fonts.attrib[qn(attr)]


def _font(style, size: float, bold: bool = False) -> None:
    style.font.name = FONT
    style.font.size = Pt(size)
    style.font.bold = bold
    _fonts(style.element)


def _document_fonts(doc) -> None:
    """Every style of the document and its defaults in Times New Roman (the theme's fonts too): nothing renders in
    the theme's sans-serif font."""
    for fonts in doc.styles.element.iter(qn("w:rFonts")):
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
            fonts.attrib.pop(qn(attr), None)
        for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
            fonts.set(qn(attr), FONT)
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(qn("w:rPrDefault"))
        if rpr is not None and rpr.find(qn("w:rPr")) is not None:
            fonts = rpr.find(qn("w:rPr")).find(qn("w:rFonts"))
            if fonts is None:
                fonts = OxmlElement("w:rFonts")
                rpr.find(qn("w:rPr")).insert(0, fonts)
            for attr in list(fonts.attrib):
                del fonts.attrib[attr]
            for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
                fonts.set(qn(attr), FONT)
    for part in doc.part.package.iter_parts():                 # the theme's major and minor fonts too
        if part.content_type.endswith("theme+xml"):
            part._blob = re.sub(rb'(<a:latin typeface=")[^"]*(")', rb"\g<1>" + FONT.encode() + rb"\g<2>", part.blob)


def _para(container, text: str = "", *, size: float | None = None, bold: bool = False, italic: bool = False,
          align=None, indent: bool = False, space_after: float = 0, style: str | None = None, highlight: bool = False):
    p = container.add_paragraph(style=style)
    if text:
        run = p.add_run(text)
        run.bold, run.italic = bold or None, italic or None
        if size:
            run.font.size = Pt(size)
        if highlight:
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    if align is not None:
        p.alignment = align
    fmt = p.paragraph_format
    fmt.space_after = Pt(space_after)
    if indent:
        fmt.first_line_indent = Mm(10)
    return p


def _no_borders(table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    put_table_property(table._tbl.tblPr, borders)


def _cell_margins(table, mm: float) -> None:
    mar = OxmlElement("w:tblCellMar")
    for edge in ("left", "right"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:w"), str(int(Mm(mm).twips)))
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    put_table_property(table._tbl.tblPr, mar)


def _widths(table, widths_mm: list[float]) -> None:
    """Column widths where LibreOffice and Word read them: the table grid (w:tblGrid), each cell (w:tcW), the
    table's width and a fixed layout (no widening to fit a long word)."""
    grid = table._tbl.tblGrid
    for col, width in zip(grid.findall(qn("w:gridCol")), widths_mm):
        col.set(qn("w:w"), str(int(Mm(width).twips)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm):
            cell.width = Mm(width)
    pr = table._tbl.tblPr
    tbl_w = OxmlElement("w:tblW")
    tbl_w.set(qn("w:w"), str(int(Mm(sum(widths_mm)).twips)))
    tbl_w.set(qn("w:type"), "dxa")
    put_table_property(pr, tbl_w)
    table.autofit = False                     # w:tblLayout fixed, which python-docx puts in its place


def _grid(table) -> None:
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _cell(cell, text: str, *, bold: bool = False, italic: bool = False, align=WD_ALIGN_PARAGRAPH.LEFT,
          size: float = 11) -> None:
    p = cell.paragraphs[0]
    run = p.add_run(text)
    run.bold = bold or None
    run.italic = italic or None
    run.font.size = Pt(size)
    p.alignment = align
    p.paragraph_format.space_after = Pt(0)
    p.paragraph_format.line_spacing = 1.0
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


LEFT, RIGHT, CENTER = WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.CENTER


def _table(doc, headers: list, cells: list[tuple[str, object]], widths_mm: list[float], loop: str, size: float = 11,
           group: tuple[str, str] | None = None):
    """A grid table: header rows (repeated on each page; a header is text, or (text, span) over the columns under
    a second header row), and one templated row per item of `loop` ({%tr ...%}); cells are (text, alignment):
    names left, numbers right. `group`: (condition, text) of a row spanning the table, shown instead of the
    item's row when the condition holds (a department's heading)."""
    two = any(isinstance(h, tuple) for h in headers)
    n = len(widths_mm)
    rows = (2 if two else 1) + 3 + (4 if group else 0)
    table = doc.add_table(rows=rows, cols=n)
    _grid(table)
    if two:
        col = 0
        for h in headers:
            if isinstance(h, tuple):
                text, subs = h
                top = table.rows[0].cells[col]
                top.merge(table.rows[0].cells[col + len(subs) - 1])
                _cell(top, text, bold=True, align=CENTER, size=size)
                for i, sub in enumerate(subs):
                    _cell(table.rows[1].cells[col + i], sub, bold=True, align=CENTER, size=size)
                col += len(subs)
            else:
                merged = table.rows[0].cells[col].merge(table.rows[1].cells[col])
                _cell(merged, h, bold=True, align=CENTER, size=size)
                col += 1
        _repeat_header(table.rows[0])
        _repeat_header(table.rows[1])
        first = 2
    else:
        for i, header in enumerate(headers):
            _cell(table.rows[0].cells[i], header, bold=True, align=CENTER, size=size)
        _repeat_header(table.rows[0])
        first = 1
    body = table.rows[first:]
    _cell(body[0].cells[0], "{%tr " + loop + " %}", size=size)
    at = 1
    if group:
        _cell(body[1].cells[0], "{%tr if " + group[0] + " %}", size=size)
        span = body[2].cells[0].merge(body[2].cells[n - 1])
        _cell(span, group[1], bold=True, italic=True, size=size)
        _cell(body[3].cells[0], "{%tr else %}", size=size)
        at = 4
    for i, (text, align) in enumerate(cells):
        _cell(body[at].cells[i], text, align=align, size=size)
    if group:
        _cell(body[at + 1].cells[0], "{%tr endif %}", size=size)
        at += 1
    _cell(body[at + 1].cells[0], "{%tr endfor %}", size=size)
    _widths(table, widths_mm)
    return table


def _heading(doc, text: str, level: int):
    p = doc.add_paragraph(text, style=f"Heading {level}")
    p.paragraph_format.keep_with_next = True
    return p


def _appendix_head(doc, numeral: str, title: str) -> None:
    _para(doc, f"Phụ lục {numeral}", size=13, bold=True, align=CENTER)
    _para(doc, title, size=13, bold=True, align=CENTER)
    _para(doc, "{{ attached }}", size=13, italic=True, align=CENTER, space_after=8)


def build() -> Document:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    _font(doc.styles["Normal"], 14)
    doc.styles["Normal"].paragraph_format.space_after = Pt(6)
    doc.styles["Normal"].paragraph_format.line_spacing = 1.15
    for name, size in (("Heading 1", 14), ("Heading 2", 14), ("Heading 3", 14), ("Title", 14)):
        _font(doc.styles[name], size, bold=True)
        doc.styles[name].font.color.rgb = RGBColor(0, 0, 0)
        doc.styles[name].font.italic = name == "Heading 3"
        doc.styles[name].paragraph_format.space_before = Pt(6)
        doc.styles[name].paragraph_format.space_after = Pt(6)
        doc.styles[name].paragraph_format.first_line_indent = Mm(10) if name != "Title" else None
        doc.styles[name].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    _document_fonts(doc)
    justify = WD_ALIGN_PARAGRAPH.JUSTIFY

    # Letterhead: issuing body and national motto side by side, borderless, each line on one line.
    head = doc.add_table(rows=1, cols=2)
    _no_borders(head)
    _cell_margins(head, 0.5)
    left, right = head.rows[0].cells
    left.paragraphs[0].add_run("{{ issuer.agency_parent }}").font.size = Pt(12)
    left.paragraphs[0].alignment = CENTER
    left.paragraphs[0].paragraph_format.space_after = Pt(0)
    _para(left, "{%p for line in agency_lines %}", size=12, align=CENTER)
    _para(left, "{{ line }}", size=12, bold=True, align=CENTER)
    _para(left, "{%p endfor %}", size=12, align=CENTER)
    _para(left, "________", size=12, align=CENTER)
    _para(left, "{{ issuer.number }}", size=13, align=CENTER)
    r = right.paragraphs[0].add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    r.bold, r.font.size = True, Pt(12)
    right.paragraphs[0].alignment = CENTER
    right.paragraphs[0].paragraph_format.space_after = Pt(0)
    _para(right, "Độc lập - Tự do - Hạnh phúc", size=13, bold=True, align=CENTER)
    _para(right, "_______________________", size=13, align=CENTER)
    _para(right, "{{ issuer.place }}, ngày       tháng       năm        ", size=13, italic=True, align=CENTER)
    _widths(head, [72, PORTRAIT_TEXT_MM - 72])     # the motto at 12 pt is 88 mm wide

    _para(doc, "", space_after=6)
    _para(doc, "BÁO CÁO", size=14, bold=True, align=CENTER)
    _para(doc, "{{ title }}", size=14, bold=True, align=CENTER, space_after=12)
    _para(doc, "{{ opening }}", indent=True, space_after=6).alignment = justify
    _para(doc, "{%p if period_note %}")
    _para(doc, "{{ period_note }}", indent=True, space_after=6).alignment = justify
    _para(doc, "{%p endif %}")
    _para(doc, "{%p if corrections %}")
    _para(doc, "{{ corrections_intro }}", bold=True, indent=True, space_after=3)
    _para(doc, "{%p for c in corrections %}")
    _para(doc, "{{ c.text }}", indent=True, space_after=3).alignment = justify
    _para(doc, "{%p endfor %}")
    _para(doc, "{%p endif %}")

    # The skeleton: headings, the writer's blocks (placeholders highlighted), the sentences of the figures.
    _para(doc, "{%p for s in sections %}")
    for level in (1, 2, 3):
        _para(doc, ("{%p if s.level == 1 %}" if level == 1 else "{%p elif s.level == " + str(level) + " %}"))
        _heading(doc, "{{ s.heading }}", level)
    _para(doc, "{%p endif %}")
    _para(doc, "{%p for p in s.paragraphs %}")
    _para(doc, "{%p if p.kind == 'placeholder' %}")
    _para(doc, "{{ p.text }}", italic=True, indent=True, space_after=6, highlight=True).alignment = justify
    _para(doc, "{%p elif p.kind == 'review' %}")
    _para(doc, "{{ p.text }}", indent=True, space_after=6, highlight=True).alignment = justify
    _para(doc, "{%p elif p.kind == 'note' %}")
    _para(doc, "{{ p.text }}", size=12, italic=True, indent=True, space_after=6).alignment = justify
    _para(doc, "{%p else %}")
    _para(doc, "{{ p.text }}", indent=True, space_after=6).alignment = justify
    _para(doc, "{%p endif %}")
    _para(doc, "{%p endfor %}")
    _para(doc, "{%p endfor %}")
    _para(doc, "{{ closing }}", indent=True, space_after=6).alignment = justify

    # Recipients and signature, side by side, borderless.
    sign = doc.add_table(rows=1, cols=2)
    _no_borders(sign)
    left, right = sign.rows[0].cells
    r = left.paragraphs[0].add_run("Nơi nhận:")
    r.bold, r.italic, r.font.size = True, True, Pt(12)
    left.paragraphs[0].paragraph_format.space_after = Pt(0)
    _para(left, "{%p for item in issuer.recipients %}", size=11)
    _para(left, "- {{ item }}", size=11)
    _para(left, "{%p endfor %}", size=11)
    r = right.paragraphs[0].add_run("{{ signature.title }}")
    r.bold = True
    right.paragraphs[0].alignment = CENTER
    right.paragraphs[0].paragraph_format.space_after = Pt(0)
    _para(right, "{%p if signature.capacity %}", align=CENTER)
    _para(right, "{{ signature.capacity }}", bold=True, align=CENTER)
    _para(right, "{%p endif %}", align=CENTER)
    for _ in range(4):
        _para(right, "", align=CENTER)
    _para(right, "{{ signature.name }}", bold=True, align=CENTER)
    _widths(sign, [85, PORTRAIT_TEXT_MM - 85])

    # Appendices: a landscape section.
    land = doc.add_section(WD_SECTION.NEW_PAGE)
    land.orientation = WD_ORIENT.LANDSCAPE
    land.page_width, land.page_height = Mm(297), Mm(210)
    land.top_margin, land.bottom_margin = Mm(20), Mm(20)
    land.left_margin, land.right_margin = Mm(20), Mm(15)
    width = LANDSCAPE_TEXT_MM

    _appendix_head(doc, "I", "{{ pl1_title }}")
    _para(doc, "{%p if tasks_review %}")
    _para(doc, "{{ tasks_review }}", size=12, italic=True, highlight=True)
    _para(doc, "{%p endif %}")
    _para(doc, "{%p if tasks_placeholder %}")
    _para(doc, "{{ tasks_placeholder }}", size=12, italic=True, highlight=True)
    _para(doc, "{%p else %}")
    _para(doc, "{%p for g in tasks %}")
    _para(doc, "{{ g.title }}", size=12, bold=True, space_after=3)
    _table(doc, ["STT", "Nhiệm vụ được giao", "Văn bản giao nhiệm vụ", "Cơ quan thực hiện", "Thời hạn hoàn thành",
                 "Kết quả thực hiện", "Ghi chú"],
           [("{{ r.no }}", CENTER), ("{{ r.nhiem_vu }}", LEFT), ("{{ r.van_ban }}", LEFT), ("{{ r.co_quan }}", LEFT),
            ("{{ r.thoi_han }}", LEFT), ("{{ r.ket_qua }}", LEFT), ("{{ r.ghi_chu }}", LEFT)],
           [12, 70, 40, 35, 25, 60, 20], "for r in g.rows", size=10)
    _para(doc, "", space_after=6)
    _para(doc, "{%p endfor %}")
    _para(doc, "{%p endif %}")

    _para(doc, "{%p for a in appendices %}")
    _para(doc).add_run().add_break(WD_BREAK.PAGE)
    _appendix_head(doc, "{{ a.numeral }}", "{{ a.title }}")
    _table(doc, ["STT", "Dịch vụ công trực tuyến", "Kết nối với Cổng DVC quốc gia",
                 ("Tổng số hồ sơ (bao gồm cả trực tiếp và trực tuyến)", ["Tổng hồ sơ", "Trực tuyến", "Tỷ lệ"]),
                 ("Tình hình xử lý hồ sơ trực tuyến", ["Đúng hạn", "Quá hạn"]), "Khó khăn, vướng mắc"],
           [("{{ r.no }}", CENTER), ("{{ r.name }}", LEFT), ("{{ r.connected }}", LEFT), ("{{ r.total }}", RIGHT),
            ("{{ r.online }}", RIGHT), ("{{ r.ratio }}", RIGHT), ("{{ r.on_time }}", RIGHT), ("{{ r.overdue }}", RIGHT),
            ("{{ r.difficulties }}", LEFT)],
           [12, 78, 26, 20, 20, 18, 18, 18, 52], "for r in a.rows", size=10, group=("r.heading", "{{ r.heading }}"))
    _para(doc, "{%p endfor %}")

    _para(doc).add_run().add_break(WD_BREAK.PAGE)
    _appendix_head(doc, "IV", "{{ pl4_title }}")
    _para(doc, "{%p if has_year_earlier %}")
    _table(doc, ["Chỉ tiêu", "Đơn vị tính", "{{ period }}", "{{ previous }}", "Tăng/giảm", "Cùng kỳ năm trước", "Ghi chú"],
           [("{{ r.name }}", LEFT), ("{{ r.unit_vi }}", CENTER), ("{{ r.value }}", RIGHT), ("{{ r.previous }}", RIGHT),
            ("{{ r.change }}", RIGHT), ("{{ r.year_earlier }}", RIGHT), ("{{ r.quality }}", LEFT)],
           [96, 22, 30, 30, 30, 30, 24], "for r in comparison", size=11)
    _para(doc, "{%p else %}")
    _table(doc, ["Chỉ tiêu", "Đơn vị tính", "{{ period }}", "{{ previous }}", "Tăng/giảm", "Ghi chú"],
           [("{{ r.name }}", LEFT), ("{{ r.unit_vi }}", CENTER), ("{{ r.value }}", RIGHT), ("{{ r.previous }}", RIGHT),
            ("{{ r.change }}", RIGHT), ("{{ r.quality }}", LEFT)],
           [110, 24, 34, 34, 34, 26], "for r in comparison", size=11)
    _para(doc, "{%p endif %}")

    _para(doc).add_run().add_break(WD_BREAK.PAGE)
    _appendix_head(doc, "V", "{{ pl5_title }}")
    _para(doc, "{%p for c in trends %}")
    _para(doc, "{{ c.image }}", align=CENTER)
    _para(doc, "{{ c.caption }}", size=12, italic=True, align=CENTER, space_after=12)
    _para(doc, "{%p endfor %}")
    # Phụ lục V's tables by unit level are built into the rendered report at this paragraph
    # (p06/documents/word_tables.py): their columns are the headline indicators, as many as the catalog names.
    _para(doc, "{{ unit_tables_anchor }}")
    assert width >= 262
    return doc


def main() -> int:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    build().save(OUT)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
