"""Tables built into a rendered Word report where the template cannot shape them: Phụ lục V, the headline
indicators by unit, one table per unit level with a column per indicator (their number varies with the
catalog), laid out as the template's tables are: grid widths within the landscape text area, header row repeated
on each page, names left and numbers right, Times New Roman.

The tables are written as WordprocessingML text and parsed once each: python-docx's cell and run objects cost
some fifty times more for the same XML (a commune month has over a thousand cells)."""
from __future__ import annotations

from xml.sax.saxutils import escape

from docx.document import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm

# w:tblPr's children in the order the WordprocessingML schema requires (ECMA-376 CT_TblPr); Word refuses a
# table whose properties come in another order, LibreOffice silently drops the misplaced ones
TBLPR_ORDER = tuple(f"w:{tag}" for tag in (
    "tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize", "tblW", "jc",
    "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook", "tblCaption",
    "tblDescription", "tblPrChange"))

ANCHOR = "[[PHU_LUC_V]]"            # the template's paragraph the tables replace
TEXT_WIDTH_MM = 297 - 20 - 15       # the appendices' section: A4 landscape, left 20 mm, right 15 mm
W = nsdecls("w")


def put_table_property(tbl_pr, element) -> None:
    """Set `element` (a w:tblBorders, w:tblCellMar, ...) in the table properties `tbl_pr` at its place in
    TBLPR_ORDER, replacing one of the same name."""
    tag = next(t for t in TBLPR_ORDER if qn(t) == element.tag)
    tbl_pr.remove_all(tag)
    tbl_pr.insert_element_before(element, *TBLPR_ORDER[TBLPR_ORDER.index(tag) + 1:])


def _text(text: str) -> str:
    if not text:
        return ""
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f"<w:t{space}>{escape(text)}</w:t>"


def _run(text: str, *, bold=False, italic=False, size: float = 12) -> str:
    marks = ("<w:b/>" if bold else "") + ("<w:i/>" if italic else "")
    return f'<w:r><w:rPr>{marks}<w:sz w:val="{round(size * 2)}"/></w:rPr>{_text(text)}</w:r>'


def _paragraph(runs: str = "", *, keep_with_next=False, align: str | None = None) -> str:
    pr = ("<w:keepNext/>" if keep_with_next else "") + (f'<w:jc w:val="{align}"/>' if align else "")
    return f"<w:p {W}><w:pPr>{pr}</w:pPr>{runs}</w:p>"


def _table(spec: dict) -> str:
    n = len(spec["headers"])
    widths_mm = [14, 80] + [min(40.0, (TEXT_WIDTH_MM - 14 - 80) / max(n, 1))] * n
    widths = [Mm(w).twips for w in widths_mm]
    aligns = ["center", "left"] + ["right"] * n

    def row(texts, bold: bool, aligns=aligns, header=False) -> str:
        cells = "".join(
            f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{w}"/></w:tcPr><w:p><w:pPr>'
            f'<w:spacing w:after="0" w:line="240" w:lineRule="auto"/><w:jc w:val="{a}"/></w:pPr>'
            f"{_run(t, bold=bold, size=10)}</w:p></w:tc>" for t, w, a in zip(texts, widths, aligns))
        return "<w:tr>" + ('<w:trPr><w:tblHeader w:val="true"/></w:trPr>' if header else "") + cells + "</w:tr>"

    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    return (f'<w:tbl {W}><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:type="dxa" w:w="{Mm(sum(widths_mm)).twips}"/>'
            '<w:jc w:val="center"/><w:tblLayout w:type="fixed"/>'          # the schema's order: layout before look
            '<w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" w:lastRow="0" w:noHBand="0" w:noVBand="1" '
            'w:val="04A0"/></w:tblPr>'
            f"<w:tblGrid>{grid}</w:tblGrid>"
            + row(["STT", "Đơn vị", *spec["headers"]], True, ["center"] * (2 + n), header=True)
            + "".join(row([line["no"], line["name"], *line["values"]], line["bold"]) for line in spec["rows"])
            + "</w:tbl>")


def fill(doc: Document, tables: list[dict], image_width_mm: float = 150) -> None:
    """Replace the anchor paragraph of the rendered report `doc` by the tables, each
    {caption, headers, rows: [{no, name, values, bold}], charts: [{image, caption}]}."""
    body = doc.element.body
    anchor = next((p for p in body.iterchildren(qn("w:p"))
                   if "".join(t.text or "" for t in p.iter(qn("w:t"))).strip() == ANCHOR), None)
    if anchor is None:
        return

    def before(xml: str):
        element = parse_xml(xml)
        anchor.addprevious(element)
        return element

    for spec in tables:
        before(_paragraph(_run(spec["caption"], bold=True), keep_with_next=True))
        before(_table(spec))
        before(_paragraph())
        for chart in spec["charts"]:
            picture = before(_paragraph("<w:r><w:drawing/></w:r>", keep_with_next=True, align="center"))
            inline = doc.part.new_pic_inline(str(chart["image"]), Mm(image_width_mm), None)
            picture.find(f"{qn('w:r')}/{qn('w:drawing')}").append(inline)
            before(_paragraph(_run(chart["caption"], italic=True), align="center"))
    body.remove(anchor)
