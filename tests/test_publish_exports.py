"""Outputs for report writers and analysts, built from the real sample deliveries (Aug and Sep 2023)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook
from test_publish_marts import REPORT_SEPTEMBER

from p06 import config, warehouse
from p06.documents import exports, report
from p06.publish import indicator_catalog, publication_checks, quality, snapshot
from p06.publish.marts import publish_period
from p06.reconcile.store import reconcile_period

PERIOD = "2023-09"


def _publish(db: Path, periods=("2023-08", "2023-09")) -> None:
    with warehouse.connect(db) as con:
        for period in periods:
            reconcile_period(con, period)
            publish_period(con, period)


@pytest.fixture(scope="module")
def published(loaded_samples, tmp_path_factory) -> dict:
    """A warehouse folder with both sample months published, checked and exported (read-only use; the analysts'
    copy serves only checked months)."""
    root = tmp_path_factory.mktemp("published")
    db = root / "p06.duckdb"
    shutil.copyfile(loaded_samples["db"], db)
    _publish(db)
    with warehouse.connect(db) as con:
        exports.export_period(con, "2023-08", root)
        outputs = exports.export_period(con, PERIOD, root)
    return {"root": root, "db": db, "outputs": outputs}


def _province(db: Path, code: str, period: str = PERIOD) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cur = con.execute("SELECT * FROM marts.indicator_monthly WHERE period = ? AND unit_level = 'province' "
                          "AND indicator_code = ?", [period, code])
        names = [d[0] for d in cur.description]
        return dict(zip(names, cur.fetchone()))
    finally:
        con.close()


def _sheet_rows(ws) -> list[dict]:
    header = [c.value for c in ws[1]]
    return [dict(zip(header, row)) for row in ws.iter_rows(min_row=2, values_only=True)]


# ------------------------------------------------------------------ workbook

def test_export_period_writes_every_output(published):
    out = published["outputs"]
    month_dir = published["root"] / "exports" / PERIOD
    assert out["workbook"].parent == month_dir and out["workbook"].is_file()
    assert out["report"].parent == month_dir and out["report"].is_file()
    assert out["data_docs"] == published["root"] / "gx" / "data_docs" / "index.html" and out["data_docs"].is_file()
    assert {p.name for p in out["tables_dir"].iterdir()} >= {
        f"{t}.{ext}" for t in ("indicator_monthly", "public_services_monthly", "source_completeness")
        for ext in ("csv", "parquet")}
    assert out["expectations"].startswith("passed")


def test_workbook_headline_holds_september_province_figures(published):
    wb = load_workbook(published["outputs"]["workbook"])
    assert wb.sheetnames[:6] == ["Chỉ tiêu chính", "Theo đơn vị", "Phụ lục II", "Phụ lục III",
                                 "Sai lệch cần phản hồi", "Tình trạng nộp số liệu"]
    assert wb.sheetnames[6:] == ["Đính chính", "Bảng nhóm 2", "Bảng nhóm 3", "Bảng nhóm 4 - Cấp huyện", "Bảng nhóm 4 - Chi cục Thuế",
                                 "Biểu đồ"]        # the report's shape (tests/test_report_word.py)
    ws = wb["Chỉ tiêu chính"]
    assert ws.freeze_panes == "A2"
    rows = {r["Mã chỉ tiêu"]: r for r in _sheet_rows(ws)}
    bhxh = rows["BHXH_VERIFIED_SHARE"]
    assert (bhxh["Tử số"], bhxh["Mẫu số"]) == (3079271, 3200783)
    assert isinstance(bhxh["Tử số"], int) and isinstance(bhxh["Giá trị"], float)
    assert bhxh["Giá trị"] == pytest.approx(3079271 / 3200783 * 100)
    assert bhxh["Đơn vị tính"] == "%"
    published_row = _province(published["db"], "BHXH_VERIFIED_SHARE")
    assert bhxh["Tháng trước"] == pytest.approx(published_row["previous_value"])
    assert rows["EID_APPLICATIONS"]["Chỉ tiêu giao"] == 1620967
    for code, numerator, denominator, shown, decimals, _ in REPORT_SEPTEMBER:
        assert (rows[code]["Tử số"], rows[code]["Mẫu số"]) == (numerator, denominator), code
        assert abs(rows[code]["Giá trị"] - shown) <= 10 ** -decimals, code
    assert (rows["HI_LOOKUPS"]["Tăng/giảm so với tháng trước"], rows["HI_LOOKUPS"]["Đơn vị tính"]) == (269520, "lượt")
    assert rows["HI_ID_CARDS_SYNCED"]["Tăng/giảm so với tháng trước"] == 18103
    # numbers are cells of numbers with a grouping format, never text
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[header.index("Mã chỉ tiêu")].value == "BHXH_VERIFIED_SHARE")
    assert row[header.index("Tử số")].number_format == "#,##0"
    assert row[header.index("Giá trị")].number_format == "#,##0.00"
    share = next(r for r in ws.iter_rows(min_row=2) if r[header.index("Mã chỉ tiêu")].value == "HI_LOOKUPS_OK_SHARE")
    assert share[header.index("Giá trị")].number_format == "#,##0.0"      # 66,9 as the report shows it
    for r in ws.iter_rows(min_row=2, values_only=True):
        for name in ("Tử số", "Mẫu số", "Giá trị", "Tháng trước"):
            assert r[header.index(name)] is None or isinstance(r[header.index(name)], (int, float))


def test_workbook_district_and_appendix_sheets(published):
    wb = load_workbook(published["outputs"]["workbook"])
    districts = [r for r in _sheet_rows(wb["Theo đơn vị"]) if r["Mã chỉ tiêu"] == "BHXH_VERIFIED_SHARE"]
    assert len(districts) == 27
    assert sum(r["Tử số"] for r in districts) == 3079271
    tax = [r for r in _sheet_rows(wb["Theo đơn vị"]) if r["Mã chỉ tiêu"] == "TAX_IDS_MATCHED_SHARE"]
    assert len(tax) == 11 and sum(r["Tử số"] for r in tax) == 1721898

    appendix2 = {r["Mã dịch vụ"]: r for r in _sheet_rows(wb["Phụ lục II"])}
    assert len(appendix2) == 25
    assert (appendix2["PL2-08"]["Tổng hồ sơ"], appendix2["PL2-08"]["Trực tuyến"]) == (4152, 3248)
    assert appendix2["PL2-08"]["Tỷ lệ trực tuyến (%)"] == pytest.approx(3248 / 4152 * 100)   # computed, not the stated 78,25
    assert "Sở, ngành" not in appendix2["PL2-08"]          # appendix II is not grouped by department
    appendix3 = _sheet_rows(wb["Phụ lục III"])
    assert len(appendix3) == 10 and all(r["Mã dịch vụ"].startswith("PL3-") for r in appendix3)
    assert appendix3[0]["Sở, ngành"] == "Sở Lao động – Thương binh và Xã hội"

    completeness = _sheet_rows(wb["Tình trạng nộp số liệu"])
    assert len(completeness) == 9 and {r["Tình trạng"] for r in completeness} == {"Đã nhận"}


def test_workbook_discrepancies_show_stated_ratios_as_percentages(published):
    ws = load_workbook(published["outputs"]["workbook"])["Sai lệch cần phản hồi"]
    header = [c.value for c in ws[1]]
    rows = {(r[header.index("Mã đơn vị")].value, r[header.index("Mã quy tắc")].value): r for r in ws.iter_rows(min_row=2)}
    ratio = rows[("PL2-08", "stated_ratio")]              # the delivery states 78,25%; 3.248 / 4.152 = 78,23%
    stated, computed = ratio[header.index("Số báo cáo")], ratio[header.index("Số tính lại")]
    assert stated.value == pytest.approx(0.7825) and computed.value == pytest.approx(3248 / 4152)
    assert stated.number_format == computed.number_format == ratio[header.index("Chênh lệch")].number_format == "0.00%"
    count = rows[("38", "nguoi_co_cong.remaining")]       # stated 5.123, 65.546 - 60.468 = 5.078
    assert (count[header.index("Số báo cáo")].value, count[header.index("Số tính lại")].value) == (5123, 5078)
    assert count[header.index("Số báo cáo")].number_format == "#,##0"


# ------------------------------------------------------------------ report draft

# Sentences of the province's September 2023 report (section II), as the draft must write them. Where the
# draft differs from the printed report on purpose, the report's text is in the comment.
REPORT_SENTENCES = [
    "678/678 cơ sở y tế đã triển khai việc sử dụng thẻ CCCD gắn chip thay thế thẻ BHYT trong khám bệnh, chữa bệnh "
    "(tăng 1 cơ sở so với tháng 8/2023), đạt tỷ lệ 100%",              # "tăng 01 cơ sở so với kỳ báo cáo tháng trước"
    # the report writes "so với thời điểm tháng trước" and "(tăng 1,0% ...)": a comparison names its period, and a
    # rate's change is in percentage points (issue 17)
    "Hiện đã có 5.339.392 lượt tra cứu (tăng 269.520 lượt so với tháng 8/2023), trong đó lượt tra cứu "
    "thành công là 3.573.541 lượt (tăng 229.790 lượt), đạt tỷ lệ 66,9% (tăng 1,0 điểm % so với tháng 8/2023).",
    "Số lượng CCCD được đồng bộ với thẻ BHYT còn hiệu lực để đi khám chữa bệnh bằng CCCD là 3.037.420 (tăng 18.103 thẻ).",
    "261.308 người (trong đó: 194.479 người hưởng chính sách bảo trợ xã hội; 66.829 người hưởng chính sách người có công)",
    "Tổng số đối tượng đã có tài khoản/đăng ký chi trả qua tài khoản: 10.550 người (7.909 người là đối tượng hưởng "
    "chính sách bảo trợ xã hội; 2.641 người hưởng chính sách người có công).",
    # the report writes "Từ ngày 01/9/2023" (when payments started): a date the data does not hold (issue 11)
    "Tính đến ngày 15/9/2023, đã thực hiện chi trả không dùng tiền mặt cho 4.562 người hưởng chính sách ASXH (3.102 người "
    "là đối tượng hưởng chính sách bảo trợ xã hội; 1.460 người hưởng chính sách người có công).",
    "Tính đến ngày 15/9/2023 toàn tỉnh: (1) Thu nhận được 3.421.346 hồ sơ CCCD gắn chip; (2) Thu nhận 2.336.438 hồ sơ "
    "cấp tài khoản định danh điện tử/1.620.967 chỉ tiêu giao, vượt chỉ tiêu 715.471 hồ sơ; đã kích hoạt thành công "
    "1.651.144 tài khoản/1.620.967 chỉ tiêu giao, đạt tỷ lệ 101,86%",                              # "; đạt tỷ lệ 101.86 %"
    "cập nhật 780.355/960.281 trẻ em (đạt tỷ lệ 81,3% trên tổng số trẻ em)",
    "rà soát và làm sạch 60.468/65.546 người, đạt tỉ lệ 92,25%",
    "Tính đến ngày 15/9/2023, toàn tỉnh đã xác thực đúng với CSDLQG về dân cư 3.079.271/3.200.783 hồ sơ cá nhân",
    "đạt tỷ lệ 96,20%",
    "tổng số lượng mã số thuế cá nhân cần phải rà soát trên địa bàn tỉnh là 2.262.033. Trong đó, số lượng mã số thuế "
    "đã thực hiện rà soát là 1.721.898, đạt tỷ lệ 76%; số lượng mã số thuế cần phải tiếp tục rà soát do chưa khớp "
    "đúng với CSDLQG về DC là 540.135, chiếm tỷ lệ 24%.",
    "đã cập nhật 8.691.170 mũi tiêm cho 3.063.393 đối tượng lên hệ thống quản lý thông tin tiêm chủng vắc xin "
    "COVID-19. Trong đó đã có 2.798.936 đối tượng đã được xác minh thông tin trên CSDLQG về dân cư (đạt tỷ lệ 91,4%)",
    # the report prints 91,3%: 2.798.936 / 3.063.393 = 91,37%, which rounds to 91,4
    "264.457 đối tượng chưa được xác minh thông tin",
    "đã nhập được 300.790 trường hợp/2.343.764 trường hợp, đạt tỉ lệ 12,83% (trong đó, đăng ký kết hôn: 14.075 "
    "trường hợp; đăng ký khai sinh: 277.202 trường hợp; đăng ký khai tử: 9.483 trường hợp; đăng ký nuôi con nuôi: "
    "30 trường hợp)",
]


@pytest.mark.parametrize("sentence", REPORT_SENTENCES, ids=range(len(REPORT_SENTENCES)))
def test_report_draft_writes_the_reports_sentences(published, sentence):
    text = published["outputs"]["report"].read_text(encoding="utf-8")
    assert sentence in text

def test_report_draft_writes_changes_and_marks_figures_with_findings(published):
    text = published["outputs"]["report"].read_text(encoding="utf-8")
    # August: 3.041.882/3.198.410 (the total row of the August sample); 96,2037% - 95,1061% = 1,0976 points
    assert "đạt tỷ lệ 96,20% (tăng 1,10 điểm % so với tháng 8/2023) (*)." in text     # Mường Lát's stock fell
    assert "số còn lại 5.078 người đang thực hiện rà soát (*)." in text            # the delivery states 5.123
    assert "đạt tỷ lệ 81,3% trên tổng số trẻ em)." in text                         # no finding: no mark
    assert text.count("(*) Số liệu liên quan có sai lệch") == 1                    # once, under section II.6.1


def test_report_draft_follows_the_skeleton_then_the_internal_checks(published):
    text = published["outputs"]["report"].read_text(encoding="utf-8")
    skeleton = report.load_templates()["skeleton"]
    headings = re.findall(r"^#{2,4} (.+)$", text, flags=re.M)
    assert headings[:len(skeleton)] == [s["heading"] for s in skeleton]
    assert headings[len(skeleton):] == ["Tình hình nhận số liệu", "Sai lệch số liệu cần đơn vị xác minh"]
    assert text.index("# Phụ lục kiểm tra số liệu (nội bộ") > text.index("## V. KIẾN NGHỊ")
    assert "Đã nhận đủ số liệu của 9/9 nguồn." in text


def test_report_first_month_leaves_out_the_change(published, tmp_path):
    with warehouse.connect(published["db"], read_only=True) as con:
        text = report.render_report(con, "2023-08")
    sentence = next(s for s in text.split(". ") if "xác thực đúng với CSDLQG" in s)
    assert "so với tháng 7/2023" not in sentence and "đạt tỷ lệ" in sentence


def test_report_names_a_missing_source(published, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(published["db"], db)
    with warehouse.connect(db) as con:
        con.execute("UPDATE raw.deliveries SET status = 'rejected' WHERE period = ? AND source = 'tre_em'", [PERIOD])
        publish_period(con, PERIOD)
        text = report.render_report(con, PERIOD)
    assert "Chưa nhận được số liệu tháng 9/2023 của Sở Lao động - Thương binh và Xã hội." in text   # in words
    assert "780.355/960.281" not in text and "742.118/959.870" not in text        # nor August's figures
    assert "Đã nhận số liệu của 8/9 nguồn. Chưa nhận được số liệu của: Sở Lao động - Thương binh và Xã hội " \
           "(nguồn tre_em)." in text
    assert "cần đơn vị gửi lại (lý do tại trang Tình trạng nộp số liệu của bảng tính): Sở Lao động - Thương binh " \
           "và Xã hội (nguồn tre_em): 1 tệp." in text


def test_report_says_which_file_stands_when_a_resend_was_rejected(published, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(published["db"], db)
    with warehouse.connect(db) as con:
        con.execute("""INSERT INTO raw.deliveries (period, source, path, file_name, sha256, size_bytes, received_at,
                       processed_at, as_of_date, status, message, fingerprint)
                       SELECT period, source, path || '.2', 'BHXH_gui_lai.xlsx', 'y', 1, received_at, processed_at,
                              as_of_date, 'rejected', 'bad header', 'y'
                       FROM raw.deliveries WHERE period = ? AND source = 'bhxh' AND status = 'loaded'""", [PERIOD])
        publish_period(con, PERIOD)
        text = report.render_report(con, PERIOD)
    assert "Đã nhận số liệu của 9/9 nguồn. Có tệp bị từ chối" in text
    assert ("Bảo hiểm xã hội tỉnh (nguồn bhxh): 1 tệp, số liệu dùng trong dự thảo là của tệp "
            "BHXH_bao_cao_DA06_T9.2023.xlsx.") in text
    assert "3.079.271/3.200.783" in text                   # the accepted file of the month stands


def test_report_says_when_a_source_lacks_units(published, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(published["db"], db)
    with warehouse.connect(db) as con:
        con.execute("DELETE FROM staging.observations WHERE period = ? AND source = 'tre_em' AND unit_code IN ('384', '385')",
                    [PERIOD])
        publish_period(con, PERIOD)
        text = report.render_report(con, PERIOD)
    assert ("Số liệu của Sở Lao động - Thương binh và Xã hội mới có 25/27 đơn vị "
            "(chưa có: Huyện Mường Lát, Huyện Quan Hóa); số liệu toàn tỉnh nêu trên chỉ cộng các đơn vị đã báo cáo.") in text
    assert "Đã nhận số liệu của 9/9 nguồn. Số liệu chưa đủ các đơn vị: Sở Lao động - Thương binh và Xã hội " \
           "(nguồn tre_em) có 25/27 đơn vị, chưa có: Huyện Mường Lát, Huyện Quan Hóa." in text
    assert "Đã nhận đủ" not in text


def test_report_without_last_month_says_so_when_no_first_month_text_is_given(published):
    blocks = {"cong_dan_so": [{"text": "Đã thu nhận {{ CCCD_CHIP_APPLICATIONS.value }} hồ sơ "
                                       "({{ CCCD_CHIP_APPLICATIONS.change }})."}]}
    templates = dict(report.load_templates(), data_blocks=blocks)
    with warehouse.connect(published["db"], read_only=True) as con:
        draft = report.Draft(con, "2023-08", templates)
        assert draft.block_paragraph("cong_dan_so") == ("Đã thu nhận 3.398.120 hồ sơ (chưa có số liệu tháng 7/2023 để so sánh).")
        september = report.Draft(con, PERIOD, templates).block_paragraph("cong_dan_so")
    assert september == "Đã thu nhận 3.421.346 hồ sơ (tăng 23.226 hồ sơ)."


def test_report_lists_the_findings_for_the_departments(published):
    text = published["outputs"]["report"].read_text(encoding="utf-8")
    section = text.split("## Sai lệch số liệu cần đơn vị xác minh")[1]
    con = duckdb.connect(str(published["db"]), read_only=True)
    try:
        findings = con.execute("SELECT source, severity, message_vi FROM marts.reconciliation_findings "
                               "WHERE period = ? AND severity IN ('error', 'warning')", [PERIOD]).fetchall()
    finally:
        con.close()
    assert findings, "the September samples hold known inconsistencies"
    errors = sum(1 for f in findings if f[1] == "error")
    assert f"Phát hiện {errors} lỗi và {len(findings) - errors} cảnh báo" in section
    for source, severity, message in findings:
        assert f"- [{'Lỗi' if severity == 'error' else 'Cảnh báo'}] {message}" in section
        department = next(line for line in section.split("\n") if line.endswith(f"(nguồn {source}):"))
        assert section.index(department) < section.index(message)
    assert "5.123" in section and "5.078" in section        # the people-with-merit remainder of the manifest


# ------------------------------------------------------------------ CSV / Parquet

def test_tables_written_as_csv_and_parquet_for_the_month(published):
    tables_dir = published["outputs"]["tables_dir"]
    con = duckdb.connect(str(published["db"]), read_only=True)
    try:
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.columns "
                                            "WHERE table_schema = 'marts' AND column_name = 'period'").fetchall()]
        assert {"indicator_monthly", "public_services_monthly", "source_completeness"} <= set(tables)
        for table in tables:
            expected = con.execute(f"SELECT count(*) FROM marts.{table} WHERE period = ?", [PERIOD]).fetchone()[0]
            parquet, csv = tables_dir / f"{table}.parquet", tables_dir / f"{table}.csv"
            assert con.execute(f"SELECT count(*) FROM read_parquet('{parquet}')").fetchone()[0] == expected
            if expected:
                assert con.execute(f"SELECT count(*), count(DISTINCT period) FROM read_csv('{csv}')").fetchone() == (expected, 1)
        numerator = con.execute(f"SELECT numerator FROM read_parquet('{tables_dir / 'indicator_monthly.parquet'}') "
                                "WHERE unit_level = 'province' AND indicator_code = 'BHXH_VERIFIED_SHARE'").fetchone()[0]
        assert numerator == 3079271
    finally:
        con.close()


# ------------------------------------------------------------------ Great Expectations

def test_expectation_suite_succeeds_on_the_real_publication(published):
    summary = json.loads(published["outputs"]["quality"].read_text(encoding="utf-8"))
    assert summary["success"], summary
    # one expectation per check, and for a column judged within bounds a second: no NULL in it
    assert summary["statistics"]["evaluated_expectations"] == sum(1 + (c.expect.column is not None)
                                                                  for c in publication_checks.load().checks)
    assert summary["statistics"]["unsuccessful_expectations"] == 0
    index = Path(summary["data_docs_index"])
    assert index.is_file() and "p06.check_province_is_sum_of_units" in index.read_text(encoding="utf-8")
    gx_config = (published["root"] / "gx" / "great_expectations.yml").read_text(encoding="utf-8")
    assert "analytics_enabled: false" in gx_config


def test_checks_catch_values_out_of_bounds_and_missing_indicators(published, tmp_path):
    db = tmp_path / "p06.duckdb"
    shutil.copyfile(published["db"], db)
    with warehouse.connect(db) as con:
        con.execute("""UPDATE marts.indicator_monthly SET value = 150 WHERE period = ? AND unit_code = '380'
                       AND indicator_code = 'BHXH_VERIFIED_SHARE'""", [PERIOD])
        con.execute("""UPDATE marts.indicator_monthly SET value = 180 WHERE period = ? AND unit_code = '380'
                       AND indicator_code = 'EID_ACTIVATED_VS_TARGET'""", [PERIOD])   # attainment may pass 100
        con.execute("""DELETE FROM marts.indicator_monthly WHERE period = ? AND unit_level = 'province'
                       AND indicator_code = 'CHILDREN_UPDATED_SHARE'""", [PERIOD])
        summary = quality.validate_publication(con, PERIOD, tmp_path)
    assert not summary.success
    failed = {f["check"]: f for t in summary.tables.values() for f in t["failed"]}
    assert set(failed) == {"values_within_bounds", "value_is_ratio_of_parts", "province_indicators_present"}
    out = failed["values_within_bounds"]["failing_rows"]
    assert [(r["unit_code"], r["indicator_code"], r["value"]) for r in out] == [("380", "BHXH_VERIFIED_SHARE", 150.0)]
    assert {r["indicator_code"] for r in failed["value_is_ratio_of_parts"]["failing_rows"]} == \
        {"BHXH_VERIFIED_SHARE", "EID_ACTIVATED_VS_TARGET"}
    assert failed["province_indicators_present"]["failing_rows"] == [{"period": PERIOD, "indicator_code": "CHILDREN_UPDATED_SHARE"}]


def test_bounds_follow_the_catalog():
    indicators = indicator_catalog.indicators()
    assert indicators["EID_ACTIVATED_VS_TARGET"].may_exceed_factor
    assert not indicators["BHXH_VERIFIED_SHARE"].may_exceed_factor


# ------------------------------------------------------------------ analysts' copy

HOLD_WRITER = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1])            # read-write: holds the file's lock
    con.execute("CREATE TABLE IF NOT EXISTS main.writer_was_here AS SELECT 1 AS x")
    print("holding", flush=True)
    sys.stdin.readline()
    con.close()
""")


def test_query_answers_from_the_copy_while_a_writer_holds_the_main_file(published, tmp_path):
    db = tmp_path / "p06.duckdb"
    shutil.copyfile(published["db"], db)
    copy = snapshot.publish_copy(db, tmp_path / "p06_published.duckdb")
    writer = subprocess.Popen([sys.executable, "-c", HOLD_WRITER, str(db)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "holding"
        with pytest.raises(duckdb.IOException):        # the main file is locked by the writer ...
            duckdb.connect(str(db), read_only=True)
        columns, rows = snapshot.query(                # ... and the copy answers all the same
            "SELECT numerator, denominator FROM marts.indicator_monthly WHERE period = '2023-09' "
            "AND unit_level = 'province' AND indicator_code = 'BHXH_VERIFIED_SHARE'", copy)
        assert columns == ["numerator", "denominator"] and rows == [(3079271, 3200783)]
    finally:
        writer.communicate("\n", timeout=30)
    assert writer.returncode == 0


def test_publish_copy_swaps_the_file_atomically(published, tmp_path):
    db = tmp_path / "p06.duckdb"
    shutil.copyfile(published["db"], db)
    dest = tmp_path / "p06_published.duckdb"
    snapshot.publish_copy(db, dest)
    reader = duckdb.connect(str(dest), read_only=True)       # an analyst's session on the old copy
    try:
        with warehouse.connect(db) as con:
            con.execute("CREATE TABLE marts.added_later AS SELECT 42 AS answer")
            snapshot.publish_copy(db, dest, con=con)         # from the writer's own connection
        assert reader.execute("SELECT count(*) FROM marts.indicator_monthly").fetchone()[0] > 0
        assert not reader.execute("SELECT count(*) FROM information_schema.tables "
                                  "WHERE table_name = 'added_later'").fetchone()[0]
    finally:
        reader.close()
    assert snapshot.query("SELECT answer FROM marts.added_later", dest) == (["answer"], [(42,)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p06.duckdb", "p06_published.duckdb"]
    with pytest.raises(duckdb.Error):
        snapshot.query("CREATE TABLE marts.nope AS SELECT 1", dest)


def test_the_copy_holds_every_committed_row_and_no_uncommitted_one(published, tmp_path, monkeypatch):
    """The copy is the checkpointed file copied byte for byte; when a transaction still open keeps the checkpoint
    from emptying the write-ahead log, it is made through DuckDB. Either way: committed rows, and only those."""
    db = tmp_path / "p06.duckdb"
    shutil.copyfile(published["db"], db)
    copied_files = []
    copyfile = shutil.copyfile
    monkeypatch.setattr(snapshot.shutil, "copyfile", lambda a, b: (copied_files.append(a), copyfile(a, b))[1])
    for open_transaction in (False, True):
        dest = tmp_path / f"copy_{open_transaction}.duckdb"
        copied_files.clear()
        with warehouse.connect(db) as con:
            con.execute(f"CREATE OR REPLACE TABLE marts.committed AS SELECT {int(open_transaction)} AS x")
            other = con.cursor()
            if open_transaction:
                other.execute("BEGIN TRANSACTION")
                other.execute("CREATE TABLE marts.uncommitted AS SELECT 2 AS x")
            snapshot.publish_copy(db, dest, con=con)
            if open_transaction:
                other.execute("ROLLBACK")
        assert bool(copied_files) != open_transaction
        assert snapshot.query("SELECT x FROM marts.committed", dest) == (["x"], [(int(open_transaction),)])
        assert snapshot.query("SELECT count(*) FROM information_schema.tables WHERE table_name = 'uncommitted'",
                              dest)[1] == [(0,)]
        assert snapshot.query("SELECT count(*) FROM marts.indicator_monthly", dest)[1][0][0] > 0


def test_analysts_doc_queries_run_on_the_published_copy(published, tmp_path):
    doc = (config.REPO_DIR / "docs" / "analysts.md").read_text(encoding="utf-8")
    assert "duckdb-cli" in doc and "p06 sql" in doc and "read_only=True" in doc
    queries = re.findall(r"```sql\n(.*?)```", doc, flags=re.S)
    assert len(queries) == 8
    copy = snapshot.publish_copy(published["db"], tmp_path / "p06_published.duckdb")
    tables = {t for (t,) in duckdb.connect(str(copy), read_only=True).execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'").fetchall()}
    ranking, trend, crosswalk, findings, *audit = queries     # audit: as published on, errata, open findings
    columns, rows = snapshot.query(ranking, copy)
    assert len(rows) == 27 and rows[0][0] == 1 and columns[:3] == ["rank", "unit_code", "unit_name"]
    _, rows = snapshot.query(trend, copy)
    assert [r[0] for r in rows] == ["2023-08", "2023-09"] and rows[1][2] == 3079271
    _, rows = snapshot.query(crosswalk, copy)
    assert [(r[1], r[2]) for r in rows] == [("Phường Đông Tiến", "part"), ("Phường Đông Sơn", "part"),
                                            ("Phường Đông Quang", "part")]
    if "reconciliation_findings" in tables:
        snapshot.query(findings, copy)
    if {"publications", "findings_register"} <= tables:
        for sql in audit:                       # run for their values in tests/test_vintages.py
            snapshot.query(sql, copy)
