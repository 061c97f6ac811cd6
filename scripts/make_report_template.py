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

import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "catalog" / "templates" / "bao_cao_DA06.docx"
FONT = "Times New Roman"


def _font(style, size: float, bold: bool = False) -> None:
    style.font.name = FONT
    style.font.size = Pt(size)
    style.font.bold = bold
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)


def _para(container, text: str = "", *, size: float | None = None, bold: bool = False, italic: bool = False,
          align=None, indent: bool = False, space_after: float = 0, style: str | None = None):
    p = container.add_paragraph(style=style)
    if text:
        run = p.add_run(text)
        run.bold, run.italic = bold or None, italic or None
        if size:
            run.font.size = Pt(size)
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
    table._tbl.tblPr.append(borders)


def _grid(table) -> None:
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _cell(cell, text: str, *, bold: bool = False, align=WD_ALIGN_PARAGRAPH.LEFT, size: float = 11) -> None:
    p = cell.paragraphs[0]
    run = p.add_run(text)
    run.bold = bold or None
    run.font.size = Pt(size)
    p.alignment = align
    p.paragraph_format.space_after = Pt(0)


def _table(doc, headers: list[str], cells: list[str], widths_mm: list[float], loop: str, size: float = 11):
    """A grid table: a header row (repeated on each page) and one templated row, repeated by `loop` ({%tr ...%})."""
    table = doc.add_table(rows=4, cols=len(headers))
    _grid(table)
    for i, header in enumerate(headers):
        _cell(table.rows[0].cells[i], header, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=size)
    _repeat_header(table.rows[0])
    _cell(table.rows[1].cells[0], "{%tr " + loop + " %}", size=size)
    for i, text in enumerate(cells):
        right = text.startswith("{{ r.n") or "| so" in text or "| ty_le" in text
        _cell(table.rows[2].cells[i], text, align=WD_ALIGN_PARAGRAPH.RIGHT if right else WD_ALIGN_PARAGRAPH.LEFT, size=size)
    _cell(table.rows[3].cells[0], "{%tr endfor %}", size=size)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm):
            cell.width = Mm(width)
    return table


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
    for name, size in (("Heading 1", 14), ("Heading 2", 14), ("Title", 14)):
        _font(doc.styles[name], size, bold=True)
        doc.styles[name].font.color.rgb = None
        doc.styles[name].paragraph_format.space_before = Pt(6)
        doc.styles[name].paragraph_format.space_after = Pt(6)
    center = WD_ALIGN_PARAGRAPH.CENTER

    # Letterhead: issuing body and national motto side by side, borderless.
    head = doc.add_table(rows=1, cols=2)
    _no_borders(head)
    left, right = head.rows[0].cells
    left.width, right.width = Mm(70), Mm(95)
    left.paragraphs[0].add_run("{{ issuer.agency_parent }}").font.size = Pt(13)
    left.paragraphs[0].alignment = center
    _para(left, "{{ issuer.agency }}", size=13, bold=True, align=center)
    _para(left, "_______", size=13, align=center)
    _para(left, "{{ issuer.number }}", size=13, align=center)
    r = right.paragraphs[0].add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    r.bold, r.font.size = True, Pt(12)
    right.paragraphs[0].alignment = center
    _para(right, "Độc lập - Tự do - Hạnh phúc", size=13, bold=True, align=center)
    _para(right, "_________________________", size=13, align=center)
    _para(right, "{{ issuer.place }}, ngày       tháng       năm          ", size=13, italic=True, align=center)

    _para(doc, "", space_after=6)
    _para(doc, "BÁO CÁO", size=14, bold=True, align=center)
    _para(doc, "{{ word_title }}", size=14, bold=True, align=center, space_after=12)
    _para(doc, "{{ intro }}", indent=True, space_after=6).alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    _para(doc, "{%p if period_note %}")
    _para(doc, "{{ period_note }}", indent=True, space_after=6).alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    _para(doc, "{%p endif %}")
    _para(doc, "{%p if vintage %}")
    _para(doc, "{{ vintage }}", italic=True, indent=True, space_after=6)
    _para(doc, "{%p endif %}")

    doc.add_paragraph("I. KẾT QUẢ THỰC HIỆN CÁC NHÓM TIỆN ÍCH", style="Heading 1")
    _para(doc, "{%p for g in groups %}")
    doc.add_paragraph("{{ g.number }}. {{ g.title }}", style="Heading 2")
    _para(doc, "{%p for line in g.lines %}")
    _para(doc, "{{ line }}", indent=True, space_after=6).alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    _para(doc, "{%p endfor %}")
    _para(doc, "{%p if g.note %}")
    _para(doc, "{{ g.note }}", size=12, italic=True, indent=True, space_after=6)
    _para(doc, "{%p endif %}")
    _para(doc, "{%p endfor %}")

    doc.add_paragraph("II. TỔNG HỢP CHỈ TIÊU TOÀN TỈNH", style="Heading 1")
    _para(doc, "So sánh với {{ previous }} và cùng kỳ năm trước (nếu có số liệu).", indent=True)
    _table(doc, ["Chỉ tiêu", "Đơn vị tính", "Kỳ này", "Kỳ trước", "Tăng/giảm", "Cùng kỳ năm trước", "Ghi chú"],
           ["{{ r.name }}", "{{ r.unit_vi }}", "{{ r.value }}", "{{ r.previous }}", "{{ r.change }}",
            "{{ r.year_earlier }}", "{{ r.quality }}"],
           [50, 18, 22, 22, 18, 22, 13], "for r in comparison", size=10)

    doc.add_paragraph("III. BIỂU ĐỒ", style="Heading 1")
    _para(doc, "{%p for c in charts.trends + charts.ranked %}")
    _para(doc, "{{ c.image }}", align=center)
    _para(doc, "{{ c.caption }}", size=12, italic=True, align=center, space_after=12)
    _para(doc, "{%p endfor %}")

    doc.add_paragraph("IV. {{ completeness.title | upper }}", style="Heading 1")
    _para(doc, "{{ completeness.text }}", indent=True).alignment = WD_ALIGN_PARAGRAPH.JUSTIFY

    doc.add_paragraph("V. {{ findings.title | upper }}", style="Heading 1")
    _para(doc, "{%p if findings.none %}")
    _para(doc, "{{ findings.none }}", indent=True)
    _para(doc, "{%p else %}")
    _para(doc, "{{ findings.intro }}", indent=True)
    _para(doc, "{%p for d in findings.departments %}")
    _para(doc, "{{ d.heading }}", bold=True, indent=True)
    _para(doc, "{%p for line in d.lines %}")
    _para(doc, "{{ line }}", size=12, indent=True, space_after=3).alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    _para(doc, "{%p endfor %}")
    _para(doc, "{%p endfor %}")
    _para(doc, "{%p endif %}")

    # Recipients and signature, side by side, borderless.
    _para(doc, "", space_after=6)
    sign = doc.add_table(rows=1, cols=2)
    _no_borders(sign)
    left, right = sign.rows[0].cells
    left.width, right.width = Mm(85), Mm(80)
    r = left.paragraphs[0].add_run("Nơi nhận:")
    r.bold, r.italic, r.font.size = True, True, Pt(12)
    _para(left, "{%p for item in issuer.recipients %}", size=11)
    _para(left, "- {{ item }}", size=11)
    _para(left, "{%p endfor %}", size=11)
    r = right.paragraphs[0].add_run("{{ issuer.signer_title }}")
    r.bold = True
    right.paragraphs[0].alignment = center
    for _ in range(4):
        _para(right, "", align=center)
    _para(right, "{{ issuer.signer_name }}", bold=True, align=center)

    # Appendices.
    _para(doc).add_run().add_break(WD_BREAK.PAGE)
    _para(doc, "PHỤ LỤC I", size=14, bold=True, align=center)
    _para(doc, "CHỈ TIÊU THEO ĐƠN VỊ, {{ period | upper }}", size=14, bold=True, align=center, space_after=6)
    _para(doc, "{%p for u in unit_tables %}")
    _para(doc, "{{ u.caption }}", size=12, bold=True, space_after=3)
    _table(doc, ["STT", "Đơn vị", "Tử số", "Mẫu số", "Giá trị", "Ghi chú"],
           ["{{ r.no }}", "{{ r.name }}", "{{ r.numerator }}", "{{ r.denominator }}", "{{ r.value }}", "{{ r.quality }}"],
           [12, 55, 28, 28, 20, 22], "for r in u.rows", size=10)
    _para(doc, "", space_after=6)
    _para(doc, "{%p endfor %}")

    _para(doc, "{%p for a in appendices %}")
    _para(doc).add_run().add_break(WD_BREAK.PAGE)
    _para(doc, "{{ a.title | upper }}", size=13, bold=True, align=center, space_after=6)
    _table(doc, ["STT", "Dịch vụ công trực tuyến", "Sở, ngành", "Kết nối Cổng DVC quốc gia", "Tổng hồ sơ",
                 "Trực tuyến", "Tỷ lệ trực tuyến (%)", "Đúng hạn", "Quá hạn"],
           ["{{ r.no }}", "{{ r.name }}", "{{ r.department }}", "{{ r.connected }}", "{{ r.total }}", "{{ r.online }}",
            "{{ r.ratio }}", "{{ r.on_time }}", "{{ r.overdue }}"],
           [9, 45, 20, 20, 15, 15, 14, 14, 13], "for r in a.rows", size=9)
    _para(doc, "{%p endfor %}")
    return doc


def main() -> int:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    build().save(OUT)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
