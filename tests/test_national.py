"""`p06 national`: provinces' published copies rolled up into the national warehouse.

One pipeline run (the sample months 2023-08 and 2023-09 of Thanh Hóa, 38) makes a real published copy. The
copies of two other provinces are synthetic, made from it (building their deliveries would take a pipeline run
each): the copy is duplicated, its recorded province (ref.meta) rewritten, its unit rows dropped, and its
province rows given the other province's code and other numerators and denominators (their value recomputed
× the factor), so that a mean of ratios and a ratio of sums differ. Nghệ An (40) is an unchanged province,
Ninh Bình (37) a merged one (its copy stands for Hà Nam 35 and Nam Định 36 before July 2025).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest
from conftest import copy_samples, landing_env

from p06.national import copies, marts, provinces, store, texts
from pipelines import cli

# numerator and denominator multipliers of the synthetic provinces' rows
SYNTHETIC = {"40": (0.5, 2.0), "37": (3.0, 1.0)}
SHARE = "BHXH_VERIFIED_SHARE"


@pytest.fixture(scope="module")
def thanh_hoa(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("national")
    raw = copy_samples(base)
    with landing_env(raw, base / "warehouse") as env:
        assert cli.main(["run"]) == 0
    return env["warehouse"] / "p06_published.duckdb"


def synthetic(source: Path, dest: Path, code: str, num: float = 1.0, den: float = 1.0) -> Path:
    """A copy of `source` made for province `code`: province rows rewritten, unit rows dropped."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)
    os.chmod(dest, 0o644)
    con = duckdb.connect(str(dest))
    try:
        con.execute("UPDATE ref.meta SET value = ? WHERE name = 'province'", [code])
        con.execute("DELETE FROM marts.indicator_monthly WHERE unit_level <> 'province'")
        con.execute("""UPDATE marts.indicator_monthly SET unit_code = $code, unit_name = $name,
                           numerator = numerator * $num, denominator = denominator * $den,
                           value = CASE WHEN denominator IS NULL THEN numerator * $num
                                        ELSE numerator * $num / (denominator * $den) * factor END""",
                    {"code": code, "name": provinces.name(code), "num": num, "den": den})
    finally:
        con.close()
    return dest


@pytest.fixture(scope="module")
def three(thanh_hoa, tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("copies")
    found = {"38": thanh_hoa}
    for code, (num, den) in SYNTHETIC.items():
        found[code] = synthetic(thanh_hoa, base / code / "p06_published.duckdb", code, num, den)
    return found


@pytest.fixture(scope="module")
def national(three, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("national_out")
    assert cli.main(["national", "--out", str(out), *map(str, three.values())]) == 0
    return out


def rows(out: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(out / "p06_national.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def province_rows(copy: Path, period: str) -> dict[str, tuple]:
    con = duckdb.connect(str(copy), read_only=True)
    try:
        return {code: (n, d, f) for code, n, d, f in con.execute(
            "SELECT indicator_code, numerator, denominator, factor FROM marts.indicator_monthly "
            "WHERE unit_level = 'province' AND period = ?", [period]).fetchall()}
    finally:
        con.close()


def test_national_figures_are_sums_of_the_provinces_with_ratios_recomputed(national, three):
    copied = {code: province_rows(path, "2023-09") for code, path in three.items()}
    nation = {r[0]: r[1:] for r in rows(national, "SELECT indicator_id, numerator, denominator, value, unit_code, "
                                                  "unit_name FROM marts.indicator_monthly "
                                                  "WHERE period = '2023-09' AND unit_level = 'nation'")}
    assert set(nation) == set(copied["38"])
    for code, (numerator, denominator, value, unit_code, unit_name) in nation.items():
        parts = [copied[p][code] for p in copied]
        assert numerator == pytest.approx(sum(n for n, _, _ in parts))
        factor = parts[0][2]
        if parts[0][1] is None:
            assert denominator is None and value == pytest.approx(numerator)
        else:
            assert denominator == pytest.approx(sum(d for _, d, _ in parts))
            assert value == pytest.approx(numerator / denominator * factor)
        assert (unit_code, unit_name) == (texts.load().nation_code, texts.load().nation_name)
    # a ratio of sums, not a mean of the provinces' ratios
    share = [copied[p][SHARE] for p in copied]
    mean = sum(n / d * 100 for n, d, _ in share) / 3
    assert abs(nation[SHARE][2] - mean) > 1


def test_province_rows_carry_their_code_name_and_vintage(national):
    found = rows(national, "SELECT unit_code, unit_name, vintage, count(*) FROM marts.indicator_monthly "
                           "WHERE period = '2023-09' AND unit_level = 'province' GROUP BY ALL ORDER BY 1")
    assert [r[:3] for r in found] == [("37", "Tỉnh Ninh Bình", 1), ("38", "Tỉnh Thanh Hóa", 1), ("40", "Tỉnh Nghệ An", 1)]


def test_the_nation_is_partial_and_names_the_31_provinces_missing(national):
    (quality, reporting, expected, missing), = rows(
        national, "SELECT quality, provinces_reporting, provinces_expected, missing_provinces FROM "
                  "marts.indicator_monthly WHERE period = '2023-09' AND unit_level = 'nation' AND indicator_id = ?",
        [SHARE])
    names = missing.split(", ")
    assert (quality, reporting, expected, len(names)) == ("partial", 3, 34, 31)
    assert "Thành phố Hà Nội" in names and "Tỉnh Thanh Hóa" not in names and "Tỉnh Ninh Bình" not in names
    # before July 2025 the 34 of today are expected, a merged province standing for its old ones
    assert "Tỉnh Hà Nam" not in names and "Tỉnh Nam Định" not in names


def test_expected_provinces_come_from_the_reference():
    before, after = provinces.expected("2023-09"), provinces.expected("2025-07")
    assert [u.unit_code for u in before] == [u.unit_code for u in after] and len(after) == 34
    assert "35" not in {u.unit_code for u in before} and "37" in {u.unit_code for u in before}


def test_publications_and_ranking(national, three):
    publications = rows(national, "SELECT province_code, province_name, period, vintage, copy_sha256 "
                                  "FROM marts.province_publications WHERE period = '2023-09' ORDER BY 1")
    assert [(p[0], p[3], p[4]) for p in publications] == [(c, 1, copies.sha256(three[c])) for c in ("37", "38", "40")]
    ranked = rows(national, "SELECT province_code, value, rank FROM marts.province_ranking "
                            "WHERE period = '2023-09' AND indicator_id = ? ORDER BY rank", [SHARE])
    assert [r[2] for r in ranked] == [1, 2, 3]
    assert [r[1] for r in ranked] == sorted((r[1] for r in ranked), reverse=True)
    # Ninh Bình's synthetic share is 3× Thanh Hóa's numerator over the same denominator: the highest
    assert ranked[0][0] == "37" and ranked[-1][0] == "40"
    (build,) = rows(national, "SELECT provinces, accepted, refused FROM marts.national_build")
    assert build == (3, 3, 0)


def test_the_workbook_shows_the_nation_ranking_and_publications(national):
    wb = openpyxl.load_workbook(national / "exports" / "2023-09" / "DA06_toan_quoc_2023-09.xlsx")
    t = texts.load().workbook
    assert wb.sheetnames == [t.nation_sheet, t.provinces_sheet, t.ranking_sheet, t.publications_sheet]
    header, *body = list(wb[t.nation_sheet].iter_rows(values_only=True))
    line = next(r for r in body if r[header.index("Mã chỉ tiêu")] == SHARE)
    (numerator,) = rows(national, "SELECT numerator FROM marts.indicator_monthly WHERE period = '2023-09' "
                                  "AND unit_level = 'nation' AND indicator_id = ?", [SHARE])[0]
    assert line[header.index("Tử số")] == numerator
    assert any(r[0] and "3/34" in str(r[0]) for r in body)
    status = [r[2] for r in list(wb[t.publications_sheet].iter_rows(values_only=True))[1:]]
    assert status.count(t.received) == 3 and status.count(t.missing) == 31


def test_two_copies_claiming_one_province_are_refused_naming_both(three, tmp_path, capsys):
    other = synthetic(three["38"], tmp_path / "second" / "p06_published.duckdb", "40", 1.0, 1.0)
    code = cli.main(["national", "--out", str(tmp_path / "out"), str(three["40"]), str(other), str(three["38"])])
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("REFUSED") == 2 and str(three["40"]) in err and str(other) in err and "Tỉnh Nghệ An" in err
    held = rows(tmp_path / "out", "SELECT DISTINCT province_code FROM marts.province_publications")
    assert held == [("38",)]


def test_a_pre_merger_province_code_is_refused(three, tmp_path, capsys):
    ha_nam = synthetic(three["38"], tmp_path / "35" / "p06_published.duckdb", "35")
    assert cli.main(["national", "--out", str(tmp_path / "out"), str(ha_nam)]) == 1
    err = capsys.readouterr().err
    assert str(ha_nam) in err and "Tỉnh Hà Nam (35)" in err and "30/06/2025" in err and "Tỉnh Ninh Bình (37)" in err
    assert rows(tmp_path / "out", "SELECT count(*) FROM marts.province_publications") == [(0,)]
    assert rows(tmp_path / "out", "SELECT status FROM marts.province_publications_history") == [("refused",)]


def test_a_copy_that_does_not_name_its_province_is_refused(three, tmp_path, capsys):
    anonymous = synthetic(three["38"], tmp_path / "x" / "p06_published.duckdb", "40")
    con = duckdb.connect(str(anonymous))
    con.execute("DELETE FROM ref.meta WHERE name = 'province'")
    con.execute("DELETE FROM staging.observations")      # nor do its total rows (p06.warehouse.warehouse_province)
    con.close()
    assert cli.main(["national", "--out", str(tmp_path / "out"), str(anonymous)]) == 1
    assert "does not say which province" in capsys.readouterr().err


def _resend(copy: Path, dest: Path, period: str, extra: float) -> Path:
    """The province's copy after a corrected re-send: a vintage 2 of `period` with SHARE's numerator + extra."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(copy, dest)
    os.chmod(dest, 0o644)
    con = duckdb.connect(str(dest))
    try:
        con.execute("INSERT INTO marts.publications BY NAME SELECT * REPLACE (2 AS vintage, 1 AS previous_vintage, "
                    "published_at + INTERVAL 1 DAY AS published_at) FROM marts.publications WHERE period = ? "
                    "AND vintage = 1", [period])
        con.execute("UPDATE marts.indicator_monthly SET numerator = numerator + $extra, "
                    "value = (numerator + $extra) / denominator * factor "
                    "WHERE period = $period AND indicator_code = $code AND unit_level = 'province'",
                    {"extra": extra, "period": period, "code": SHARE})
    finally:
        con.close()
    return dest


def test_a_newer_vintage_replaces_the_old_and_an_older_one_is_ignored(three, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["national", "--out", str(out), str(three["38"]), str(three["40"])]) == 0
    sql = ("SELECT numerator FROM marts.indicator_monthly WHERE period = '2023-09' AND unit_level = ? "
           "AND unit_code = ? AND indicator_id = ?")
    (before,) = rows(out, sql, ["nation", "00", SHARE])[0]
    (nghe_an,) = rows(out, sql, ["province", "40", SHARE])[0]
    august = out / "exports" / "2023-08" / "DA06_toan_quoc_2023-08.xlsx"
    written = august.stat().st_mtime_ns
    resent = _resend(three["40"], tmp_path / "resent" / "p06_published.duckdb", "2023-09", 1000.0)
    assert cli.main(["national", "--out", str(out), str(resent)]) == 0
    assert "vintage 2 replaces vintage 1" in capsys.readouterr().out
    # the month's documents are written again, the other months' (unchanged) are not
    sheet = openpyxl.load_workbook(out / "exports" / "2023-09" / "DA06_toan_quoc_2023-09.xlsx")[texts.load().workbook.nation_sheet]
    header, *body = sheet.iter_rows(values_only=True)
    assert next(r for r in body if r[header.index("Mã chỉ tiêu")] == SHARE)[header.index("Tử số")] == pytest.approx(before + 1000)
    assert august.stat().st_mtime_ns == written
    assert rows(out, sql, ["province", "40", SHARE])[0][0] == pytest.approx(nghe_an + 1000)
    assert rows(out, sql, ["nation", "00", SHARE])[0][0] == pytest.approx(before + 1000)
    assert rows(out, "SELECT vintage, copy_sha256 FROM marts.province_publications WHERE province_code = '40' "
                     "AND period = '2023-09'") == [(2, copies.sha256(resent))]
    # the old copy sent again: its 2023-09 is older than held and ignored, the held vintage stays
    assert cli.main(["national", "--out", str(out), str(three["40"])]) == 0
    assert "vintage 1 is older than vintage 2 held" in capsys.readouterr().out
    assert rows(out, sql, ["nation", "00", SHARE])[0][0] == pytest.approx(before + 1000)
    history = rows(out, "SELECT vintage, status FROM marts.province_publications_history WHERE province_code = '40' "
                        "AND period = '2023-09' ORDER BY received_at")
    assert history == [(1, "replaced"), (2, "in_use"), (1, "older_ignored")]


def test_the_copy_is_read_without_changing_it(three):
    digest = copies.sha256(three["38"])
    copy = copies.read(three["38"])
    assert copy.province_code == "38" and sorted(copy.months) == ["2023-08", "2023-09"]
    assert copies.sha256(three["38"]) == digest == copy.sha256


def test_a_failed_receipt_leaves_the_national_warehouse_as_it_was(three, tmp_path):
    """A failed build leaves the national warehouse as it was (one transaction)."""
    con = store.connect(tmp_path)
    try:
        store.receive(con, [three["38"]])
        (held,) = con.execute("SELECT count(*) FROM received.province_rows").fetchone()
        with pytest.raises(Exception):
            store.receive(con, [three["40"]], received_at="not a time")
        assert con.execute("SELECT count(*) FROM received.province_rows").fetchone() == (held,)
    finally:
        con.close()


def test_a_reader_of_the_national_warehouse_never_waits_for_a_build(three, tmp_path):
    """The build writes a new file aside and renames it over the old: a reader keeps its version, the next one
    opens the new."""
    out = tmp_path / "out"
    assert cli.main(["national", "--out", str(out), str(three["38"])]) == 0
    reader = duckdb.connect(str(out / "p06_national.duckdb"), read_only=True)
    try:
        assert cli.main(["national", "--out", str(out), str(three["40"])]) == 0
        assert reader.execute("SELECT count(DISTINCT province_code) FROM marts.province_publications").fetchone() == (1,)
    finally:
        reader.close()
    assert rows(out, "SELECT count(DISTINCT province_code) FROM marts.province_publications") == [(2,)]
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".p06_national")) == []


def test_the_word_report_states_the_provinces_and_ranks_them(national):
    import docx

    from p06.wording import so
    document = docx.Document(national / "exports" / "2023-09" / "bao_cao_DA06_toan_quoc_2023-09.docx")
    text = "\n".join(p.text for p in document.paragraphs)
    assert "3/34 tỉnh" in text and "tháng 9/2023" in text
    missing = text.split("chưa nhận số liệu tháng 9/2023 của ")[1].split("\n")[0].rstrip(".").split(", ")
    assert len(missing) == 31 and "Tỉnh Nghệ An" not in missing
    figures, *rankings, publications = document.tables[1:-1]
    (value,), = rows(national, "SELECT value FROM marts.indicator_monthly WHERE period = "
                               "'2023-09' AND unit_level = 'nation' AND indicator_id = 'VAX_PERSONS'")
    assert any(r.cells[2].text == so(value) for r in figures.rows)
    ranked = [[c.text for c in r.cells] for r in rankings[0].rows[1:]]
    assert [r[0] for r in ranked] == ["1", "2", "3"] and len(rankings) == len(marts.headline())
    received = [r.cells[1].text for r in publications.rows[1:] if r.cells[2].text == "1"]
    assert received == ["Tỉnh Ninh Bình", "Tỉnh Thanh Hóa", "Tỉnh Nghệ An"]


# The contract with the national dashboard (branch `dash`): tables, columns and types it reads.
CONTRACT = {
    "indicator_monthly": {"period": "VARCHAR", "indicator_id": "VARCHAR", "unit_level": "VARCHAR",
                          "unit_code": "VARCHAR", "unit_name": "VARCHAR", "numerator": "DOUBLE",
                          "denominator": "DOUBLE", "value": "DOUBLE", "target": "DOUBLE", "quality": "VARCHAR",
                          "provinces_reporting": "INTEGER", "provinces_expected": "INTEGER",
                          "missing_provinces": "VARCHAR", "vintage": "INTEGER", "previous_value": "DOUBLE"},
    "province_publications": {"province_code": "VARCHAR", "province_name": "VARCHAR", "period": "VARCHAR",
                              "vintage": "INTEGER", "published_at": "TIMESTAMP", "copy_sha256": "VARCHAR",
                              "received_at": "TIMESTAMP"},
    "province_ranking": {"period": "VARCHAR", "indicator_id": "VARCHAR", "province_code": "VARCHAR",
                         "province_name": "VARCHAR", "value": "DOUBLE", "rank": "INTEGER"},
    "national_build": {"built_at": "TIMESTAMP", "provinces": "INTEGER", "copies": "VARCHAR"},
}


def test_the_national_warehouse_keeps_the_contract_and_describes_every_column(national):
    found = {}
    for table, column, kind, comment in rows(national, "SELECT table_name, column_name, data_type, comment FROM "
                                                       "duckdb_columns() WHERE schema_name = 'marts'"):
        found[(table, column)] = kind
        assert comment, f"marts.{table}.{column} has no comment (catalog/national_dictionary.yaml)"
    for table, columns in CONTRACT.items():
        for column, kind in columns.items():
            assert found.get((table, column)) == kind, (table, column)
    levels = rows(national, "SELECT DISTINCT unit_level, quality FROM marts.indicator_monthly ORDER BY ALL")
    assert {lv for lv, _ in levels} == {"nation", "province"} and {q for _, q in levels} <= {"complete", "partial"}


def test_the_same_vintage_published_at_another_time_is_refused(three, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["national", "--out", str(out), str(three["40"])]) == 0
    other = tmp_path / "other" / "p06_published.duckdb"
    other.parent.mkdir()
    shutil.copyfile(three["40"], other)
    os.chmod(other, 0o644)
    con = duckdb.connect(str(other))
    con.execute("UPDATE marts.publications SET published_at = published_at + INTERVAL 1 HOUR WHERE period = '2023-09'")
    con.close()
    assert cli.main(["national", "--out", str(out), str(other)]) == 0
    assert "two warehouses of one province?" in capsys.readouterr().out
    assert rows(out, "SELECT copy_sha256 FROM marts.province_publications WHERE province_code = '40' "
                     "AND period = '2023-09'") == [(copies.sha256(three["40"]),)]


@pytest.mark.skipif(not shutil.which("soffice") or not shutil.which("pdftotext"), reason="LibreOffice and poppler")
def test_the_word_report_as_printed(national, tmp_path):
    """Rendered by LibreOffice as a reader would print it: A4, the letterhead, the figures and the 34 provinces."""
    import subprocess
    source = national / "exports" / "2023-09" / "bao_cao_DA06_toan_quoc_2023-09.docx"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(source)], check=True, capture_output=True, timeout=240)
    pdf = tmp_path / "bao_cao_DA06_toan_quoc_2023-09.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert "(A4)" in info and "595.3" in info and "Title:           Tổng hợp" in info     # A4 portrait
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "BÁO CÁO" in text and "3/34" in text
    assert "Tỉnh Cà Mau" in text and "Chưa nhận" in text and "TỔ TRƯỞNG" in text


def test_p06_national_writes_the_national_dashboard_from_its_warehouse(national):
    """`p06 national` ends by writing the nation's dashboard; the page embeds the national figures it read."""
    page = (national / "exports" / "dashboard.html").read_text(encoding="utf-8")
    names = [n for (n,) in rows(national, "SELECT DISTINCT unit_name FROM marts.indicator_monthly WHERE unit_level = 'province'")]
    assert len(names) == 3 and all(n in page for n in names)
    assert "<script src=\"http" not in page
