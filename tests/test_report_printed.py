"""The Word report and the workbook judged as printed (issue 17): each sample month's report and workbook, a
quarter's and a year's, converted to PDF by LibreOffice (`soffice --headless --convert-to pdf`), read back with
poppler (pdftotext, pdffonts) and checked page by page; a few pages are kept as PNG under
test-artifacts/report/ for a person to look at beside the seed report.

Needs LibreOffice and poppler-utils (`.ci/run` installs them where missing); skipped, saying so, without them.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from datetime import date
from pathlib import Path

import pytest
from conftest import ALL_SAMPLE_MONTHS
from docx import Document
from openpyxl import load_workbook

from p06 import catalog, config
from p06.documents import report
from p06.reconcile.rules import load_rules

MONTHS = ALL_SAMPLE_MONTHS
PERIODS = ("2023-Q3", "2025")
LABELS = MONTHS + PERIODS
ARTIFACTS = config.REPO_DIR / "test-artifacts" / "report"
TWIPS_PER_MM = 1440 / 25.4
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

pytestmark = pytest.mark.skipif(
    not (shutil.which("soffice") and shutil.which("pdftotext") and shutil.which("pdffonts")),
    reason="LibreOffice (soffice) and poppler-utils (pdftotext, pdffonts) are not installed: the printed-layout "
           "tests need them (.ci/run installs libreoffice-writer-nogui, libreoffice-calc-nogui, poppler-utils)")


def _pdf(files: list[Path], out: Path, profile: Path) -> None:
    """All files to PDF in one LibreOffice process (a profile of its own: other LibreOffice runs do not clash)."""
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(out), *map(str, files)], check=True, capture_output=True, timeout=900)


@pytest.fixture(scope="module")
def printed(documents_of_the_samples, tmp_path_factory) -> dict:
    """The four sample months published; each month's Word report and workbook, the 2023-Q3 and 2025 reports and
    workbooks, all as .docx/.xlsx and as PDF."""
    base = tmp_path_factory.mktemp("printed")
    built = documents_of_the_samples                     # conftest.py, shared with tests/test_report_word.py
    db = built["db"]
    docs = {label: dict(built["docs"][label]) for label in LABELS}
    pdf_dir = base / "pdf"
    _pdf([d[k] for d in docs.values() for k in ("word", "book")], pdf_dir, base / "lo-profile")
    for label, d in docs.items():
        d["word_pdf"] = pdf_dir / f"{d['word'].stem}.pdf"
        d["book_pdf"] = pdf_dir / f"{d['book'].stem}.pdf"
    _keep_pages(docs)
    return {"db": db, "docs": docs}


def _keep_pages(docs: dict) -> None:
    """Pages for a person to look at: the first pages, the first appendix, the workbook's first pages."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if not shutil.which("pdftoppm"):
        return
    for label in ("2023-09", "2025-07", "2023-Q3"):
        for kind, first, last in (("word_pdf", 1, 8), ("book_pdf", 1, 2)):
            subprocess.run(["pdftoppm", "-f", str(first), "-l", str(last), "-r", "70", "-png", str(docs[label][kind]),
                            str(ARTIFACTS / f"{label}_{kind[:4]}")], check=True, timeout=300)


def _text(pdf: Path, layout: bool = False) -> str:
    args = ["pdftotext"] + (["-layout"] if layout else []) + [str(pdf), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _pages(pdf: Path) -> list[str]:
    return _text(pdf, layout=True).split("\f")[:-1]


def _fonts(pdf: Path) -> set[str]:
    lines = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout.splitlines()[2:]
    return {line.split()[0].split("+")[-1] for line in lines if line.strip()}


def _words(text: str) -> str:
    return " ".join(text.split())


def _outward_pages(pdf: Path) -> str:
    return _words(_text(pdf))


# ------------------------------------------------------------------ the Word report as printed

@pytest.mark.parametrize("label", LABELS)
def test_report_pages_fonts_and_title(printed, label):
    docs = printed["docs"][label]
    pages = _pages(docs["word_pdf"])
    # the body on A4 portrait, the appendices landscape: a month of district figures is about 20 pages, one of
    # 166 communes longer (its table by unit), never the 50+ pages of unfitted tables
    assert 12 <= len(pages) <= 45, len(pages)
    assert _fonts(docs["word_pdf"]) <= {"LiberationSerif", "LiberationSerif-Bold", "LiberationSerif-Italic",
                                        "LiberationSerif-BoldItalic", "TimesNewRomanPSMT", "TimesNewRomanPS-BoldMT",
                                        "TimesNewRomanPS-ItalicMT", "TimesNewRomanPS-BoldItalicMT"}
    text = _outward_pages(docs["word_pdf"])
    name, _ = report.period_text(report.report_periods.parse(label), report.load_templates())
    title = f"Kết quả thực hiện Đề án 06 trên địa bàn tỉnh Thanh Hóa {name}"
    assert text.count(title) == 1                                     # one title line, with province and period
    assert text.count("BÁO CÁO ") >= 1 and "BÁO CÁO KẾT QUẢ" not in text
    first = pages[0]
    # the letterhead: the motto and each line of the agency on one printed line (no forced breaks)
    for line in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "UBND TỈNH THANH HÓA",
                 "TỔ CÔNG TÁC TRIỂN KHAI", "ĐỀ ÁN 06"):
        assert line in first
    opening = "Thực hiện Quyết định số 06/QĐ-TTg ngày 06/01/2022 của Thủ tướng Chính phủ"
    assert opening in _words(first)
    assert f"Tổ công tác Đề án 06 tỉnh Thanh Hóa báo cáo kết quả triển khai thực hiện Đề án 06 {name} trên địa bàn " \
           f"tỉnh Thanh Hóa như sau:" in text
    assert "kính báo cáo Tổ công tác Đề án 06 của Chính phủ (có các Phụ lục I, II, III, IV, V kèm theo Báo cáo)./." in text
    assert "Đỗ Minh Tuấn" in text                                       # the signer, by name (report.yaml)


@pytest.mark.parametrize("label", LABELS)
def test_nothing_internal_in_the_pages_that_leave_the_office(printed, label):
    text = _outward_pages(printed["docs"][label]["word_pdf"])
    sources = sorted(catalog.sources())
    rules = sorted({r.id for r in load_rules()})
    assert not [s for s in sources if re.search(rf"(?<![\w/.-]){re.escape(s)}(?![\w/-])", text)], "a source key"
    assert not [r for r in rules if r in text], "a rule name"
    assert not re.search(r"\b\w+\.(xlsx|xls|csv|ods|docx)\b", text, re.I), "a file name"
    assert not re.search(r"\b[Ôô] [A-Z]{1,3}\d+", text), "a cell reference"
    assert not re.search(r"\bPL\d-\d\d\b", text), "a service code"
    assert "Bản dự thảo do hệ thống" not in text and "Số liệu công bố lần" not in text
    today = date.today()
    assert f"{today.day:02d}/{today.month:02d}/{today.year}" not in text, "the run's date"
    assert "TTG" not in text and "06/QĐ-TTg" in text                # TTg as written, never upper-cased
    assert not re.search(r"(?<![\w/.,])-\d", text), "a negative number with a hyphen: one minus sign, −"


@pytest.mark.parametrize("label", LABELS)
def test_no_table_wider_than_the_text_area(printed, label):
    """In the file itself: each table's grid (what LibreOffice lays out) within its section's text width."""
    with zipfile.ZipFile(printed["docs"][label]["word"]) as z:
        from lxml import etree
        body = etree.fromstring(z.read("word/document.xml")).find(f"{W}body")
    tables, checked = [], 0
    for child in body:
        if child.tag == f"{W}tbl":
            tables.append(sum(int(c.get(f"{W}w")) for c in child.find(f"{W}tblGrid")))
        sect = child.find(f"{W}pPr/{W}sectPr") if child.tag == f"{W}p" else (child if child.tag == f"{W}sectPr" else None)
        if sect is not None:
            size, margins = sect.find(f"{W}pgSz"), sect.find(f"{W}pgMar")
            text_width = int(size.get(f"{W}w")) - int(margins.get(f"{W}left")) - int(margins.get(f"{W}right"))
            assert all(width <= text_width + 2 for width in tables), (tables, text_width)
            checked += len(tables)
            tables = []
    assert checked >= 5


def test_every_style_in_times_new_roman(printed):
    """No theme font anywhere (a heading in the theme's sans-serif font was the fault); every rFonts names TNR."""
    with zipfile.ZipFile(printed["docs"]["2023-09"]["word"]) as z:
        styles, document = z.read("word/styles.xml").decode(), z.read("word/document.xml").decode()
        theme = z.read("word/theme/theme1.xml").decode()
    for xml in (styles, document):
        assert "Theme=" not in xml
        for fonts in re.findall(r"<w:rFonts [^>]*>", xml):
            assert set(re.findall(r'w:(?:ascii|hAnsi|cs|eastAsia)="([^"]*)"', fonts)) == {"Times New Roman"}, fonts
    assert set(re.findall(r'<a:latin typeface="([^"]*)"', theme)) == {"Times New Roman"}


def test_tables_align_names_left_and_numbers_right(printed):
    doc = Document(str(printed["docs"]["2023-09"]["word"]))
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Chỉ tiêu")
    row = next(r for r in table.rows[1:] if r.cells[0].text.startswith("Hồ sơ CCCD gắn chip"))
    assert row.cells[0].paragraphs[0].alignment == 0                         # LEFT
    assert [row.cells[i].paragraphs[0].alignment for i in (2, 3, 4)] == [2, 2, 2]     # RIGHT
    rate = next(r for r in table.rows[1:] if r.cells[1].text == "%" and r.cells[4].text not in ("", "0"))
    assert rate.cells[4].text.endswith(" điểm %")                   # a rate's change in percentage points


def test_the_seed_skeleton_in_order(printed):
    """Sections I…V as the working group numbers them, with the writer's text of 2023-09 (narrative file) and
    the figures; the appendices each with their "Kèm theo" line."""
    text = _outward_pages(printed["docs"]["2023-09"]["word_pdf"])
    headings = ["I. CÔNG TÁC THAM MƯU, CHỈ ĐẠO, TRIỂN KHAI", "II. KẾT QUẢ CỤ THỂ CÁC MẶT CÔNG TÁC",
                "1. Công tác tuyên truyền thực hiện Đề án", "2. Về hoàn thiện thể chế", "3. Về dịch vụ công",
                "4.1. Lĩnh vực Ngân hàng", "4.3. Triển khai an sinh xã hội", "5. Nhóm phục vụ phát triển công dân số",
                "6.1. Kết quả làm sạch dữ liệu", "7. Về bố trí ngân sách", "8. Kết quả triển khai các mô hình điểm",
                "III. NHẬN XÉT, ĐÁNH GIÁ, GIẢI PHÁP THỰC HIỆN", "1. Ưu điểm", "IV. NHIỆM VỤ TRỌNG TÂM",
                "V. KIẾN NGHỊ, ĐỀ XUẤT", "Nơi nhận:", "Phụ lục I", "Phụ lục II", "Phụ lục III", "Phụ lục IV",
                "Phụ lục V"]
    at, found = 0, {}
    for h in headings:                                   # each after the one before
        found[h] = text.find(h, at)
        assert found[h] >= 0, (h, found)
        at = found[h] + len(h)
    assert text.count("(Kèm theo Báo cáo số: /BC-TCTTKĐA06 ngày tháng năm của Tổ công tác Đề án 06 tỉnh Thanh Hóa)") == 5
    # the writer's words of 2023-09 (catalog/provinces/38/narrative/2023-09.yaml), not placeholders
    assert "Đẩy mạnh tuyên truyền về Đề án 06 bằng nhiều hình thức" in text
    assert "Kế hoạch số 24/KH-UBND ngày 13/02/2023" in text.split("I. CÔNG TÁC")[0]
    assert "[Nội dung do Tổ công tác bổ sung" not in text.split("Nơi nhận:")[0]
    # the figures: the warehouse's, in the seed's sentence
    assert "3.079.271/3.200.783 hồ sơ cá nhân người tham gia BHXH, BHYT, đạt tỷ lệ 96,20% (tăng 1,10 điểm % so với " \
           "tháng 8/2023)" in text


def test_a_month_without_the_writers_text_shows_placeholders(printed):
    text = _outward_pages(printed["docs"]["2023-08"]["word_pdf"])
    body = text.split("Nơi nhận:")[0]
    assert body.count("[Nội dung do Tổ công tác bổ sung:") == len(
        [p for s in report.load_templates()["skeleton"] for p in s.get("parts", [])
         if "writer" in p and not p.get("optional")])


def test_2025_07_does_not_call_an_unexpected_source_missing(printed):
    text = _outward_pages(printed["docs"]["2025-07"]["word_pdf"])
    assert "Sở Y tế" not in re.findall(r"Chưa nhận được số liệu [^.]*", text).__str__()
    year = _outward_pages(printed["docs"]["2025"]["word_pdf"])
    assert "đủ" not in " ".join(re.findall(r"Đã nhận[^.]*\.", year))       # ten months missing: never "đủ"


# ------------------------------------------------------------------ the workbook as printed

@pytest.mark.parametrize("label", ("2023-09", "2025-07", "2023-Q3"))
def test_workbook_prints_in_legible_pages(printed, label):
    docs = printed["docs"][label]
    pages = _pages(docs["book_pdf"])
    wb = load_workbook(docs["book"])
    # the pages the print setup asks for, at least 20 rows a page: a report-shaped sheet's column segments (breaks
    # between indicators) each over its rows, the chart sheet a page per chart, the analysts' sheets fitted to the
    # page width; LibreOffice printing more means a sheet spilled across pages sideways
    bound = 0
    for ws in wb.worksheets:
        if ws.title.startswith("Bảng nhóm"):
            bound += (len(ws.col_breaks.brk) + 1) * -(-ws.max_row // 20)
        elif ws.title == "Biểu đồ":
            bound += len(ws.row_breaks.brk) + 1
        else:
            bound += -(-ws.max_row // 20)
    assert len(pages) <= bound, (len(pages), bound)
    for ws in wb.worksheets:
        assert ws.print_area, ws.title
        setup = ws.page_setup
        if ws.title.startswith("Bảng nhóm"):
            assert ws.print_title_rows == "$2:$3" and ws.print_title_cols == "$A:$B", ws.title
            assert not ws.sheet_properties.pageSetUpPr.fitToPage and setup.scale >= 82, ws.title   # ≥ 9 pt of 11
            # each printed page: the unit columns and whole indicators within the page's width at that scale
            edges = [0] + [b.id for b in ws.col_breaks.brk] + [ws.max_column]
            # the widths the file holds, by column number (a <col> element may span several columns: openpyxl
            # files it under its first letter, and gives any other letter its own default width)
            widths = {i: d.width for d in ws.column_dimensions.values() if d.customWidth
                      for i in range(d.min, d.max + 1)}
            assert all(i in widths for i in range(1, ws.max_column + 1)), (ws.title, sorted(widths))
            unit_cols = widths[1] + widths[2]
            for start, end in zip(edges, edges[1:]):
                width = (unit_cols + sum(widths[i] for i in range(max(start, 2) + 1, end + 1))) * setup.scale / 100
                assert width <= 150, (ws.title, start, end, width)
                header = ws.cell(row=2, column=max(start, 2) + 1).value
                assert header, (ws.title, start)           # a page starts at an indicator's first column
    findings = wb["Sai lệch cần phản hồi"] if "Sai lệch cần phản hồi" in wb.sheetnames else None
    if findings is not None:
        headers = [c.value for c in findings[1]]
        assert "Nguồn" not in headers
        rules = {findings.cell(row=r, column=headers.index("Quy tắc") + 1).value for r in range(2, findings.max_row + 1)}
        assert not [r for r in rules if r and re.fullmatch(r"[a-z_.]+", r)], rules    # rules in words


def _overprinted(pdf: Path) -> list[tuple[int, str, str]]:
    """(page, word, word) of the words printed over one another (their boxes, from `pdftotext -bbox`, overlap
    across half their height): a wrapped cell's text running over the row below it."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    found = []
    for number, page in enumerate(html.split("<page ")[1:], start=1):
        words = [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in re.findall(
            r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', page)]
        words.sort()
        for i, p in enumerate(words):
            for q in words[i + 1:]:
                if q[0] >= p[2] - 1:                   # sorted by left edge: no later word reaches back over p
                    break
                if min(p[3], q[3]) - max(p[1], q[1]) > 0.5 * min(p[3] - p[1], q[3] - q[1]):
                    found.append((number, p[4], q[4]))
    return found


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("document", ("book_pdf", "word_pdf"))
def test_no_text_printed_over_other_text(printed, label, document):
    """In the workbook, rows are as high as their wrapped texts need: LibreOffice, printing, does not grow a row
    as Excel does on opening, and a long group name, header or message would run over the row below."""
    assert _overprinted(printed["docs"][label][document]) == []


def test_a_rows_cells_start_at_its_first_line(printed):
    """Beside a wrapped message (several lines), a row's other cells are printed at its first line, as the message
    starts, not at its last (the default bottom alignment put them level with the next row's message)."""
    wb = load_workbook(printed["docs"]["2023-09"]["book"])
    ws = wb["Sai lệch cần phản hồi"]
    tall = [row for row in ws.iter_rows(min_row=2) if (ws.row_dimensions[row[0].row].height or 0) > 15]
    assert tall, "no wrapped row on the discrepancies sheet"
    assert {cell.alignment.vertical for row in tall for cell in row} == {"top"}


def test_chart_sheet_prints_each_chart_whole(printed):
    wb = load_workbook(printed["docs"]["2023-09"]["book"])
    ws = wb["Biểu đồ"]
    assert ws.page_setup.orientation == "landscape" and ws.print_area
    breaks = [b.id for b in ws.row_breaks.brk]
    for chart in ws._charts:
        top = chart.anchor._from.row
        bottom = top + int(chart.height / 0.5)            # rows of 0,5 cm (openpyxl's default row height)
        assert not [b for b in breaks if top < b < bottom], (top, bottom, breaks)
