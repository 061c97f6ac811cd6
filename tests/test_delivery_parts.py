"""A delivery is a set of files: parts all loaded, re-sends superseding per table and unit, a removed file
withdrawing what it supplied, two files that cannot be ordered refused, a part's total row checked against
its own units (p06/ingest/parts.py). Loader-level, on the sample files cut into parts (tests/deliveries.py)."""
import polars as pl
from conftest import make_newer, sample_file
from deliveries import make_part

from p06 import catalog, staging, warehouse
from p06.ingest.load import ingest_source_month
from p06.reconcile import store

PERIOD = "2023-09"
VNEID = catalog.sources()["vneid"]
BHXH = catalog.sources()["bhxh"]
VNEID_RATIOS = {"TongHop": {"G": ("F", "D")}}
BHXH_RATIOS = {"Xác thực CSDL": {"E": ("D", "C")}, "KCB bằng CCCD": {"G": ("F", "E")}}


def figures(con, source: str) -> dict[tuple[str, str], tuple[float, str]]:
    """(unit_code, measure) -> (value, file) of the source-month's accepted unit rows."""
    rows = con.execute("""SELECT o.unit_code, o.measure, o.value, o.file FROM staging.observations o
                          JOIN raw.deliveries d ON d.delivery_id = o.delivery_id AND d.status = 'loaded'
                          WHERE o.source = ? AND o.period = ? AND o.unit_kind NOT IN ('province', 'subtotal')""",
                       [source, PERIOD]).fetchall()
    return {(u, m): (v, f) for u, m, v, f in rows}


def test_a_resend_of_three_units_replaces_those_units_only(sample_raw, tmp_path):
    original = sample_file(sample_raw, PERIOD, "vneid")
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        assert ingest_source_month(con, sample_raw, VNEID, PERIOD).status == "loaded"
        before = figures(con, "vneid")
        # rows 4, 7, 9: Mường Lát (384), Quan Sơn (387), Ngọc Lặc (389); chip ID applications in column C
        resend = make_part(original, original.with_name("vneid_gui_lai_3_huyen.xlsx"), units={4, 7, 9},
                           changes={("TongHop", 4, "C"): 32700, ("TongHop", 7, "C"): 30400}, ratios=VNEID_RATIOS)
        make_newer(resend, original)
        result = ingest_source_month(con, sample_raw, VNEID, PERIOD)
        after = figures(con, "vneid")
        parts = dict(((f, sheet), (n, gone, by)) for f, sheet, n, gone, by in con.execute(
            """SELECT d.file_name, p.sheet, p.units_supplied, p.units_superseded, p.superseded_by
               FROM raw.delivery_parts p JOIN raw.deliveries d USING (delivery_id) WHERE d.status = 'loaded'""").fetchall())
        totals = con.execute("SELECT DISTINCT unit_kind, unit_code FROM staging.observations WHERE source = 'vneid' "
                             "AND unit_kind IN ('province', 'subtotal')").fetchall()

    assert result.status == "loaded" and set(result.files) == {original.name, resend.name} and not result.superseded
    assert result.parts == {resend.name: "'TongHop' 3 unit(s)",
                            original.name: f"'TongHop' 24 unit(s) (3 re-sent in {resend.name})"}
    assert parts == {(original.name, "TongHop"): (24, 3, resend.name), (resend.name, "TongHop"): (3, 0, None)}
    resent = {"384", "387", "389"}
    assert after[("384", "chip_id_applications")] == (32700, resend.name)
    assert after[("387", "chip_id_applications")] == (30400, resend.name)
    assert after[("389", "chip_id_applications")] == (before[("389", "chip_id_applications")][0], resend.name)
    assert set(after) == set(before)                                   # every unit and measure still there, once
    assert {k: v for k, v in after.items() if k[0] not in resent} == {k: v for k, v in before.items() if k[0] not in resent}
    # the original's total row summed figures no longer in force: it left; the re-send's covers its 3 units
    assert totals == [("subtotal", staging.part_total_code(resend.name, "TongHop"))]


def test_a_removed_part_withdraws_what_it_supplied(sample_raw, tmp_path):
    whole = sample_file(sample_raw, PERIOD, "bhxh")
    first = make_part(whole, whole.with_name("bhxh_1_13.xlsx"), sheets=["Xác thực CSDL"], units=set(range(1, 14)),
                      ratios=BHXH_RATIOS)
    second = make_part(whole, whole.with_name("bhxh_14_27.xlsx"), sheets=["Xác thực CSDL"], units=set(range(14, 28)),
                       ratios=BHXH_RATIOS)
    clinics = make_part(whole, whole.with_name("bhxh_kcb.xlsx"), sheets=["KCB bằng CCCD"], ratios=BHXH_RATIOS)
    whole.unlink()
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        loaded = ingest_source_month(con, sample_raw, BHXH, PERIOD)
        all_parts = figures(con, "bhxh")
        second.unlink()
        result = ingest_source_month(con, sample_raw, BHXH, PERIOD)
        left = figures(con, "bhxh")
        statuses = con.execute("SELECT file_name, status FROM raw.deliveries WHERE source = 'bhxh' AND processed_at = "
                               "(SELECT max(processed_at) FROM raw.deliveries) ORDER BY ALL").fetchall()
        again = ingest_source_month(con, sample_raw, BHXH, PERIOD)

    assert loaded.status == "loaded" and len(loaded.files) == 3 and loaded.units == 27
    assert {f for _, f in all_parts.values()} == {first.name, second.name, clinics.name}
    assert result.status == "loaded" and result.withdrawn == [second.name]
    assert dict(statuses) == {first.name: "loaded", clinics.name: "loaded", second.name: "withdrawn"}
    gone = {k for k, (_, f) in all_parts.items() if f == second.name}
    assert len(gone) == 14 * 3 and set(left) == set(all_parts) - gone      # 14 districts x (2 counts, stated ratio)
    assert {k: v for k, v in all_parts.items() if k not in gone} == left
    assert again.status == "unchanged"


def test_two_files_first_seen_together_claiming_the_same_units_are_refused(sample_raw, tmp_path):
    original = sample_file(sample_raw, PERIOD, "vneid")
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        ingest_source_month(con, sample_raw, VNEID, PERIOD)
        before = figures(con, "vneid")
        one = make_part(original, original.with_name("vneid_sua_A.xlsx"), units={1, 2, 3},
                        changes={("TongHop", 2, "C"): 59000}, ratios=VNEID_RATIOS)
        other = make_part(original, original.with_name("vneid_sua_B.xlsx"), units={3, 4},
                          changes={("TongHop", 3, "C"): 104000}, ratios=VNEID_RATIOS)
        make_newer(other, one)                # a later modification time does not tell which was sent last
        result = ingest_source_month(con, sample_raw, VNEID, PERIOD)
        after = figures(con, "vneid")
        records = dict(con.execute("SELECT file_name, status FROM raw.deliveries WHERE processed_at = "
                                   "(SELECT max(processed_at) FROM raw.deliveries)").fetchall())
    assert result.status == "rejected"
    (problem,) = [p for p in result.problems if "first seen at the same time" in p.message]
    assert set(problem.file.split(", ")) == {one.name, other.name}
    assert "1 unit(s): 382" in problem.message                   # Thành phố Sầm Sơn, in both
    assert records[one.name] == records[other.name] == "rejected"
    assert after == before, "the last good load stays"


def test_parts_first_seen_together_with_different_units_load_together(sample_raw, tmp_path):
    original = sample_file(sample_raw, PERIOD, "vneid")
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        ingest_source_month(con, sample_raw, VNEID, PERIOD)
        before = figures(con, "vneid")
        a = make_part(original, original.with_name("vneid_sua_A.xlsx"), units={1, 2}, changes={("TongHop", 2, "C"): 59000},
                      ratios=VNEID_RATIOS)
        b = make_part(original, original.with_name("vneid_sua_B.xlsx"), units={3, 4}, changes={("TongHop", 3, "C"): 104000},
                      ratios=VNEID_RATIOS)
        result = ingest_source_month(con, sample_raw, VNEID, PERIOD)
        after = figures(con, "vneid")
    assert result.status == "loaded" and set(result.files) == {original.name, a.name, b.name}
    assert after[("381", "chip_id_applications")] == (59000, a.name) and after[("382", "chip_id_applications")] == (104000, b.name)
    assert after[("380", "chip_id_applications")][1] == a.name and after[("384", "chip_id_applications")][1] == b.name
    assert {k: v for k, v in after.items() if k[0] not in {"380", "381", "382", "384"}} == \
           {k: v for k, v in before.items() if k[0] not in {"380", "381", "382", "384"}}


def test_a_part_total_is_checked_against_its_own_units_only(sample_raw, tmp_path):
    whole = sample_file(sample_raw, PERIOD, "vneid")
    good = make_part(whole, whole.with_name("vneid_1_13.xlsx"), units=set(range(1, 14)), ratios=VNEID_RATIOS)
    bad = make_part(whole, whole.with_name("vneid_14_27.xlsx"), units=set(range(14, 28)), ratios=VNEID_RATIOS)
    import openpyxl
    wb = openpyxl.load_workbook(bad)
    ws = wb.active
    total = next(c.row for c in ws["B"] if c.value == "Tổng cộng")
    stated = ws.cell(total, 3).value
    ws.cell(total, 3).value = stated + 100                    # the part's own total off by 100
    wb.save(bad)
    whole.unlink()
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        assert ingest_source_month(con, sample_raw, VNEID, PERIOD).status == "loaded"
        findings = store.reconcile_period(con, PERIOD).findings.filter(
            (pl.col("source") == "vneid") & (pl.col("rule_id") == "stated_total"))
    assert findings.select("unit_code", "measure", "expected", "actual").rows() == [
        (staging.part_total_code(bad.name, "TongHop"), "chip_id_applications", float(stated), float(stated + 100))]
    assert good.name not in " ".join(findings["unit_code"])
