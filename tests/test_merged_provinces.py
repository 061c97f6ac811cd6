"""A merged province's months before its merger (Resolution 202/2025/QH15): each old province's file is read by
that old province's units of its month, told apart by its title, total row and units; its total row is
reconciled against its own units; the province's figures are the sums over its old provinces, each old province
a level of its own; a missing old province's file makes the month partial, named.

Deliveries come from the generator tests/merged_provinces.py (Ninh Bình 37 = Hà Nam 35 + Nam Định 36 + Ninh
Bình 37, from the units reference) and from the Tuyên Quang samples (tests/fixtures/merged_tuyen_quang, with
MANIFEST.json's figures).
"""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from merged_provinces import Plant, build

from p06 import catalog, reference, staging
from p06.ingest.reader import read_file
from p06.reconcile import engine

FIXTURE = Path(__file__).parent / "fixtures" / "merged_tuyen_quang"
MANIFEST = json.loads((FIXTURE / "MANIFEST.json").read_text(encoding="utf-8"))
MONTHS = ["2025-05", "2025-06"]
PLANTS = [Plant("total", "2025-06", "tre_em", "36", "children", 50.0),
          Plant("ratio", "2025-06", "nguoi_co_cong", "35", "merit_cleaned_ratio", 3.0)]


def _old_of(read) -> set:
    return {o["old_province"] for o in read.observations}


def _unit_sums(read) -> dict[str, float]:
    out: dict[str, float] = {}
    for o in read.observations:
        if not o["stated"] and o["unit_kind"] not in ("province", "subtotal") and o["value"] is not None:
            out[o["measure"]] = out.get(o["measure"], 0.0) + o["value"]
    return out


@pytest.fixture
def ninh_binh(monkeypatch, tmp_path):
    monkeypatch.setenv("P06_PROVINCE", "37")
    raw = tmp_path / "raw"
    return raw, build(raw, "37", MONTHS, plants=PLANTS, leave_out={("2025-05", "tre_em", "36")})


def test_the_mergers_come_from_the_reference():
    assert [p.name_vi for p in reference.old_provinces("37", reference.date(2024, 7, 15))] == [
        "Tỉnh Hà Nam", "Tỉnh Nam Định", "Tỉnh Ninh Bình"]
    assert [p.unit_code for p in reference.old_provinces("08", reference.date(2025, 6, 30))] == ["02", "08"]
    assert reference.old_provinces("08", reference.date(2025, 7, 1)) == []
    assert reference.old_provinces("38", reference.date(2024, 7, 15)) == []          # not merged


def test_every_generated_file_is_read_by_its_old_provinces_units(ninh_binh):
    raw, built = ninh_binh
    assert len(built.files) == 2 * 2 * 3 - 1
    for path in built.files:
        month, source = path.parent.parent.name, path.parent.name
        read = read_file(path, catalog.sources()[source], month)
        assert not read.problems, [str(p) for p in read.problems]
        (old,) = _old_of(read)
        units = [o["unit_code"] for o in read.observations if o["unit_kind"] == "district"
                 and o["measure"] == SOURCE_FIRST[source]]
        assert units == built.units[(month, source, old)]
        totals = {o["unit_code"] for o in read.observations if o["unit_kind"] == "province"}
        assert totals == {old}
        assert _unit_sums(read) == pytest.approx(built.old_sums[(month, source, old)])


SOURCE_FIRST = {"tre_em": "children", "nguoi_co_cong": "merit_to_review"}


def test_planted_inconsistencies_are_found_in_their_old_provinces_file(ninh_binh):
    raw, built = ninh_binh
    for plant in built.plants:
        (path,) = [p for p in built.files if p.parent.parent.name == plant.month and p.parent.name == plant.source
                   and f"_{plant.old}_" in p.name]
        findings = _findings(read_file(path, catalog.sources()[plant.source], plant.month), plant.source, plant.month)
        rows = findings.filter(findings["rule_kind"] == ("stated_total" if plant.kind == "total" else "stated_ratio"))
        assert rows.height == 1, rows
        row = rows.row(0, named=True)
        if plant.kind == "total":
            assert (row["unit_code"], row["measure"]) == (plant.old, plant.measure)
            assert row["actual"] - row["expected"] == pytest.approx(plant.delta)
        else:
            assert (row["unit_code"], row["measure"]) == (plant.unit_code, plant.measure)


def _findings(read, source: str, month: str) -> pl.DataFrame:
    """The reconciliation findings of one read file, as `p06 check` gives them."""
    frame = pl.DataFrame(read.observations, schema=staging.read_schema()).with_columns(
        period=pl.lit(month), source=pl.lit(source), delivery_id=pl.lit(1, pl.Int64))
    return engine.check_delivery(frame).findings


def _sheet(path: Path, title: str, names: list[str], total: str) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in ([title], ["(Số liệu tính đến ngày 15/6/2025)"], ["STT", "Huyện/thị xã/thành phố", "Tổng số trẻ em",
              "Số trẻ em đã cập nhật, chuẩn hóa"]):
        ws.append(r)
    for i, name in enumerate(names, 1):
        ws.append([i, name, 1000 + i, 900 + i])
    ws.append([None, total, sum(1000 + i for i in range(1, len(names) + 1)),
               sum(900 + i for i in range(1, len(names) + 1))])
    wb.save(path)
    return path


def test_whose_file_it_is_is_decided_from_title_total_row_and_units_together(tmp_path, monkeypatch):
    monkeypatch.setenv("P06_PROVINCE", "37")
    day = reference.date(2025, 6, 15)
    nam_dinh = [u.name_vi for u in reference.units("district", "36", day)]
    ha_nam = [u.name_vi for u in reference.units("district", "35", day)]
    tre_em = catalog.sources()["tre_em"]
    # no title, a plain total row: the units fit one old province only
    read = read_file(_sheet(tmp_path / "a.xlsx", "SỞ Y TẾ", nam_dinh, "Tổng cộng"), tre_em, "2025-06")
    assert not read.problems and _old_of(read) == {"36"}
    # the title names Hà Nam, the units are Nam Định's: refused naming both
    read = read_file(_sheet(tmp_path / "b.xlsx", "SỞ Y TẾ TỈNH HÀ NAM", nam_dinh, "Tổng cộng"), tre_em, "2025-06")
    problem = read.problems[0]
    assert "Tỉnh Hà Nam" in problem.message and "Tỉnh Nam Định" in problem.message
    # the title names one old province, the total row another: refused naming both
    read = read_file(_sheet(tmp_path / "c.xlsx", "SỞ Y TẾ TỈNH HÀ NAM", ha_nam, "Toàn tỉnh Nam Định"), tre_em, "2025-06")
    problem = read.problems[0]
    assert "more than one" in problem.message and "Tỉnh Hà Nam" in problem.message and "Tỉnh Nam Định" in problem.message
    # nothing names a province and the units are of two: refused naming the candidates
    read = read_file(_sheet(tmp_path / "d.xlsx", "SỞ Y TẾ", ha_nam[:2] + nam_dinh[:2], "Tổng cộng"), tre_em, "2025-06")
    assert read.problems and "Tỉnh Hà Nam" in read.problems[0].message and "Tỉnh Nam Định" in read.problems[0].message
    # after the merger the same title is the new province's: no old province
    assert reference.old_provinces("37", reference.date(2025, 7, 15)) == []


MANIFEST_MEASURES = {"vneid.cccd_applications": ("vneid", "chip_id_applications"),
                     "vneid.eid_target": ("vneid", "eid_target"), "vneid.eid_activated": ("vneid", "eid_activated"),
                     "bhxh.participants": ("bhxh", "participants"), "bhxh.verified": ("bhxh", "participants_verified"),
                     "thue.tin_total": ("thue", "tax_ids_to_review"), "thue.tin_matched": ("thue", "tax_ids_matched"),
                     "hotich.birth": ("ho_tich", "civil_entered_birth"), "treem.total": ("tre_em", "children"),
                     "treem.updated": ("tre_em", "children_updated"), "ncc.total": ("nguoi_co_cong", "merit_to_review"),
                     "ncc.cleaned": ("nguoi_co_cong", "merit_cleaned")}


def test_tuyen_quang_june_files_are_each_their_old_provinces_and_sum_to_the_manifest(monkeypatch):
    """Every June file of the samples is read by its own old province's districts (Hà Giang 11, Tuyên Quang 7);
    each old province's unit sums are the manifest's, and the two add up to the province's."""
    monkeypatch.setenv("P06_PROVINCE", MANIFEST["province"])
    sums: dict[str, dict[str, float]] = {}
    for source in sorted({s for s, _ in MANIFEST_MEASURES.values()}):
        for path in sorted((FIXTURE / "raw" / "2025-06" / source).iterdir()):
            read = read_file(path, catalog.sources()[source], "2025-06")
            assert not read.problems, [str(p) for p in read.problems]
            (old,) = _old_of(read)
            assert old == ("02" if path.name.startswith("HaGiang") else "08")
            for m, v in _unit_sums(read).items():
                sums.setdefault(old, {})[m] = sums.get(old, {}).get(m, 0.0) + v
    for key, (source, measure) in MANIFEST_MEASURES.items():
        for old, expected in MANIFEST["old_provinces"].items():
            assert sums[old][measure] == expected["totals"]["2025-06"][key], (old, key)
        assert sums["02"][measure] + sums["08"][measure] == MANIFEST["expected_province"]["2025-06"][key], key


# ---------------------------------------------------------------- the whole run: `p06 run` with P06_PROVINCE=37

INDICATORS = {"tre_em": ("CHILDREN_UPDATED_SHARE", "children_updated", "children"),
              "nguoi_co_cong": ("MERIT_CLEANED_SHARE", "merit_cleaned", "merit_to_review")}


@pytest.fixture(scope="module")
def ninh_binh_run(tmp_path_factory):
    """Two months of Ninh Bình's old provinces' files (Nam Định's tre_em of 2025-05 left out), run as `p06 run`."""
    from conftest import landing_env

    from pipelines import cli
    base = tmp_path_factory.mktemp("ninh_binh")
    mp = pytest.MonkeyPatch()
    mp.setenv("P06_PROVINCE", "37")
    built = build(base / "raw", "37", MONTHS, plants=PLANTS, leave_out={("2025-05", "tre_em", "36")})
    try:
        with landing_env(base / "raw", base / "warehouse") as env:
            code = cli.main(["run"])
            con = duckdb.connect(str(env["warehouse"] / "p06_published.duckdb"), read_only=True)
            try:
                monthly = con.sql("SELECT * FROM marts.indicator_monthly").pl()
                findings = con.sql("SELECT * FROM marts.reconciliation_findings").pl()
            finally:
                con.close()
            report = (env["warehouse"] / "exports" / "2025-05" / "bao_cao_DA06_2025-05.md").read_text(encoding="utf-8")
            yield code, built, monthly, findings, report
    finally:
        mp.undo()


def test_the_run_exits_0(ninh_binh_run):
    code, *_ = ninh_binh_run
    assert code == 0


def test_province_and_old_province_figures_are_sums_of_unit_rows(ninh_binh_run):
    _, built, monthly, _, _ = ninh_binh_run
    for (month, source, old), sums in built.old_sums.items():
        code, num, den = INDICATORS[source]
        rows = monthly.filter((pl.col("period") == month) & (pl.col("indicator_code") == code))
        (mine,) = rows.filter((pl.col("unit_level") == "old_province") & (pl.col("unit_code") == old)).iter_rows(named=True)
        assert (mine["numerator"], mine["denominator"]) == (sums[num], sums[den])
        assert mine["unit_name"] == reference.province_name(old, reference.date(2025, 6, 30))
        (province,) = rows.filter(pl.col("unit_level") == "province").iter_rows(named=True)
        assert province["numerator"] == built.province_sum(month, source, num)
        assert province["denominator"] == built.province_sum(month, source, den)
        units = rows.filter(pl.col("unit_level") == "district")
        assert units["numerator"].sum() == province["numerator"]


def test_a_missing_old_province_file_makes_the_month_partial_and_is_named(ninh_binh_run):
    _, built, monthly, findings, report = ninh_binh_run
    (province,) = monthly.filter((pl.col("period") == "2025-05") & (pl.col("indicator_code") == "CHILDREN_UPDATED_SHARE")
                                 & (pl.col("unit_level") == "province")).iter_rows(named=True)
    assert province["quality"] == "partial"
    assert province["units_reporting"] < province["units_expected"]
    assert set(monthly.filter((pl.col("period") == "2025-05") & (pl.col("source") == "tre_em")
                              & (pl.col("unit_level") == "old_province"))["unit_code"]) == {"35", "37"}
    named = findings.filter((pl.col("period") == "2025-05") & (pl.col("source") == "tre_em")
                            & (pl.col("unit_code") == "36"))
    assert named.height == 1 and "No delivery from Nam Định" in named["message_en"][0]
    assert "chưa nhận được đủ số liệu của Nam Định" in report


def test_planted_inconsistencies_are_findings_of_the_run(ninh_binh_run):
    _, built, _, findings, _ = ninh_binh_run
    for plant in built.plants:
        unit = plant.old if plant.kind == "total" else plant.unit_code
        rows = findings.filter((pl.col("period") == plant.month) & (pl.col("source") == plant.source)
                               & (pl.col("unit_code") == unit) & (pl.col("measure") == plant.measure))
        assert rows.height == 1, (plant, rows)
    assert findings.filter(pl.col("rule_id").is_in(["stated_total", "stated_ratio"])).height == len(built.plants)


# ---------------------------------------------------------------- the Tuyên Quang samples, run whole

TQ_FIGURES = {"CCCD_CHIP_APPLICATIONS": ("vneid.cccd_applications", None),
              "EID_ACTIVATED_VS_TARGET": ("vneid.eid_activated", "vneid.eid_target"),
              "BHXH_VERIFIED_SHARE": ("bhxh.verified", "bhxh.participants"),
              "HI_LOOKUPS_OK_SHARE": ("kcb.lookups_ok", "kcb.lookups"),
              "TAX_IDS_MATCHED_SHARE": ("thue.tin_matched", "thue.tin_total"),
              "CHILDREN_UPDATED_SHARE": ("treem.updated", "treem.total")}


@pytest.fixture(scope="module")
def tuyen_quang_run(tmp_path_factory):
    """`p06 run` with P06_PROVINCE=08 over the samples: June by two old provinces' files per source, July by the
    new communes."""
    import shutil

    from conftest import landing_env

    from pipelines import cli
    base = tmp_path_factory.mktemp("tuyen_quang")
    shutil.copytree(FIXTURE / "raw", base / "raw")
    mp = pytest.MonkeyPatch()
    mp.setenv("P06_PROVINCE", MANIFEST["province"])
    try:
        with landing_env(base / "raw", base / "warehouse") as env:
            code = cli.main(["run"])
            con = duckdb.connect(str(env["warehouse"] / "p06_published.duckdb"), read_only=True)
            try:
                yield code, con.sql("SELECT * FROM marts.indicator_monthly").pl(), \
                    con.sql("SELECT * FROM marts.reconciliation_findings").pl(), \
                    con.sql("SELECT * FROM marts.public_services_monthly").pl()
            finally:
                con.close()
    finally:
        mp.undo()


def test_tuyen_quang_run_publishes_the_manifests_figures(tuyen_quang_run):
    code, monthly, findings, _ = tuyen_quang_run
    assert code == 0
    for indicator, (num, den) in TQ_FIGURES.items():
        rows = monthly.filter(pl.col("indicator_code") == indicator)
        for month in ("2025-06", "2025-07"):
            (row,) = rows.filter((pl.col("period") == month) & (pl.col("unit_level") == "province")).iter_rows(named=True)
            assert row["numerator"] == MANIFEST["expected_province"][month][num], (indicator, month)
            if den:
                assert row["denominator"] == MANIFEST["expected_province"][month][den], (indicator, month)
        for old, expected in MANIFEST["old_provinces"].items():
            (row,) = rows.filter((pl.col("period") == "2025-06") & (pl.col("unit_level") == "old_province")
                                 & (pl.col("unit_code") == old)).iter_rows(named=True)
            assert row["numerator"] == expected["totals"]["2025-06"][num], (indicator, old)
        (july,) = rows.filter((pl.col("period") == "2025-07") & (pl.col("unit_level") == "province")).iter_rows(named=True)
        june = rows.filter((pl.col("period") == "2025-06") & (pl.col("unit_level") == "province"))["value"][0]
        assert july["previous_value"] == june and "Hà Giang, Tuyên Quang" in july["comparison_note"]
    # no district or commune of July is paired with a unit of June, and the old provinces end with the merger;
    # a public service (the same national service) is compared with its June sum over the old provinces, and
    # says so
    july = monthly.filter((pl.col("period") == "2025-07") & pl.col("previous_value").is_not_null())
    assert set(july["unit_level"]) == {"province", "service"}
    assert july["comparison_note"].str.contains("Hà Giang, Tuyên Quang").all()
    assert monthly.filter((pl.col("period") == "2025-07") & (pl.col("unit_level") == "old_province")).is_empty()


def test_tuyen_quang_run_finds_the_manifests_inconsistencies_and_no_other_of_the_totals(tuyen_quang_run):
    _, _, findings, _ = tuyen_quang_run
    totals = findings.filter(pl.col("rule_id").is_in(["stated_total", "stated_ratio"]))
    assert sorted(zip(totals["period"], totals["unit_code"], totals["measure"])) == [
        ("2025-06", "02", "eid_activated"), ("2025-07", "01153", "participants_verified_ratio")]
    (row,) = totals.filter(pl.col("unit_code") == "02").iter_rows(named=True)
    assert (row["actual"], row["expected"]) == (601758, 601678)
    assert findings.filter((pl.col("rule_id") == "completeness.units") & (pl.col("period") == "2025-06")).is_empty()


# ---------------------------------------------------------------- reused codes across months

def test_a_period_keeps_a_reused_code_s_two_units_apart(monkeypatch):
    """Code 14758 was Phường Đông Thọ until 30/06/2025 and is Phường Hàm Rồng since: the year 2025 sums neither
    into the other (marts.indicator_period groups a unit by its code AND validity)."""
    from p06.publish import indicators, period_marts
    monkeypatch.setenv("P06_PROVINCE", "38")
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute(indicators.DDL)
    base = dict(unit_level="commune", unit_code="14758", indicator_code="CHILDREN_UPDATED_SHARE",
                indicator_name_vi="x", indicator_name_en="x", utility_group=4, source="tre_em", factor=100.0,
                decimals=1, unit_vi="%", basis="unit_row", quality="ok")
    rows = [dict(base, period="2025-06", unit_name="Phường Đông Thọ", numerator=90.0, denominator=100.0, value=90.0),
            dict(base, period="2025-07", unit_name="Phường Hàm Rồng", numerator=450.0, denominator=500.0, value=90.0)]
    frame = pl.DataFrame(rows)
    con.register("f", frame.to_arrow())
    con.execute(f"INSERT INTO marts.indicator_monthly BY NAME SELECT {', '.join(frame.columns)} FROM f")
    year = period_marts.compute(con, "2025").filter(pl.col("unit_code") == "14758")
    assert sorted(zip(year["unit_name"], year["month_used"], year["denominator"])) == [
        ("Phường Hàm Rồng", "2025-07", 500.0), ("Phường Đông Thọ", "2025-06", 100.0)]


def test_tuyen_quang_june_services_add_up_both_old_provinces_files(tuyen_quang_run, monkeypatch):
    """Both June files list every public service, each with its own dossiers: the province's are the two added
    service by service."""
    _, _, _, services = tuyen_quang_run
    monkeypatch.setenv("P06_PROVINCE", MANIFEST["province"])
    expected: dict[str, float] = {}
    for path in sorted((FIXTURE / "raw" / "2025-06" / "dvc").iterdir()):
        read = read_file(path, catalog.sources()["dvc"], "2025-06")
        assert not read.problems and len(_old_of(read)) == 1
        for o in read.observations:
            if o["measure"] == "dvc_dossiers_total" and o["unit_kind"] == "service" and o["value"] is not None:
                expected[o["unit_code"]] = expected.get(o["unit_code"], 0.0) + o["value"]
    june = services.filter(pl.col("period") == "2025-06")
    published = {r["service_code"]: r["dossiers_total"] for r in june.iter_rows(named=True)
                 if r["dossiers_total"] is not None}
    assert published == expected and len(published) > 20
