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

from p06 import config, vntext, warehouse
from p06.publish import exports, quality, report, snapshot
from p06.publish.marts import publish_period

PERIOD = "2023-09"


def _reconcile(con, period: str) -> None:
    try:
        from p06.reconcile.store import reconcile_period
    except ImportError:          # the findings writer is not there yet: publish without findings
        return
    reconcile_period(con, period)


def _publish(db: Path, periods=("2023-08", "2023-09")) -> None:
    with warehouse.connect(db) as con:
        for period in periods:
            _reconcile(con, period)
            publish_period(con, period)


@pytest.fixture(scope="module")
def published(loaded_samples, tmp_path_factory) -> dict:
    """A warehouse folder with both sample months published and September exported (read-only use)."""
    root = tmp_path_factory.mktemp("published")
    db = root / "p06.duckdb"
    shutil.copyfile(loaded_samples["db"], db)
    _publish(db)
    with warehouse.connect(db) as con:
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
    described = exports.describe(out)
    assert all(str(out[k]) in described for k in ("workbook", "report", "data_docs"))


def test_workbook_headline_holds_september_province_figures(published):
    wb = load_workbook(published["outputs"]["workbook"])
    assert wb.sheetnames == ["Chỉ tiêu chính", "Theo huyện", "Phụ lục II", "Phụ lục III",
                             "Sai lệch cần phản hồi", "Tình trạng nộp số liệu"]
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
    # numbers are cells of numbers with a grouping format, never text
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[header.index("Mã chỉ tiêu")].value == "BHXH_VERIFIED_SHARE")
    assert row[header.index("Tử số")].number_format == "#,##0"
    assert row[header.index("Giá trị")].number_format == "#,##0.00"
    for r in ws.iter_rows(min_row=2, values_only=True):
        for name in ("Tử số", "Mẫu số", "Giá trị", "Tháng trước"):
            assert r[header.index(name)] is None or isinstance(r[header.index(name)], (int, float))


def test_workbook_district_and_appendix_sheets(published):
    wb = load_workbook(published["outputs"]["workbook"])
    districts = [r for r in _sheet_rows(wb["Theo huyện"]) if r["Mã chỉ tiêu"] == "BHXH_VERIFIED_SHARE"]
    assert len(districts) == 27
    assert sum(r["Tử số"] for r in districts) == 3079271
    tax = [r for r in _sheet_rows(wb["Theo huyện"]) if r["Mã chỉ tiêu"] == "TAX_IDS_MATCHED_SHARE"]
    assert len(tax) == 11 and sum(r["Tử số"] for r in tax) == 1721898

    appendix2 = {r["Mã dịch vụ"]: r for r in _sheet_rows(wb["Phụ lục II"])}
    assert len(appendix2) == 25
    assert (appendix2["PL2-08"]["Tổng hồ sơ"], appendix2["PL2-08"]["Trực tuyến"]) == (4152, 3248)
    assert appendix2["PL2-08"]["Tỷ lệ trực tuyến (%)"] == pytest.approx(3248 / 4152 * 100)   # computed, not the stated 78,25
    appendix3 = _sheet_rows(wb["Phụ lục III"])
    assert appendix3 and all(r["Mã dịch vụ"].startswith("PL3-") for r in appendix3)
    assert appendix3[0]["Sở, ngành"]

    completeness = _sheet_rows(wb["Tình trạng nộp số liệu"])
    assert len(completeness) == 9 and {r["Tình trạng"] for r in completeness} == {"Đã nhận"}


# ------------------------------------------------------------------ report draft

def test_report_draft_writes_the_september_sentences(published):
    text = published["outputs"]["report"].read_text(encoding="utf-8")
    bhxh = _province(published["db"], "BHXH_VERIFIED_SHARE")
    change = vntext.format_number(abs(bhxh["change"]), 2)
    sentence = next(s for s in text.split(". ") if "xác thực đúng với CSDLQG" in s)
    assert sentence.startswith("Tính đến ngày 15/9/2023, toàn tỉnh đã xác thực đúng với CSDLQG về dân cư "
                               "3.079.271/3.200.783 hồ sơ")
    assert sentence.endswith(f"đạt tỷ lệ 96,20% ({'tăng' if bhxh['change'] > 0 else 'giảm'} {change}% "
                             "so với tháng trước)")
    assert ("Thu nhận 2.336.438 hồ sơ cấp tài khoản định danh điện tử/1.620.967 chỉ tiêu giao, "
            "vượt chỉ tiêu 715.471 hồ sơ") in text
    assert "đạt tỷ lệ 101,86%" in text
    assert "Hiện đã có 5.339.392 lượt tra cứu (tăng 269.520 lượt so với thời điểm tháng trước)" in text
    assert "3.037.420 (tăng 18.103 thẻ)" in text
    assert "đã nhập được 300.790 trường hợp/2.343.764 trường hợp, đạt tỉ lệ 12,83%" in text


def test_report_draft_has_one_paragraph_per_group_and_the_sections(published):
    text = published["outputs"]["report"].read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert len(headings) == 5 + 2
    assert headings[-2:] == ["Tình hình nhận số liệu", "Sai lệch số liệu cần đơn vị xác minh"]
    for block in re.split(r"^## .+$", text, flags=re.M)[1:6]:
        assert len([p for p in block.strip().split("\n\n") if not p.startswith("(*)")]) == 1
    assert "Đã nhận đủ số liệu của 9/9 nguồn." in text


def test_report_first_month_leaves_out_the_change(published, tmp_path):
    with warehouse.connect(published["db"], read_only=True) as con:
        text = report.render_report(con, "2023-08")
    sentence = next(s for s in text.split(". ") if "xác thực đúng với CSDLQG" in s)
    assert "so với tháng trước" not in sentence and "đạt tỷ lệ" in sentence


def test_report_names_a_missing_source(published, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(published["db"], db)
    with warehouse.connect(db) as con:
        con.execute("UPDATE raw.deliveries SET status = 'rejected' WHERE period = ? AND source = 'tre_em'", [PERIOD])
        publish_period(con, PERIOD)
        text = report.render_report(con, PERIOD)
    assert "Chưa nhận được số liệu của Sở Lao động - Thương binh và Xã hội (nguồn tre_em)." in text
    assert "780.355/960.281" not in text
    assert "Đã nhận số liệu của 8/9 nguồn." in text


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
    assert summary["statistics"]["evaluated_expectations"] >= 20
    assert summary["statistics"]["unsuccessful_expectations"] == 0
    index = Path(summary["data_docs_index"])
    assert index.is_file() and "p06.indicator_monthly" in index.read_text(encoding="utf-8")
    gx_config = (published["root"] / "gx" / "great_expectations.yml").read_text(encoding="utf-8")
    assert "analytics_enabled: false" in gx_config


def test_expectation_suite_catches_duplicates_ranges_and_missing_indicators(published, tmp_path):
    db = tmp_path / "p06.duckdb"
    shutil.copyfile(published["db"], db)
    with warehouse.connect(db) as con:
        con.execute("""INSERT INTO marts.indicator_monthly SELECT * FROM marts.indicator_monthly
                       WHERE period = ? AND unit_level = 'province' AND indicator_code = 'VAX_DOSES'""", [PERIOD])
        con.execute("""UPDATE marts.indicator_monthly SET value = 150 WHERE period = ? AND unit_code = '380'
                       AND indicator_code = 'BHXH_VERIFIED_SHARE'""", [PERIOD])
        con.execute("""UPDATE marts.indicator_monthly SET value = 180 WHERE period = ? AND unit_code = '380'
                       AND indicator_code = 'EID_ACTIVATED_VS_TARGET'""", [PERIOD])   # attainment may pass 100
        con.execute("""DELETE FROM marts.indicator_monthly WHERE period = ? AND unit_level = 'province'
                       AND indicator_code = 'CHILDREN_UPDATED_SHARE'""", [PERIOD])
        summary = quality.validate_publication(con, PERIOD, tmp_path)
    assert not summary.success
    failed = {f["expectation"]: f for f in summary.tables["indicator_monthly"]["failed"]}
    assert set(failed) == {"expect_compound_columns_to_be_unique", "expect_column_values_to_be_between",
                           "expect_column_distinct_values_to_contain_set"}
    assert "150" in failed["expect_column_values_to_be_between"]["observed"]
    assert "180" not in failed["expect_column_values_to_be_between"]["observed"]
    missing = failed["expect_column_distinct_values_to_contain_set"]
    assert "CHILDREN_UPDATED_SHARE" in missing["kwargs"]["value_set"]
    assert "'partial_missing_list': ['CHILDREN_UPDATED_SHARE']" in missing["observed"]


def test_expected_indicators_follow_the_sources_delivered():
    definitions = quality.indicator_definitions()
    every = quality.expected_province_indicators(definitions, {"bhxh", "vneid", "tre_em"})
    assert "BHXH_VERIFIED_SHARE" in every and "CHILDREN_UPDATED_SHARE" in every
    assert "VAX_DOSES" not in every                     # tiem_chung not delivered
    assert "DVC_ONLINE_SHARE" not in quality.expected_province_indicators(definitions, {"dvc"})  # service level only
    assert quality.may_exceed_factor(definitions["EID_ACTIVATED_VS_TARGET"])
    assert not quality.may_exceed_factor(definitions["BHXH_VERIFIED_SHARE"])


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


def test_analysts_doc_queries_run_on_the_published_copy(published, tmp_path):
    doc = (config.REPO_DIR / "docs" / "analysts.md").read_text(encoding="utf-8")
    assert "duckdb-cli" in doc and "p06 sql" in doc and "read_only=True" in doc
    queries = re.findall(r"```sql\n(.*?)```", doc, flags=re.S)
    assert len(queries) == 3
    copy = snapshot.publish_copy(published["db"], tmp_path / "p06_published.duckdb")
    tables = {t for (t,) in duckdb.connect(str(copy), read_only=True).execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'").fetchall()}
    ranking, trend, findings = queries
    columns, rows = snapshot.query(ranking, copy)
    assert len(rows) == 27 and rows[0][0] == 1 and columns[:3] == ["rank", "unit_code", "unit_name"]
    _, rows = snapshot.query(trend, copy)
    assert [r[0] for r in rows] == ["2023-08", "2023-09"] and rows[1][2] == 3079271
    if "reconciliation_findings" in tables:
        snapshot.query(findings, copy)
