"""Every published table has history and errata (issue 15, reproduction 4).

A re-send of September's public-services file correcting PL3-01's dossiers handled on time from 47 to 4 makes a
new vintage whose errata name that figure (old 47, new 4, the re-sent file); the workbook's "Đính chính" sheet
lists it; "as published on date D" works for the services as documented. A unit's rows gone from a source
change its completeness (units present, units missing): errata too.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import duckdb
import openpyxl
import pytest
from conftest import copy_sample_run, landing_env, make_newer, sample_file

from p06 import warehouse
from p06.publish import marts, vintages
from pipelines import cli

REPO = Path(__file__).resolve().parent.parent


def query(path, sql, params=None):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def resent(sample_run, tmp_path_factory):
    run = copy_sample_run(sample_run, tmp_path_factory.mktemp("errata_all"))
    raw = run["raw"]
    with landing_env(raw, run["warehouse"]) as env:
        original = sample_file(raw, "2023-09", "dvc")
        corrected = original.with_name("DVC_thiet_yeu_T9_2023_sua.xlsx")
        wb = openpyxl.load_workbook(original)
        sheet = wb["Phụ lục III"]
        assert sheet["A7"].value == 1 and sheet["G7"].value == 47           # PL3-01, on time
        sheet["G7"] = 4
        wb.save(corrected)
        make_newer(corrected, original)
        assert cli.main(["run", "--period", "2023-09"]) == 0
        yield {**env, "db": env["warehouse"] / "p06.duckdb", "copy": env["warehouse"] / "p06_published.duckdb",
               "file": "2023-09/dvc/DVC_thiet_yeu_T9_2023_sua.xlsx",
               "sha256": hashlib.sha256(corrected.read_bytes()).hexdigest()}


def test_a_service_count_corrected_is_an_erratum(resent):
    (vintage, errata), = query(resent["db"], "SELECT vintage, errata FROM marts.publications WHERE period = '2023-09' "
                                             "ORDER BY vintage DESC LIMIT 1")
    assert vintage == 2 and errata >= 1
    rows = query(resent["db"], "SELECT published_table, indicator_code, figure, old_value, new_value, cause, file, sha256 "
                               "FROM marts.errata WHERE period = '2023-09' AND vintage = 2 ORDER BY ALL")
    assert ("public_services_monthly", "PL3-01", "on_time", 47.0, 4.0, "delivery", resent["file"], resent["sha256"]) in rows
    figures = [r for r in rows if r[0] != "reconciliation_findings"]
    assert all(r[0] == "public_services_monthly" or r[1].startswith("DVC") for r in figures), rows   # nothing else changed
    # the error it corrected (47 handled on time out of 4 online dossiers) is gone: listed, named with the file
    assert query(resent["db"], "SELECT indicator_code, unit_code, figure, old_text, new_text, cause, file FROM marts.errata "
                               "WHERE period = '2023-09' AND vintage = 2 AND published_table = 'reconciliation_findings'") == [
        ("dvc.handled_le_online", "PL3-01", "severity", "error", None, "delivery", resent["file"])]
    history = query(resent["db"], "SELECT vintage, on_time FROM marts.public_services_history WHERE period = '2023-09' "
                                  "AND service_code = 'PL3-01' ORDER BY vintage")
    assert history == [(1, 47.0), (2, 4.0)]


def test_the_workbook_lists_the_corrected_count(resent):
    wb = openpyxl.load_workbook(resent["warehouse"] / "exports" / "2023-09" / "DA06_2023-09.xlsx")
    sheet = wb["Đính chính"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, r)) for r in sheet.iter_rows(min_row=2, values_only=True) if r[0]]
    (row,) = [r for r in rows if r["Mã chỉ tiêu, dịch vụ, nguồn"] == "PL3-01" and r["Số liệu"] == "Hồ sơ đúng hạn"]
    assert (row["Số đã công bố lần trước"], row["Số đính chính"], row["Chênh lệch"]) == (47, 4, -43)
    assert row["Bảng số liệu"].startswith("Dịch vụ công") and row["Tệp gửi lại"] == resent["file"]
    assert row["Nguyên nhân"] == vintages.texts().causes["delivery"]


def test_services_as_published_on_a_date(resent):
    text = (REPO / "docs" / "analysts.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- as-published-on-services.*?```sql\n(.*?)```", text, re.S).group(1)
    (first,), (second,) = query(resent["copy"], "SELECT published_at FROM marts.publications WHERE period = '2023-09' "
                                                "ORDER BY vintage")

    def pl3_01(at):
        sql = block.replace("TIMESTAMP '2023-11-20 23:59:59'", f"TIMESTAMP '{at.isoformat(sep=' ')}'")
        return [(r[1], r[5]) for r in query(resent["copy"], sql) if r[0] == "2023-09" and r[2] == "PL3-01"]

    assert pl3_01(first + (second - first) / 2) == [(1, 47.0)]
    assert pl3_01(second) == [(2, 4.0)]


def test_completeness_changes_are_errata(samples_db):
    """A unit's rows gone from tre_em: the source's units present and missing units change, with the cause."""
    with warehouse.connect(samples_db) as con:
        marts.publish_periods(con, ["2023-09"])
        con.execute("DELETE FROM staging.observations WHERE period = '2023-09' AND source = 'tre_em' AND unit_code = '384'")
        parts = vintages.release_parts()
        vintages_release = vintages.release_parts
        try:
            vintages.release_parts = lambda: {**parts, "code_sha": "changed"}
            marts.publish_periods(con, ["2023-09"])
        finally:
            vintages.release_parts = vintages_release
        rows = con.execute("SELECT figure, old_value, new_value, old_text, new_text, cause FROM marts.errata "
                           "WHERE period = '2023-09' AND vintage = 2 AND published_table = 'source_completeness' "
                           "AND indicator_code = 'tre_em' ORDER BY figure").fetchall()
    found = {r[0]: r[1:] for r in rows}
    assert found["units_present"][1] == found["units_present"][0] - 1
    assert "384" in found["missing_units"][3] and "384" not in (found["missing_units"][2] or "")
    assert {r[5] for r in rows} == {"code"}
