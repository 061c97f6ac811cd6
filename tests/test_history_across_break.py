"""Month-over-month comparisons across a change of units: a unit is compared only with the same unit; where the
units changed (districts in 2025-06, communes in 2025-07; tax offices, then tax units) the rules compare the
province figures and say the unit level was not comparable; published previous values follow the same rule."""
from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from p06 import reference
from p06.publish import indicators
from p06.reconcile import engine
from p06.reconcile.rules import load_rules

JUN, JUL = date(2025, 6, 15), date(2025, 7, 15)
HISTORY_RULES = ("stock_not_falling", "outlier.stock_change", "outlier.value")


def obs(period, as_of, source, rows):
    """rows: (unit_kind, unit_code, measure, value)."""
    return pl.DataFrame([
        dict(period=period, as_of_date=as_of, source=source, unit_kind=kind, unit_code=code, unit_name=f"U{code}",
             group_label=None, measure=measure, value=float(value), value_text=None, stated=kind == "province",
             decimals=None, file=f"{period}.xlsx", sheet="S", cell=f"C{i + 2}", delivery_id=1 if period < "2025-07" else 2)
        for i, (kind, code, measure, value) in enumerate(rows)
    ], schema=engine.OBSERVATION_SCHEMA)


def run(frames, period="2025-07"):
    rules = [r for r in load_rules() if r.id in HISTORY_RULES]
    return engine.reconcile(pl.concat(frames), period, rules, only_sources=["bhxh", "thue"])


def _bhxh(period, as_of, kind, on, per_unit):
    units = reference.units(kind, "38", on)
    rows = [(kind, u.unit_code, "participants_verified", per_unit) for u in units]
    rows += [("province", "38", "participants_verified", per_unit * len(units))]
    return obs(period, as_of, "bhxh", rows)


def test_first_commune_month_has_no_unit_level_finding_and_compares_the_province():
    # Each of the 26 districts verified 10.000 people in June; each of the 166 communes 2.000 in July: every
    # commune "fell" if compared with a district, but the province rose from 260.000 to 332.000.
    result = run([_bhxh("2025-06", JUN, "district", JUN, 10_000), _bhxh("2025-07", JUL, "commune", JUL, 2_000)])
    assert result.findings.height == 0
    items = result.items.filter((pl.col("rule_id") == "stock_not_falling") & (pl.col("measure") == "participants_verified"))
    assert items["unit_kind"].to_list() == ["province"]
    row = items.row(0, named=True)
    assert (row["lhs"], row["rhs"], row["ref_period"]) == (332_000, 260_000, "2025-06")
    assert row["detail"] == ("unit level not comparable: district units in 2025-06, commune units in 2025-07; "
                             "compared at the province level")
    outliers = result.items.filter(pl.col("rule_id") == "outlier.stock_change")
    assert set(outliers["unit_kind"]) == {"province"} and "unit level not comparable" in outliers["detail"][0]


def test_a_province_fall_across_the_break_is_found_and_says_why_the_province_was_compared():
    result = run([_bhxh("2025-06", JUN, "district", JUN, 10_000), _bhxh("2025-07", JUL, "commune", JUL, 1_000)])
    falls = result.findings.filter(pl.col("rule_id") == "stock_not_falling")
    assert falls["unit_kind"].to_list() == ["province"]
    assert falls["message_en"][0].endswith("The reporting units changed since 2025-06: compared at the province level.")


def test_a_reused_code_is_not_the_same_unit():
    # 14758 was Phường Đông Thọ until 30/06/2025 and is Phường Hàm Rồng since: a commune-level June delivery
    # (by the old communes) and July's are not comparable unit by unit, though the code is the same.
    june = obs("2025-06", JUN, "bhxh", [("commune", "14758", "participants_verified", 50_000),
                                        ("province", "38", "participants_verified", 50_000)])
    july = obs("2025-07", JUL, "bhxh", [("commune", "14758", "participants_verified", 40_000),
                                        ("commune", "14797", "participants_verified", 30_000),
                                        ("province", "38", "participants_verified", 70_000)])
    result = run([june, july])
    assert result.findings.filter(pl.col("rule_id") == "stock_not_falling").height == 0
    items = result.items.filter(pl.col("rule_id") == "stock_not_falling")
    assert items["unit_kind"].to_list() == ["province"]
    assert "commune units in 2025-06, commune units in 2025-07" in items["detail"][0]


def test_the_same_unit_across_months_is_still_compared():
    # Thành phố Thanh Hóa (380) is one unit from 2023 to 2025-06 (it took Đông Sơn on 01/01/2025).
    before = obs("2025-05", date(2025, 5, 15), "bhxh", [("district", "380", "participants_verified", 100_000),
                                                       ("district", "381", "participants_verified", 30_000)])
    after = obs("2025-06", JUN, "bhxh", [("district", "380", "participants_verified", 99_000),
                                         ("district", "381", "participants_verified", 31_000)])
    result = run([before, after], "2025-06")
    falls = result.findings.filter(pl.col("rule_id") == "stock_not_falling")
    assert falls["unit_code"].to_list() == ["380"]


def test_tax_offices_then_tax_units_compare_the_province():
    june = obs("2025-06", JUN, "thue", [("tax_office", u.unit_code, "tax_ids_matched", 200_000)
                                        for u in reference.units("tax_office", "38", JUN)])
    july = obs("2025-07", JUL, "thue", [("tax_unit", u.unit_code, "tax_ids_matched", 221_000)
                                        for u in reference.units("tax_unit", "38", JUL)])
    result = run([june, july])
    assert result.findings.height == 0
    item = result.items.filter(pl.col("rule_id") == "stock_not_falling").row(0, named=True)
    assert (item["unit_kind"], item["lhs"], item["rhs"]) == ("province", 2_210_000, 2_200_000)
    assert "tax_office units in 2025-06, tax_unit units in 2025-07" in item["detail"]


# ----------------------------------------------------------------------------- published previous values

@pytest.fixture
def commune_catalog():
    """The indicator catalog, whose district-level indicators are published by commune too after the reform."""
    assert "commune" in indicators.CATALOG_FILE.read_text(encoding="utf-8")
    return indicators.CATALOG_FILE


def test_previous_value_only_where_the_unit_existed_the_month_before(tmp_path, commune_catalog):
    from p06 import warehouse
    from tests.test_publish_marts import deliver
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        deliver(con, "2025-06", "vneid", [("commune", "14758", "chip_id_applications", 500.0),     # Phường Đông Thọ
                                          ("commune", "14761", "chip_id_applications", 300.0)])    # Phường Nam Ngạn
        deliver(con, "2025-07", "vneid", [("commune", "14758", "chip_id_applications", 900.0),     # Phường Hàm Rồng
                                          ("commune", "14797", "chip_id_applications", 700.0)])    # Phường Hạc Thành
        rows = indicators.compute(con, "2025-07", commune_catalog)
    rows = {r["unit_code"]: r for r in rows.filter(pl.col("indicator_code") == "CCCD_CHIP_APPLICATIONS").to_dicts()}
    assert (rows["38"]["previous_value"], rows["38"]["change"]) == (800.0, 800.0)      # the province continues
    assert rows["14758"]["unit_name"] == "Phường Hàm Rồng"
    assert rows["14758"]["previous_value"] is None and rows["14758"]["change"] is None  # same code, another unit
    assert rows["14797"]["previous_value"] is None


def test_outliers_never_measure_a_change_across_a_gap_in_deliveries():
    # 2023-09 then 2025-06: 21 months apart, so a hundred-fold rise is not a month's change.
    sept = obs("2023-09", date(2023, 9, 15), "bhxh", [("district", "381", "hi_facilities_chip", 10)])
    aug = obs("2023-08", date(2023, 8, 15), "bhxh", [("district", "381", "hi_facilities_chip", 9)])
    june = obs("2025-06", JUN, "bhxh", [("district", "381", "hi_facilities_chip", 1000)])
    result = run([aug, sept, june], "2025-06")
    items = result.items.filter(pl.col("rule_id") == "outlier.stock_change")
    assert items["is_missing"].to_list() == [True] and result.findings.height == 0
    # The same rise from the month before is one.
    may = obs("2025-05", date(2025, 5, 15), "bhxh", [("district", "381", "hi_facilities_chip", 10)])
    found = run([aug, sept, may, june], "2025-06").findings
    assert found.filter(pl.col("rule_id") == "outlier.stock_change")["unit_code"].to_list() == ["381"]
