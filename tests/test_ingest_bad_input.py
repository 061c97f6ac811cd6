"""Bad deliveries are rejected with a message a department can act on, and never touch the last good load.

Each bad file is a sample workbook edited with openpyxl (or cut short), dropped into the landing
zone as a newer re-send of a month that already loaded.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import openpyxl
import pytest
from conftest import copy_samples, make_newer, sample_file, staging_rows

from p06 import catalog, warehouse
from p06.ingest.load import ingest_period, ingest_source_month

PERIOD = "2023-09"
SOURCES = catalog.sources()


def edited(good: Path, bad: Path, cells: dict[str, object], sheet: str | None = None) -> None:
    wb = openpyxl.load_workbook(good)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    for ref, value in cells.items():
        ws[ref] = value
    wb.save(bad)


def truncated(good: Path, bad: Path) -> None:
    data = good.read_bytes()
    bad.write_bytes(data[: len(data) // 2])


def corrupt_part(good: Path, bad: Path) -> None:
    """A complete zip whose sheet XML is cut in the middle."""
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            zout.writestr(name, data[: len(data) // 2] if name.startswith("xl/worksheets/") else data)


def noise_as_csv(good: Path, bad: Path) -> None:
    """Binary content under a .csv name (a workbook under a .csv name is read as the workbook it is)."""
    bad.write_bytes(bytes(range(256)) * 8)


def without_rows(good: Path, bad: Path) -> None:
    """The header kept, every row below it deleted (the blank template sent back)."""
    wb = openpyxl.load_workbook(good)
    ws = wb.worksheets[0]
    ws.delete_rows(7, ws.max_row)
    wb.save(bad)


def blank_column(good: Path, bad: Path, column: str, rows: range) -> None:
    edited(good, bad, {f"{column}{r}": None for r in rows})


def empty(good: Path, bad: Path) -> None:
    bad.write_bytes(b"")


def csv_edited(good: Path, bad: Path, line: int, field: int, value: str) -> None:
    lines = good.read_text(encoding="utf-8-sig").splitlines()
    cells = lines[line - 1].split(";")
    cells[field] = value
    lines[line - 1] = ";".join(cells)
    bad.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")


@dataclass
class Case:
    source: str
    make: Callable[[Path, Path], None]
    suffix: str
    sheet: str | None
    row: int | None
    column: str | None
    says: tuple[str, ...]          # texts the message must contain
    expects: str                   # text the expectation must contain


CASES = {
    "truncated-xlsx": Case("vneid", truncated, ".xlsx", None, None, None, ("truncated",), "complete .xlsx"),
    "corrupt-xml-part": Case("vneid", corrupt_part, ".xlsx", None, None, None, ("not a valid .xlsx",), "complete .xlsx"),
    "binary-named-csv": Case("thue", noise_as_csv, ".csv", None, None, None, ("neither a workbook nor a text file",), ".csv file"),
    "empty-file": Case("vneid", empty, ".xlsx", None, None, None, ("empty",), ".xlsx workbook"),
    "text-in-a-count": Case("vneid", lambda g, b: edited(g, b, {"C12": "đang cập nhật"}), ".xlsx",
                            "TongHop", 12, "C", ("'đang cập nhật' is not a number",), "a count"),
    "negative-count": Case("vneid", lambda g, b: edited(g, b, {"D15": -5}), ".xlsx",
                           "TongHop", 15, "D", ("negative figure -5", "Ngọc Lặc"), "zero or more"),
    "unknown-unit": Case("vneid", lambda g, b: edited(g, b, {"B20": "Huyện Thanh Sơn"}), ".xlsx",
                         "TongHop", 20, "B", ("Huyện Thanh Sơn", "is a unit of Tỉnh Phú Thọ, not of Tỉnh Thanh Hóa"),
                         "27 district units"),
    "same-unit-twice": Case("vneid", lambda g, b: edited(g, b, {"B21": "H. Yên Định"}), ".xlsx",
                            "TongHop", 21, "B", ("Huyện Yên Định (394) is listed twice, in rows 20 and 21",), "each unit once"),
    "required-column-missing": Case("tre_em", lambda g, b: edited(g, b, {"C5": None}), ".xlsx",
                                    "Dữ liệu trẻ em", 5, None, ("required column 'Tổng số trẻ em' not found",),
                                    "'Tổng số trẻ em'"),
    "as-of-date-of-another-month": Case("vneid", lambda g, b: edited(g, b, {"A3": "(Số liệu tính đến ngày 15/8/2023)"}),
                                        ".xlsx", "TongHop", 3, "A", ("as of 15/08/2023, which is not in 2023-09",),
                                        "an as-of date in 2023-09"),
    "as-of-date-until-another-month": Case(
        "vneid", lambda g, b: edited(g, b, {"A3": "(Số liệu tính đến hết ngày 15/8/2023)"}), ".xlsx", "TongHop", 3, "A",
        ("as of 15/08/2023, which is not in 2023-09",), "an as-of date in 2023-09"),
    "table-without-rows": Case("vneid", without_rows, ".xlsx", "TongHop", 7, None, ("no rows",), "one row per unit"),
    "required-column-blank": Case("tre_em", lambda g, b: blank_column(g, b, "C", range(6, 34)), ".xlsx",
                                  "Dữ liệu trẻ em", 6, "C", ("'Tổng số trẻ em'", "blank in every row"), "figures"),
    "fractional-count": Case("vneid", lambda g, b: edited(g, b, {"E9": 68.414}), ".xlsx",
                             "TongHop", 9, "E", ("68.414", "not a whole number"), "a count"),
    "csv-text-in-a-count": Case("thue", lambda g, b: csv_edited(g, b, 3, 3, "đang cập nhật"), ".csv",
                                "rasoat_mst_canhan_202309_v2", 3, "D", ("'đang cập nhật' is not a number",), "a count"),
}


@pytest.fixture
def month_loaded(tmp_path):
    """Sept 2023 in a fresh landing zone; returns (raw, db, load) where load(source) loads that source alone."""
    raw = copy_samples(tmp_path, months=(PERIOD,))
    db = tmp_path / "w.duckdb"

    def load(source: str) -> None:
        with warehouse.connect(db) as con:
            assert ingest_source_month(con, raw, SOURCES[source], PERIOD).status == "loaded"
    return raw, db, load


def drop_resend(raw: Path, case: Case) -> Path:
    good = sample_file(raw, PERIOD, case.source)
    bad = good.with_name(good.stem + "_v2" + case.suffix)
    case.make(good, bad)
    make_newer(bad, good)
    return bad


@pytest.mark.parametrize("name", CASES)
def test_bad_resend_is_rejected_and_the_last_good_load_stays(month_loaded, name):
    case = CASES[name]
    raw, db, load = month_loaded
    load(case.source)
    with warehouse.connect(db) as con:
        before = staging_rows(con, case.source, PERIOD)
    bad = drop_resend(raw, case)

    with warehouse.connect(db) as con:
        results = {r.source: r for r in ingest_period(con, raw, PERIOD)}
        after = staging_rows(con, case.source, PERIOD)
        records = con.execute(
            "SELECT file_name, status, message FROM raw.deliveries WHERE source = ? AND file_name = ?",
            [case.source, bad.name]).fetchall()

    result = results.pop(case.source)
    assert result.status == "rejected" and result.rejected
    problem = next(p for p in result.problems if all(text in p.message for text in case.says))
    assert (problem.file, problem.sheet, problem.row, problem.column) == (bad.name, case.sheet, case.row, case.column)
    assert case.expects in problem.expected
    text = str(problem)
    assert text.startswith(bad.name) and f"expected {problem.expected}" in text
    if case.row is not None:
        assert f"sheet '{case.sheet}', row {case.row}" in text
    if case.column:
        assert f"column {case.column}" in text

    assert [(f, s) for f, s, _ in records] == [(bad.name, "rejected")]
    assert text in records[0][2]
    assert after == before and len(before) > 0, "the previous good load is untouched"
    assert {s: r.status for s, r in results.items()} == {s: "loaded" for s in SOURCES if s != case.source}


def test_rejected_month_stays_rejected_until_a_new_file_comes(month_loaded):
    raw, db, load = month_loaded
    load("vneid")
    drop_resend(raw, CASES["text-in-a-count"])
    with warehouse.connect(db) as con:
        first = ingest_source_month(con, raw, SOURCES["vneid"], PERIOD)
        again = ingest_source_month(con, raw, SOURCES["vneid"], PERIOD)
    assert first.status == "rejected"
    assert again.status == "unchanged" and again.rejected
    assert "'đang cập nhật' is not a number" in again.message


def test_corrected_resend_loads_and_supersedes_the_older_files(month_loaded):
    raw, db, load = month_loaded
    load("vneid")
    good = sample_file(raw, PERIOD, "vneid")
    bad = drop_resend(raw, CASES["text-in-a-count"])
    with warehouse.connect(db) as con:
        assert ingest_source_month(con, raw, SOURCES["vneid"], PERIOD).status == "rejected"

    fixed = good.with_name(good.stem + "_v3.xlsx")
    edited(good, fixed, {"C12": 30349})        # the corrected figure for Quan Sơn
    make_newer(fixed, bad)
    with warehouse.connect(db) as con:
        result = ingest_source_month(con, raw, SOURCES["vneid"], PERIOD)
        latest = dict(con.execute(
            """SELECT file_name, status FROM raw.deliveries WHERE source = 'vneid' AND period = ?
               AND processed_at = (SELECT max(processed_at) FROM raw.deliveries WHERE source = 'vneid')""", [PERIOD]).fetchall())
        ever_loaded = con.execute(
            "SELECT file_name, status FROM raw.deliveries WHERE source = 'vneid' AND delivery_id = (SELECT min(delivery_id) FROM raw.deliveries)").fetchall()
        staged = con.execute(
            """SELECT o.value, d.file_name, d.status FROM staging.observations o JOIN raw.deliveries d USING (delivery_id)
               WHERE o.source = 'vneid' AND o.period = ? AND o.cell = 'C12'""", [PERIOD]).fetchall()
        files_in_use = con.execute("SELECT DISTINCT file FROM staging.observations WHERE source = 'vneid'").fetchall()

    assert result.status == "loaded" and result.files == [fixed.name]
    assert sorted(result.superseded) == sorted([bad.name, good.name])
    assert latest == {fixed.name: "loaded", bad.name: "superseded", good.name: "superseded"}
    assert ever_loaded == [(good.name, "superseded")], "the first load's record now says it was replaced"
    assert staged == [(30349.0, fixed.name, "loaded")]
    assert files_in_use == [(fixed.name,)]


def test_unreadable_resend_blames_only_itself(month_loaded):
    raw, db, load = month_loaded
    load("vneid")
    good = sample_file(raw, PERIOD, "vneid")
    bad = drop_resend(raw, CASES["truncated-xlsx"])
    with warehouse.connect(db) as con:
        result = ingest_source_month(con, raw, SOURCES["vneid"], PERIOD)
        messages = dict(con.execute(
            """SELECT file_name, message FROM raw.deliveries WHERE source = 'vneid'
               AND processed_at = (SELECT max(processed_at) FROM raw.deliveries)""").fetchall())
    assert result.status == "rejected"
    assert "truncated" in messages[bad.name]
    assert "truncated" not in messages[good.name] and "another file" in messages[good.name]


def resend_first_bhxh_sheet(good: Path, **cells) -> Path:
    """A later e-mail carrying only the first sheet of the BHXH workbook, with some cells changed."""
    resend = good.with_name("BHXH_xac_thuc_gui_lai.xlsx")
    wb = openpyxl.load_workbook(good)
    del wb["KCB bằng CCCD"]
    for ref, value in cells.items():
        wb["Xác thực CSDL"][ref] = value
    wb.save(resend)
    make_newer(resend, good)
    return resend


def test_a_partial_resend_never_mixes_two_versions_of_a_table(month_loaded):
    """A re-send of the first sheet only, lacking a required column, must not borrow that column from the old file."""
    raw, db, load = month_loaded
    load("bhxh")
    good = sample_file(raw, PERIOD, "bhxh")
    resend = resend_first_bhxh_sheet(good, D5="Ghi chú")          # the 'verified' header lost
    with warehouse.connect(db) as con:
        before = staging_rows(con, "bhxh", PERIOD)
        result = ingest_source_month(con, raw, SOURCES["bhxh"], PERIOD)
        after = staging_rows(con, "bhxh", PERIOD)
    assert result.status == "rejected"
    (problem,) = [p for p in result.problems if "not found" in p.message]
    assert (problem.file, problem.sheet, problem.row) == (resend.name, "Xác thực CSDL", 5)
    assert "Số người đã xác thực với CSDLQG về dân cư" in problem.message
    assert after == before


def test_a_resend_of_one_sheet_keeps_the_other_sheet_of_the_older_file(month_loaded):
    raw, db, load = month_loaded
    load("bhxh")
    good = sample_file(raw, PERIOD, "bhxh")
    resend = resend_first_bhxh_sheet(good, C6="406.609")
    with warehouse.connect(db) as con:
        result = ingest_source_month(con, raw, SOURCES["bhxh"], PERIOD)
        by_sheet = dict(con.execute(
            "SELECT sheet, list(DISTINCT file) FROM staging.observations WHERE source = 'bhxh' GROUP BY 1").fetchall())
        value = con.execute("SELECT value FROM staging.observations WHERE source = 'bhxh' AND sheet = 'Xác thực CSDL' AND cell = 'C6'").fetchone()
    assert result.status == "loaded", result.message
    assert sorted(result.files) == sorted([resend.name, good.name])
    assert by_sheet == {"Xác thực CSDL": [resend.name], "KCB bằng CCCD": [good.name]}
    assert value == (406609.0,)


def test_a_reader_bug_rejects_only_that_delivery(sample_raw, tmp_path, monkeypatch):
    """An unexpected exception in the reader is recorded as a rejection; the other sources still load."""
    from p06 import catalog
    from p06.ingest import load

    real = load.read_file

    def broken(path, source, period=None):
        if source.id == "tre_em":
            raise RuntimeError("boom")
        return real(path, source, period)

    monkeypatch.setattr(load, "read_file", broken)
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        results = {r.source: r for r in load.ingest_period(con, sample_raw, "2023-09")}
        assert results["tre_em"].status == "rejected"
        message = results["tre_em"].message
        assert "internal error reading " in message and "RuntimeError: boom" in message
        assert "this is a bug in the pipeline, please report it with the file attached" in message
        assert "expected" not in message             # not phrased as something the department got wrong
        assert all(r.status == "loaded" for s, r in results.items() if s != "tre_em")
        assert con.execute("SELECT status FROM raw.deliveries WHERE source = 'tre_em'").fetchall() == [("rejected",)]
        assert len(results) == len(catalog.sources())


def test_an_unfilled_sheet_is_named_and_rejects_the_delivery(sample_raw, tmp_path):
    """One sheet of a workbook sent back as the blank template: the message names that sheet (not a
    'required column not found', the header being there), and nothing of the file loads."""
    good = sample_file(sample_raw, PERIOD, "bhxh")
    wb = openpyxl.load_workbook(good)
    wb["KCB bằng CCCD"].delete_rows(7, 40)
    wb.save(good)
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        result = ingest_source_month(con, sample_raw, SOURCES["bhxh"], PERIOD)
    assert result.status == "rejected"
    (problem,) = result.problems
    assert (problem.file, problem.sheet, problem.row) == (good.name, "KCB bằng CCCD", 7)
    assert "no rows below its header" in problem.message


def test_a_resend_may_leave_the_sheet_it_does_not_correct_blank(month_loaded):
    """A corrected first sheet sent with the second left as the blank template: the older file's second sheet stays."""
    raw, db, load = month_loaded
    load("bhxh")
    good = sample_file(raw, PERIOD, "bhxh")
    resend = good.with_name("BHXH_gui_lai.xlsx")
    wb = openpyxl.load_workbook(good)
    wb["KCB bằng CCCD"].delete_rows(7, 40)
    wb["Xác thực CSDL"]["C6"] = "406.609"
    wb.save(resend)
    make_newer(resend, good)
    with warehouse.connect(db) as con:
        result = ingest_source_month(con, raw, SOURCES["bhxh"], PERIOD)
        by_sheet = dict(con.execute(
            "SELECT sheet, list(DISTINCT file) FROM staging.observations WHERE source = 'bhxh' GROUP BY 1").fetchall())
    assert result.status == "loaded", result.message
    assert by_sheet == {"Xác thực CSDL": [resend.name], "KCB bằng CCCD": [good.name]}
