"""The Word report, its charts, the workbook's report-shaped sheets, and reports of longer periods (issue 11),
from the four sample months (2023-08, 2023-09 by district; 2025-06 by district, 2025-07 by commune)."""
from __future__ import annotations

import re
import shutil

import duckdb
import pytest
from conftest import ALL_SAMPLE_MONTHS, landing_env
from docx import Document
from openpyxl import load_workbook

from p06 import periods, report_periods, vntext, warehouse
from p06.documents import report, report_word
from p06.publish import vintages
from pipelines import cli

MONTHS = ALL_SAMPLE_MONTHS
PERIODS = ("2023-Q3", "2023", "2025-Q2", "2025-Q3", "2025")
HEADLINE = report.load_templates()["headline"]


@pytest.fixture(scope="module")
def built(documents_of_the_samples) -> dict:
    """A warehouse with the four sample months published, each month's Markdown draft, Word report and
    workbook, and the reports of the quarters and years around them (conftest.py, shared with the printed tests)."""
    assert set(PERIODS) <= set(documents_of_the_samples["docs"])
    return documents_of_the_samples


def _query(db, sql: str, params=()) -> list[dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cursor = con.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r)) for r in cursor.fetchall()]
    finally:
        con.close()


def _docx(built, label: str) -> Document:
    return Document(str(built["wh"] / "exports" / label / f"bao_cao_DA06_{label}.docx"))


def _md(built, label: str) -> str:
    return (built["wh"] / "exports" / label / f"bao_cao_DA06_{label}.md").read_text(encoding="utf-8")


def _docx_text(doc: Document) -> str:
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def _table_after(doc: Document, header: str):
    """The first table whose header row starts with `header`."""
    return next(t for t in doc.tables if t.rows[0].cells[0].text == header)


def _shown(value, decimals: int, percent: bool) -> str:
    return vntext.format_number(value, decimals) + ("%" if percent else "")


# ------------------------------------------------------------------ layout (Decree 30/2020/NĐ-CP)

@pytest.mark.parametrize("label", ["2023-09", "2025-Q3"])
def test_word_report_has_the_administrative_layout(built, label):
    doc = _docx(built, label)
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)          # A4
    assert 20 <= round(section.top_margin.mm) <= 25 and 20 <= round(section.bottom_margin.mm) <= 25
    assert 30 <= round(section.left_margin.mm) <= 35 and 15 <= round(section.right_margin.mm) <= 20
    normal = doc.styles["Normal"].font
    assert normal.name == "Times New Roman" and 13 <= normal.size.pt <= 14
    head = doc.tables[0]
    assert len(head.columns) == 2
    assert "w:val=\"nil\"" in head._tbl.tblPr.xml                          # borderless
    left, right = (c.text for c in head.rows[0].cells)
    assert left.split("\n")[:3] == ["UBND TỈNH THANH HÓA", "TỔ CÔNG TÁC TRIỂN KHAI", "ĐỀ ÁN 06"]     # report.yaml
    assert re.search(r"^Số:\s+/BC-", left.split("\n")[-1])
    assert right.split("\n")[:2] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    assert re.fullmatch(r"Thanh Hóa, ngày\s+tháng\s+năm\s*", right.split("\n")[-1])          # for the signer to date
    texts = [p.text for p in doc.paragraphs if p.text.strip()]
    assert texts[0] == "BÁO CÁO"
    name, _ = report.period_text(report_periods.parse(label), report.load_templates())
    assert texts[1] == f"Kết quả thực hiện Đề án 06 trên địa bàn tỉnh Thanh Hóa {name}"       # one title line
    assert texts[2].startswith("Thực hiện Quyết định số 06/QĐ-TTg ngày 06/01/2022 của Thủ tướng Chính phủ")
    sections = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert [s.split(".")[0] for s in sections] == ["I", "II", "III", "IV", "V"]             # as the seed numbers them
    subsections = [p.text for p in doc.paragraphs if p.style.name == "Heading 2"]
    assert [g.split(".")[0] for g in subsections] == ["1", "2", "3", "4", "5", "6", "7", "8", "1", "2"]
    assert [p.text.split(" ")[0] for p in doc.paragraphs if p.style.name == "Heading 3"] == ["4.1.", "4.2.", "4.3.", "6.1.", "6.2."]


# ------------------------------------------------------------------ figures against the warehouse

def test_word_sentences_hold_the_months_province_figures(built):
    doc = _docx(built, "2023-09")
    text = _docx_text(doc)
    md = _md(built, "2023-09")
    rows = {r["indicator_code"]: r for r in _query(built["db"], "SELECT * FROM marts.indicator_monthly WHERE period = "
                                                   "'2023-09' AND unit_level = 'province'")}
    bhxh = rows["BHXH_VERIFIED_SHARE"]
    figure = (f"{vntext.format_number(bhxh['numerator'])}/{vntext.format_number(bhxh['denominator'])} hồ sơ cá nhân "
              f"người tham gia BHXH, BHYT, đạt tỷ lệ {vntext.format_number(bhxh['value'], 2)}%")
    assert figure in text and figure in md
    assert figure == "3.079.271/3.200.783 hồ sơ cá nhân người tham gia BHXH, BHYT, đạt tỷ lệ 96,20%"
    for code in ("CCCD_CHIP_APPLICATIONS", "WELFARE_PAID_CASHLESS", "VAX_DOSES"):
        assert vntext.format_number(rows[code]["value"]) in text
    # the group sentences are the Markdown draft's, paragraph by paragraph
    for line in [p.text for p in doc.paragraphs if p.text.startswith(("Tính đến ngày", "Việc chuẩn hóa"))]:
        assert line in md


def test_word_comparison_table_against_the_warehouse(built):
    doc = _docx(built, "2023-09")
    table = _table_after(doc, "Chỉ tiêu")
    got = {r.cells[0].text: [c.text for c in r.cells] for r in table.rows[1:]}
    rows = _query(built["db"], "SELECT * FROM marts.indicator_monthly WHERE period = '2023-09' AND unit_level = 'province'")
    assert len(got) == len(rows)
    for row in rows:
        percent = row["unit_vi"] == "%"
        line = got[row["indicator_name_vi"]]
        assert line[2] == _shown(row["value"], row["decimals"], percent)
        assert line[3] == (_shown(row["previous_value"], row["decimals"], percent) if row["previous_value"] is not None else "")
    # no September 2022 in the warehouse: the column "Cùng kỳ năm trước" is left out rather than empty
    assert [c.text for c in table.rows[0].cells] == ["Chỉ tiêu", "Đơn vị tính", "tháng 9/2023", "tháng 8/2023",
                                                     "Tăng/giảm", "Ghi chú"]


def test_word_unit_tables_against_the_warehouse(built):
    """Phụ lục V: a table per unit level, a column per headline indicator, the province's row first."""
    doc = _docx(built, "2025-07")
    tables = [t for t in doc.tables if t.rows[0].cells[0].text == "STT" and t.rows[0].cells[1].text == "Đơn vị"]
    names = {c: report.load().indicators[c].name_vi for c in HEADLINE}
    headers = [h for t in tables for h in [c.text for c in t.rows[0].cells][2:]]
    assert sorted(h.rsplit(" (", 1)[0] for h in headers) == sorted(names.values())      # each indicator once
    code = "BHXH_VERIFIED_SHARE"
    table = next(t for t in tables if any(c.text.startswith(names[code]) for c in t.rows[0].cells))
    col = next(i for i, c in enumerate(table.rows[0].cells) if c.text.startswith(names[code]))
    units = _query(built["db"], "SELECT * FROM marts.indicator_monthly WHERE period = '2025-07' AND indicator_code = ? "
                   "AND unit_level = 'commune' ORDER BY unit_code", [code])
    province = _query(built["db"], "SELECT * FROM marts.indicator_monthly WHERE period = '2025-07' AND indicator_code = ? "
                      "AND unit_level = 'province'", [code])[0]
    body = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert len(body) == 1 + len(units) == 167
    assert [body[0][1], body[0][col]] == ["Tỉnh Thanh Hóa", "98,55%"]        # 3.273.418/3.321.702, samples README
    for line, unit in zip(body[1:], units):
        assert [line[1], line[col]] == [unit["unit_name"], _shown(unit["value"], 2, True)]
        assert table.rows[1].cells[col].paragraphs[0].alignment == 2          # numbers right
    assert province["numerator"] == sum(u["numerator"] for u in units)


# CT_TblPr's sequence in the WordprocessingML schema (ECMA-376 part 1, 17.4.60): Word refuses out-of-order children
TBLPR_ORDER = ("tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize", "tblW",
               "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook",
               "tblCaption", "tblDescription")


@pytest.mark.parametrize("label, districts", [("2023-09", True), ("2025-Q2", True), ("2025-07", False), ("2025", False)])
def test_recipients_are_those_of_the_reports_last_month(built, label, districts):
    """catalog/provinces/38/report.yaml: the districts' committees receive reports up to June 2025, the communes' after."""
    text = _docx_text(_docx(built, label))
    assert ("UBND các huyện, thị xã, thành phố;" in text) == districts
    assert ("UBND các xã, phường;" in text) != districts
    assert "Thành viên Tổ công tác Đề án 06 tỉnh;" in text                  # a line of every month


@pytest.mark.parametrize("label", ["2023-09", "2025-07", "2023-Q3"])
def test_word_table_properties_in_the_schemas_order(built, label):
    doc = _docx(built, label)
    properties = [el for el in doc.element.body.iter() if el.tag.endswith("}tblPr")]
    assert len(properties) >= 3
    for tbl_pr in properties:
        names = [child.tag.rsplit("}", 1)[1] for child in tbl_pr]
        assert names == sorted(names, key=TBLPR_ORDER.index), names

def test_word_appendix_tables_against_the_warehouse(built):
    doc = _docx(built, "2023-09")
    tables = [t for t in doc.tables if t.rows[0].cells[1].text == "Dịch vụ công trực tuyến"]
    services = _query(built["db"], "SELECT * FROM marts.public_services_monthly WHERE period = '2023-09'")
    assert len(tables) == 2
    for table, numeral in zip(tables, ("II", "III")):
        listed = [s for s in services if s["appendix"] == numeral]
        rows = [[c.text for c in r.cells] for r in table.rows[2:]]             # under the two header rows
        body = [r for r in rows if r[0].isdigit()]
        departments = [r[0] for r in rows if not r[0].isdigit()]                # a department's row over its services
        assert len(body) == len(listed)
        assert departments == ([] if numeral == "II" else list(dict.fromkeys(s["group_label"] for s in sorted(
            listed, key=lambda s: s["service_code"]))))
        by_name = {s["service_name"]: s for s in listed}
        for line in body:
            service = by_name[line[1]]
            total = service["dossiers_total"]
            assert line[3] == (vntext.format_number(total) if total is not None else "")
            assert line[8] == " ".join((service["difficulties"] or "").split())      # "Khó khăn, vướng mắc"


def test_findings_in_words_in_the_word_report_and_in_detail_in_the_draft(built):
    doc = _docx(built, "2025-07")
    text = _docx_text(doc)
    findings = _query(built["db"], "SELECT * FROM marts.reconciliation_findings WHERE period = '2025-07' "
                      "AND severity IN ('error', 'warning')")
    assert len(findings) == 1
    assert ("Số liệu tháng 7/2025 của Sở Lao động - Thương binh và Xã hội có 1 nội dung sai lệch khi đối chiếu, "
            "đã đề nghị đơn vị kiểm tra, xác minh và gửi lại.") in text
    assert findings[0]["message_vi"] not in text and "an_sinh" not in text     # no file, cell or key in the pages
    md = _md(built, "2025-07").split("Sai lệch số liệu cần đơn vị xác minh")[1]
    heading = md.index("Sở Lao động - Thương binh và Xã hội** (nguồn an_sinh):")
    assert md.index(f"- [Lỗi] {findings[0]['message_vi']}") > heading


# ------------------------------------------------------------------ charts

def test_word_report_holds_a_trend_chart_and_a_ranking_chart_per_headline_indicator(built):
    doc = _docx(built, "2025-07")
    assert len(doc.inline_shapes) == 1 + len(HEADLINE)          # the headline indicators are all percentages
    charts = built["wh"] / "exports" / "2025-07" / "charts"
    assert sorted(p.name for p in charts.iterdir()) == sorted(["trend_1.png", *(f"{c}_ranked.png" for c in HEADLINE)])
    texts = [p.text for p in doc.paragraphs]
    names = [report.load().indicators[c].name_vi for c in HEADLINE]
    base = f"Tỷ lệ toàn tỉnh qua các tháng: {'; '.join(names)}"
    trend = next(t for t in texts if t.startswith(base))
    # an axis that does not start at zero says where it starts
    assert re.fullmatch(re.escape(base) + r"( \(trục giá trị bắt đầu từ [\d.]+\))?", trend), trend
    # the units below the province's rate when they are at most a fifth of them, else the lowest fifth (34 of 166)
    for label, total in (("2025-07", 166), ("2023-09", 27)):
        units = [r["value"] for r in _query(built["db"], "SELECT value FROM marts.indicator_monthly WHERE period = ? AND "
                 "indicator_code = 'BHXH_VERIFIED_SHARE' AND unit_level NOT IN ('province', 'service') AND value IS NOT NULL",
                 [label])]
        (province,), = [(r["value"],) for r in _query(built["db"], "SELECT value FROM marts.indicator_monthly WHERE "
                        "period = ? AND indicator_code = 'BHXH_VERIFIED_SHARE' AND unit_level = 'province'", [label])]
        below, fifth = sum(1 for v in units if v < province), -(-total // 5)
        name = "Tỷ lệ người tham gia BHXH, BHYT đã xác thực với CSDLQG về dân cư"
        month = "tháng 7/2025" if label == "2025-07" else "tháng 9/2023"
        expected = (f"{name}: {below}/{total} đơn vị thấp hơn tỷ lệ toàn tỉnh ({_shown(province, 2, True)}), {month}"
                    if 0 < below <= fifth else f"{name}: {fifth} đơn vị thấp nhất (1/5 số đơn vị) trên {total}, {month}")
        assert len(units) == total
        assert expected in [p.text for p in _docx(built, label).paragraphs]


def test_workbook_charts_rank_units_lowest_first(built):
    wb = load_workbook(built["wh"] / "exports" / "2025-07" / "DA06_2025-07.xlsx")
    ws = wb["Biểu đồ"]
    assert len(ws._charts) == 2 * len(HEADLINE)
    cells = [(r[0], r[1]) for r in ws.iter_rows(min_col=1, max_col=2, values_only=True)]
    heading = cells.index(("Tỷ lệ người tham gia BHXH, BHYT đã xác thực với CSDLQG về dân cư", None))
    start = cells.index(("Đơn vị (thấp nhất trước)", "%"), heading)
    lowest = _query(built["db"], "SELECT unit_name, value FROM marts.indicator_monthly WHERE period = '2025-07' AND "
                    "indicator_code = 'BHXH_VERIFIED_SHARE' AND unit_level = 'commune' ORDER BY value, unit_name")
    shown = next(i for i, c in enumerate(cells[start + 1:], start=start + 1) if c[0] is None) - start - 1
    assert 0 < shown <= 34                                    # at most the lowest fifth of 166, not a fixed 20
    assert cells[start + 1:start + 1 + shown] == [(r["unit_name"], r["value"]) for r in lowest[:shown]]
    trend = cells[heading + 1:heading + 4]         # the 12 months up to July 2025 (chart_trend_months): June, July
    assert trend[0] == ("Tháng", "%") and [t[0] for t in trend[1:]] == ["6/2025", "7/2025"]
    assert cells[heading + 4][0] != "8/2023"
    assert [t[1] for t in trend[1:]] == [r["value"] for r in _query(
        built["db"], "SELECT value FROM marts.indicator_monthly WHERE indicator_code = 'BHXH_VERIFIED_SHARE' "
        "AND unit_level = 'province' AND period BETWEEN '2024-08' AND '2025-07' ORDER BY period")]


# ------------------------------------------------------------------ the workbook in the report's shape

def test_group_sheet_in_the_reports_shape(built):
    wb = load_workbook(built["wh"] / "exports" / "2023-09" / "DA06_2023-09.xlsx")
    ws = wb["Bảng nhóm 4 - Cấp huyện"]
    assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4 == "9"
    assert ws.print_title_rows == "$2:$3" and ws.print_title_cols == "$A:$B" and ws.page_setup.scale >= 82
    names = [c.value for c in ws[2]]
    col = names.index("Tỷ lệ trẻ em đã cập nhật, chuẩn hóa dữ liệu") + 1
    assert [ws.cell(row=3, column=col + i).value for i in range(3)] == ["Tử số", "Mẫu số", "Tỷ lệ (%)"]
    rows = {r[1]: r for r in ws.iter_rows(min_row=4, values_only=True)}
    units = _query(built["db"], "SELECT * FROM marts.indicator_monthly WHERE period = '2023-09' AND "
                   "indicator_code = 'CHILDREN_UPDATED_SHARE' AND unit_level IN ('province', 'district')")
    assert len(rows) == len(units) == 28
    for unit in units:
        line = rows[unit["unit_name"]]
        assert line[col - 1:col + 2] == (unit["numerator"], unit["denominator"], unit["value"])
    assert list(rows)[0] == "Tỉnh Thanh Hóa"


def test_quarter_workbook_holds_the_periods_figures_and_charts(built):
    wb = load_workbook(built["wh"] / "exports" / "2023-Q3" / "DA06_2023-Q3.xlsx")
    assert len(wb["Biểu đồ"]._charts) == 2 * len(HEADLINE)
    ws = wb["Bảng nhóm 3"]
    assert ws["A1"].value.endswith("(Cấp huyện, quý III/2023)")
    col = [c.value for c in ws[2]].index("Tài khoản định danh điện tử đã kích hoạt so với chỉ tiêu giao") + 1
    assert [ws.cell(row=3, column=col + i).value for i in range(3)] == ["Tử số", "Chỉ tiêu giao", "Tỷ lệ (%)"]
    rows = {r[1]: r[col - 1:col + 2] for r in ws.iter_rows(min_row=4, values_only=True)}
    expected = _query(built["db"], "SELECT unit_name, numerator, denominator, value FROM marts.indicator_period WHERE "
                      "period = '2023-Q3' AND indicator_code = 'EID_ACTIVATED_VS_TARGET'")
    assert rows == {r["unit_name"]: (r["numerator"], r["denominator"], pytest.approx(r["value"], rel=1e-12))
                    for r in expected}


# ------------------------------------------------------------------ longer periods

def _period_rows(db, label: str, code: str, level: str = "province") -> list[dict]:
    return _query(db, "SELECT * FROM marts.indicator_period WHERE period = ? AND indicator_code = ? AND unit_level = ? "
                  "ORDER BY unit_code", [label, code, level])


def _monthly(db, period: str, code: str, level: str = "province") -> dict[str, dict]:
    return {r["unit_code"]: r for r in _query(db, "SELECT * FROM marts.indicator_monthly WHERE period = ? AND "
                                              "indicator_code = ? AND unit_level = ?", [period, code, level])}


def test_quarter_takes_a_stocks_last_month_and_is_partial(built):
    (row,) = _period_rows(built["db"], "2023-Q3", "BHXH_VERIFIED_SHARE")
    september = _monthly(built["db"], "2023-09", "BHXH_VERIFIED_SHARE")["38"]
    assert row["time_aggregation"] == "last"
    assert (row["numerator"], row["denominator"], row["value"]) == (september["numerator"], september["denominator"],
                                                                    september["value"])
    assert (row["months_expected"], row["months_present"], row["missing_months"], row["month_used"]) == \
        (3, 2, "2023-07", "2023-09")
    assert row["quality"] == "partial"


def test_quarter_sums_a_flow_and_recomputes_its_ratio(built):
    rows = _period_rows(built["db"], "2023-Q3", "DVC_ONLINE_SHARE", "service")
    august = _monthly(built["db"], "2023-08", "DVC_ONLINE_SHARE", "service")
    september = _monthly(built["db"], "2023-09", "DVC_ONLINE_SHARE", "service")
    checked = 0
    for row in rows:
        a, s = august.get(row["unit_code"]), september.get(row["unit_code"])
        if not (a and s and a["denominator"] and s["denominator"]):
            continue
        assert row["time_aggregation"] == "sum"
        assert row["numerator"] == a["numerator"] + s["numerator"]
        assert row["denominator"] == a["denominator"] + s["denominator"]
        assert row["value"] == pytest.approx(row["numerator"] / row["denominator"] * 100)
        checked += 1
    assert checked >= 20
    # a ratio of sums, not a mean of the months' ratios (PL2-02: 3.500/10.322 and 3.846/11.343)
    pl2 = next(r for r in rows if r["unit_code"] == "PL2-02")
    mean = (august["PL2-02"]["value"] + september["PL2-02"]["value"]) / 2
    assert pl2["value"] == pytest.approx(7346 / 21665 * 100) and pl2["value"] != pytest.approx(mean)


def test_half_year_and_year_of_2025(built):
    db = built["db"]
    (h1,) = _period_rows(db, "2025-H1", "EID_ACTIVATED_VS_TARGET")
    (year,) = _period_rows(db, "2025", "EID_ACTIVATED_VS_TARGET")
    june, july = (_monthly(db, p, "EID_ACTIVATED_VS_TARGET")["38"] for p in ("2025-06", "2025-07"))
    assert (h1["numerator"], h1["month_used"], h1["months_present"]) == (june["numerator"], "2025-06", 1)
    assert (year["numerator"], year["month_used"], year["months_present"], year["months_expected"]) == \
        (july["numerator"], "2025-07", 2, 12)
    # a district ends with the reform: its figure for the year is its last month's, June's, marked partial
    (district,) = [r for r in _period_rows(db, "2025", "EID_ACTIVATED_VS_TARGET", "district") if r["unit_code"] == "380"]
    assert district["month_used"] == "2025-06" and district["quality"] == "partial"
    assert district["numerator"] == _monthly(db, "2025-06", "EID_ACTIVATED_VS_TARGET", "district")["380"]["numerator"]


def test_quarter_report_names_missing_months_and_compares_with_the_previous_quarter(built):
    md, doc = _md(built, "2023-Q3"), _docx(built, "2023-Q3")
    note = "Chưa có số liệu các tháng: 7/2023; số liệu của kỳ chưa đầy đủ"
    assert note in md and note in _docx_text(doc)
    assert "Số liệu của kỳ tổng hợp từ các tháng: 8/2023, 9/2023." in md
    # 2025-Q3 (July) against 2025-Q2 (June): the change is July's figure less June's
    q3 = _docx(built, "2025-Q3")
    table = _table_after(q3, "Chỉ tiêu")
    line = next([c.text for c in r.cells] for r in table.rows if r.cells[0].text.startswith("Tỷ lệ người tham gia BHXH"))
    assert line[2:5] == ["98,55%", "98,48%", "+0,07 điểm %"]     # 3.273.418/3.321.702 and 3.268.032/3.318.455
    text = _md(built, "2025-Q3")
    assert "đạt tỷ lệ 98,55% (tăng 0,07 điểm % so với quý II/2025)" in text


def test_year_earlier_column_when_the_warehouse_has_it(built, tmp_path):
    """A month a year after a sample month compares with it: September 2024 (a copy of September 2023's rows)."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(built["db"], db)
    with warehouse.connect(db) as con:
        con.execute("INSERT INTO marts.indicator_monthly SELECT * REPLACE ('2024-09' AS period, value * 1.5 AS value) "
                    "FROM marts.indicator_monthly WHERE period = '2023-09'")
        path = report_word.write_word(con, "2024-09", tmp_path / "bao_cao.docx")
    table = _table_after(Document(str(path)), "Chỉ tiêu")
    line = next([c.text for c in r.cells] for r in table.rows if r.cells[0].text == "Hồ sơ CCCD gắn chip đã thu nhận")
    assert line[2] == "5.132.019" and line[5] == "3.421.346"           # 3.421.346 × 1,5; September 2023


def test_p06_report_command(built, capsys):
    with landing_env(built["raw"], built["wh"]):
        assert cli.main(["report", "--period", "2023-9M"]) == 0
        out = capsys.readouterr().out
        assert cli.main(["report", "--period", "2024-Q1"]) == 1
        assert cli.main(["report", "--period", "2023-Q5"]) == 2
    folder = built["wh"] / "exports" / "2023-9M"
    assert f"2023-9M: {folder / 'bao_cao_DA06_2023-9M.docx'}" in out
    assert f"2023-9M: {folder / 'DA06_2023-9M.xlsx'}" in out and (folder / "DA06_2023-9M.xlsx").is_file()
    assert "partial, months without figures: 2023-01, 2023-02, 2023-03, 2023-04, 2023-05, 2023-06, 2023-07" in out
    assert Document(str(folder / "bao_cao_DA06_2023-9M.docx")).paragraphs
    assert _period_rows(built["db"], "2023-9M", "BHXH_VERIFIED_SHARE")[0]["month_used"] == "2023-09"


def test_issuer_of_a_province_without_report_yaml():
    from p06.documents.report_config import issuer
    default = issuer("40")
    assert (default.agency_parent, default.agency_lines, default.place) == ("", ["ỦY BAN NHÂN DÂN", "TỈNH NGHỆ AN"], "Nghệ An")
    assert default.issuer_name == "Ủy ban nhân dân tỉnh Nghệ An"
    assert issuer("38").agency_lines == ["TỔ CÔNG TÁC TRIỂN KHAI", "ĐỀ ÁN 06"]        # catalog/provinces/38/report.yaml
    city = issuer("48")                    # a centrally-run city: its place is 'Đà Nẵng', not 'phố Đà Nẵng'
    assert (city.agency_lines, city.place) == (["ỦY BAN NHÂN DÂN", "THÀNH PHỐ ĐÀ NẴNG"], "Đà Nẵng")


def test_period_labels():
    assert [report_periods.parse(x).months[::len(report_periods.parse(x).months) - 1 or 1]
            for x in ("2023-Q3", "2023-H2", "2023-9M", "2023")] == [
        ["2023-07", "2023-09"], ["2023-07", "2023-12"], ["2023-01", "2023-09"], ["2023-01", "2023-12"]]
    assert [report_periods.parse(x).previous().label for x in ("2023-Q1", "2023-H1", "2023-9M", "2023", "2023-01")] == \
        ["2022-Q4", "2022-H2", "2022-9M", "2022", "2022-12"]
    assert [p.label for p in report_periods.containing("2023-10")] == ["2023-Q4", "2023-H2", "2023"]
    with pytest.raises(report_periods.PeriodLabelError):
        report_periods.parse("2023-13")


# ------------------------------------------------------------------ no sample in the templates

DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
MONTH = re.compile(r"\b(?:tháng|T)\s?(\d{1,2})[/.](\d{4})\b")


def foreign_dates(text: str, period: str) -> list[str]:
    """Dates and months in the text that belong to another sample month than the period and the one it compares
    with, or that fall after the period's end."""
    allowed = {period, periods.previous_period(period)}
    end = periods.period_end(period)
    found = []
    for m in DATE.finditer(text):
        day, month, year = (int(g) for g in m.groups())
        key = f"{year:04d}-{month:02d}"
        if (key in MONTHS and key not in allowed) or (year, month, day) > (end.year, end.month, end.day):
            found.append(m.group(0))
    for m in MONTH.finditer(text):
        month, year = (int(g) for g in m.groups())
        key = f"{year:04d}-{month:02d}"
        if (key in MONTHS and key not in allowed) or key > period:
            found.append(m.group(0))
    return found


@pytest.mark.parametrize("period", MONTHS)
def test_no_date_of_another_period_in_a_months_report(built, period):
    with warehouse.connect(built["db"], read_only=True) as con:
        stated = vintages.plain_line(con, period)      # the publication's own date and time (issue 10): data
    md, word = _md(built, period), _docx_text(_docx(built, period))
    assert stated and stated in md and stated not in word          # the run's date: internal, not in the pages
    assert foreign_dates(md.replace(stated, ""), period) == []
    assert foreign_dates(word.replace(stated, ""), period) == []


def test_the_date_check_finds_a_baked_sample_date(built):
    """The template of before issue 11 said 'Từ ngày 01/9/2023' in every month's draft."""
    templates = dict(report.load_templates())
    blocks = dict(templates["data_blocks"])
    blocks["an_sinh"] = [*blocks["an_sinh"], {"text": "Từ ngày 01/9/2023, đã thực hiện chi trả cho {{ WELFARE_PAID_CASHLESS.value }} người."}]
    templates["data_blocks"] = blocks
    with warehouse.connect(built["db"], read_only=True) as con:
        for period in ("2023-08", "2025-07"):
            assert foreign_dates(report.Draft(con, period, templates).markdown(), period) == ["01/9/2023"]
        assert foreign_dates(report.Draft(con, "2023-09", templates).markdown(), "2023-09") == []


def test_a_corrected_earlier_month_rewrites_the_latest_months_files_only(built, tmp_path):
    """The latest month's charts and dashboard show the months before it: a correction of one of them changes
    what its files are written from, though its own published rows are the same. An earlier month keeps the
    files it was published (and signed) with: only its own rows and narrative decide."""
    from p06.documents import exports
    from p06.publish import state
    db = tmp_path / "p06.duckdb"
    shutil.copyfile(built["db"], db)
    with warehouse.connect(db) as con:
        latest = exports.latest_month(con)
        assert latest == "2025-07"
        digests = lambda: (state.content_sha(con, "2023-09"), exports._export_digest(con, "2023-09", latest=False),  # noqa: E731
                           state.content_sha(con, latest), exports._export_digest(con, latest, latest=True))
        before = digests()
        for month in ("2023-08", "2025-06"):
            con.execute("UPDATE marts.indicator_monthly SET value = value + 1 WHERE period = ? "
                        "AND unit_level = 'province' AND indicator_code = 'BHXH_VERIFIED_SHARE'", [month])
        after = digests()
    assert after[0] == before[0] and after[2] == before[2]     # neither month's own rows changed
    assert after[1] == before[1]                  # September 2023 keeps its files
    assert after[3] != before[3]                  # July 2025's trend shows June: written again
    assert exports._own(after[3]) == exports._own(before[3])


# ------------------------------------------------------------------ the writer's blocks (narrative files)

def test_writers_text_carried_over_marked_for_review_else_a_placeholder(built, tmp_path, monkeypatch):
    """A block the month's narrative file lacks takes the previous month's text, marked for review; a block
    neither has is the placeholder; the month's own text is placed as written."""
    monkeypatch.setenv("P06_NARRATIVE_DIR", str(tmp_path))
    (tmp_path / "2025-06.yaml").write_text(
        "tuyen_truyen: |-\n  Tuyên truyền tháng 6.\n\n  Đoạn thứ hai.\nkien_nghi: Kiến nghị tháng 6.\n"
        "phu_luc_1:\n  - title: Nhiệm vụ chung\n    rows:\n      - {nhiem_vu: Nhiệm vụ A, ket_qua: Đã xong}\n",
        encoding="utf-8")
    (tmp_path / "2025-07.yaml").write_text("kien_nghi: Kiến nghị tháng 7.\n", encoding="utf-8")
    with warehouse.connect(built["db"], read_only=True) as con:
        context = report.Draft(con, "2025-07").context()
    sections = {s["heading"]: s["paragraphs"] for s in context["sections"]}
    assert sections["1. Công tác tuyên truyền thực hiện Đề án"] == [
        {"text": "[cần rà soát, nội dung tháng 6/2025] Tuyên truyền tháng 6.", "kind": "review"},
        {"text": "Đoạn thứ hai.", "kind": "review"}]
    assert sections["V. KIẾN NGHỊ, ĐỀ XUẤT"] == [{"text": "Kiến nghị tháng 7.", "kind": "writer"}]
    assert sections["2. Về hoàn thiện thể chế"][0]["kind"] == "placeholder"
    assert sections["2. Về hoàn thiện thể chế"][0]["text"].startswith("[Nội dung do Tổ công tác bổ sung:")
    assert context["tasks"][0]["rows"][0]["nhiem_vu"] == "Nhiệm vụ A" and context["tasks_review"]
    (tmp_path / "2025-07.yaml").write_text("kien_ngh: typo\n", encoding="utf-8")
    with warehouse.connect(built["db"], read_only=True) as con, pytest.raises(ValueError, match="unknown block"):
        report.Draft(con, "2025-07").context()


# ------------------------------------------------------------------ the command line in Vietnamese first

def test_run_summary_and_findings_speak_vietnamese_by_default(built, monkeypatch, capsys):
    from datetime import datetime
    findings = _query(built["db"], "SELECT * FROM marts.reconciliation_findings WHERE period = '2025-07' "
                      "AND severity = 'error'")
    monkeypatch.delenv("P06_LANG", raising=False)
    with warehouse.connect(built["db"], read_only=True) as con:
        cli._summary_lines(con, ["2025-07"], datetime.now(), [])
        vi = capsys.readouterr().out
        monkeypatch.setenv("P06_LANG", "en")
        cli._summary_lines(con, ["2025-07"], datetime.now(), [])
        en = capsys.readouterr().out
    assert f"sai lệch: {len(findings)} lỗi," in vi and f"findings: {len(findings)} error(s)," in en
    assert findings[0]["message_vi"] in vi and findings[0]["message_en"] in en
    assert "Sở Lao động - Thương binh và Xã hội" in vi and "không đổi" in vi and "unchanged" in en
    monkeypatch.delenv("P06_LANG", raising=False)
    with landing_env(built["raw"], built["wh"]):
        from p06.publish import snapshot
        snapshot.publish_copy(built["db"], built["wh"] / "p06_published.duckdb")
        assert cli.main(["findings", "--period", "2025-07"]) == 0
    out = capsys.readouterr().out
    open_ = _query(built["db"], "SELECT * FROM marts.findings_register WHERE period = '2025-07' AND status = 'open'")
    assert out.startswith(f"{len(open_)} sai lệch chưa xử lý của tháng 2025-07")
    assert "xác nhận số liệu đúng: p06 findings accept MÃ" in out


# ------------------------------------------------------------------ corrections stated in the report

def test_corrections_stated_old_to_new_in_the_report(built, tmp_path):
    """A re-publication that changes figures (marts.errata): the report states each corrected province figure,
    old → new with the change and the date; the internal draft adds the file."""
    from datetime import datetime
    db = tmp_path / "w.duckdb"
    shutil.copyfile(built["db"], db)
    with warehouse.connect(db) as con:
        if not vintages.current(con, "2025-07"):
            vintages.record(con, ["2025-07"], datetime(2026, 1, 5, 9, 0))
        con.execute("UPDATE marts.indicator_monthly SET numerator = numerator + 43, value = (numerator + 43) / "
                    "denominator * 100 WHERE period = '2025-07' AND indicator_code = 'BHXH_VERIFIED_SHARE' "
                    "AND unit_level = 'province'")
        vintages.record(con, ["2025-07"], datetime(2026, 1, 20, 9, 0))
        errata = [r for r in vintages.errata_rows(con, "2025-07", vintages.current(con, "2025-07")["vintage"])
                  if r["unit_level"] == "province" and r.get("figure", "value") == "value"]
        context = report.Draft(con, "2025-07").context()
        md = report.Draft(con, "2025-07").markdown()
    (row,) = errata
    old, new = (vntext.format_number(row[k], 2) + "%" for k in ("old_value", "new_value"))
    change = vntext.format_number(row["new_value"] - row["old_value"], 2)
    assert context["corrections_intro"] == "Đính chính số liệu đã báo cáo:"
    (line,) = [c["text"] for c in context["corrections"]]
    province = _query(built["db"], "SELECT numerator FROM marts.indicator_monthly WHERE period = '2025-07' AND "
                      "indicator_code = 'BHXH_VERIFIED_SHARE' AND unit_level = 'province'")[0]["numerator"]
    counts = f", tử số {vntext.format_number(province)} → {vntext.format_number(province + 43)} (+43)"
    shown_change = "" if change == "0,00" else f" (+{change} điểm %)"      # 43 of 3,3 million: 0,0013 points
    assert line.startswith(f"- {row['indicator_name_vi']} tháng 7/2025: {old} → {new}{shown_change}{counts}; ")
    assert line.endswith("công bố ngày 20/1/2026.")
    assert line in md
