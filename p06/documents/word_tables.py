"""Tables built into a rendered Word report where the template cannot shape them: Phụ lục V, the headline
indicators by unit, one table per unit level with a column per indicator (their number varies with the
catalog), laid out as the template's tables are: grid widths within the landscape text area, header row repeated
on each page, names left and numbers right, Times New Roman."""
from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

ANCHOR = "[[PHU_LUC_V]]"            # the template's paragraph the tables replace
TEXT_WIDTH_MM = 297 - 20 - 15       # the appendices' section: A4 landscape, left 20 mm, right 15 mm


def _widths(table, widths_mm: list[float]) -> None:
    grid = table._tbl.tblGrid
    for col, width in zip(grid.findall(qn("w:gridCol")), widths_mm):
        col.set(qn("w:w"), str(int(Mm(width).twips)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm):
            cell.width = Mm(width)
    pr = table._tbl.tblPr
    tbl_w = pr.find(qn("w:tblW"))
    if tbl_w is None:
        tbl_w = OxmlElement("w:tblW")
        pr.append(tbl_w)
    tbl_w.set(qn("w:w"), str(int(Mm(sum(widths_mm)).twips)))
    tbl_w.set(qn("w:type"), "dxa")
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    pr.append(layout)


def _cell(cell, text: str, align, bold: bool = False, size: float = 10) -> None:
    p = cell.paragraphs[0]
    run = p.add_run(text)
    run.bold = bold or None
    run.font.size = Pt(size)
    p.alignment = align
    p.paragraph_format.space_after = Pt(0)
    p.paragraph_format.first_line_indent = None
    p.paragraph_format.line_spacing = 1.0


def _paragraph_before(anchor, text: str = "", *, bold=False, italic=False, size=12, align=None):
    p = anchor.insert_paragraph_before()
    if text:
        run = p.add_run(text)
        run.bold, run.italic = bold or None, italic or None
        run.font.size = Pt(size)
    if align is not None:
        p.alignment = align
    p.paragraph_format.first_line_indent = None
    return p


def fill(path: Path, tables: list[dict], image_width_mm: float = 150) -> None:
    """Replace the anchor paragraph of the rendered report at `path` by the tables, each
    {caption, headers, rows: [{no, name, values, bold}], charts: [{image, caption}]}."""
    doc = Document(str(path))
    anchor = next((p for p in doc.paragraphs if p.text.strip() == ANCHOR), None)
    if anchor is None:
        return
    for spec in tables:
        caption = _paragraph_before(anchor, spec["caption"], bold=True)
        caption.paragraph_format.keep_with_next = True
        n = len(spec["headers"])
        table = doc.add_table(rows=1 + len(spec["rows"]), cols=2 + n)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        value_width = min(40.0, (TEXT_WIDTH_MM - 14 - 80) / max(n, 1))
        for i, header in enumerate(["STT", "Đơn vị", *spec["headers"]]):
            _cell(table.rows[0].cells[i], header, WD_ALIGN_PARAGRAPH.CENTER, bold=True)
        header = table.rows[0]._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        header.append(repeat)
        for row, line in zip(table.rows[1:], spec["rows"]):
            _cell(row.cells[0], line["no"], WD_ALIGN_PARAGRAPH.CENTER, bold=line["bold"])
            _cell(row.cells[1], line["name"], WD_ALIGN_PARAGRAPH.LEFT, bold=line["bold"])
            for i, value in enumerate(line["values"]):
                _cell(row.cells[2 + i], value, WD_ALIGN_PARAGRAPH.RIGHT, bold=line["bold"])
        _widths(table, [14, 80] + [value_width] * n)
        anchor._p.addprevious(table._tbl)
        _paragraph_before(anchor, "")
        for chart in spec["charts"]:
            picture = _paragraph_before(anchor, align=WD_ALIGN_PARAGRAPH.CENTER)
            picture.add_run().add_picture(str(chart["image"]), width=Mm(image_width_mm))
            picture.paragraph_format.keep_with_next = True
            _paragraph_before(anchor, chart["caption"], italic=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    anchor._p.getparent().remove(anchor._p)
    doc.save(str(path))
