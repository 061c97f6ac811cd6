"""The 2025 sample months: June by the 26 districts left after Đông Sơn's merger, July by the 166 communes
and wards of the reform (and the 10 new tax units). Figures from the samples README, inconsistencies from
its MANIFEST."""
from __future__ import annotations

import json

import polars as pl
import pytest
from conftest import SAMPLE_RAW, copy_samples

from p06 import warehouse
from p06.ingest.load import ingest_period
from p06.reconcile import store

MONTHS = ("2025-06", "2025-07")

# Province figures of the samples README ("Province figures of June and July 2025"): (source, measure) -> values.
README = {
    ("vneid", "chip_id_applications"): (3_612_480, 3_621_905),
    ("vneid", "eid_applications"): (3_012_548, 3_031_207),
    ("vneid", "eid_target"): (2_950_000, 2_950_000),
    ("vneid", "eid_activated"): (2_684_215, 2_712_930),
    ("bhxh", "participants_verified"): (3_268_032, 3_273_418),
    ("bhxh", "participants"): (3_318_455, 3_321_702),
    ("bhxh", "hi_facilities"): (688, 688),
    ("bhxh", "hi_facilities_chip"): (688, 688),
    ("bhxh", "hi_lookups_ok"): (12_010_447, 12_490_118),
    ("bhxh", "hi_lookups"): (14_862_390, 15_391_122),
    ("bhxh", "id_cards_synced"): (3_248_116, 3_253_870),
    ("thue", "tax_ids_to_review"): (2_318_460, 2_318_460),
    ("thue", "tax_ids_matched"): (2_196_733, 2_204_518),
    ("thue", "tax_ids_unmatched"): (121_727, 113_942),
    ("ho_tich", "civil_to_enter"): (2_351_408, 2_351_408),
    ("ho_tich", "civil_entered_total"): (2_184_569, 2_202_427),
    ("ho_tich", "civil_entered_birth"): (1_702_385, 1_715_020),
    ("ho_tich", "civil_entered_marriage"): (318_446, 321_907),
    ("ho_tich", "civil_entered_death"): (162_530, 164_281),
    ("ho_tich", "civil_entered_adoption"): (1_208, 1_219),
    ("tre_em", "children"): (968_245, 968_910),
    ("tre_em", "children_updated"): (936_017, 938_244),
    ("nguoi_co_cong", "merit_to_review"): (65_812, 65_812),
    ("nguoi_co_cong", "merit_cleaned"): (65_790, 65_801),
    ("nguoi_co_cong", "merit_remaining"): (22, 11),
    ("an_sinh", "welfare_beneficiaries_total"): (268_460, 269_136),
    ("an_sinh", "welfare_beneficiaries_social"): (201_340, 201_982),
    ("an_sinh", "welfare_beneficiaries_merit"): (67_120, 67_154),
    ("an_sinh", "welfare_reviewed"): (268_102, 268_905),
    ("an_sinh", "welfare_accounts_social"): (158_730, 161_254),
    ("an_sinh", "welfare_accounts_merit"): (57_415, 58_032),
    ("an_sinh", "welfare_accounts_total"): (216_145, 219_286),
    ("an_sinh", "welfare_paid_social"): (149_880, 152_611),
    ("an_sinh", "welfare_paid_merit"): (54_906, 55_730),
    ("an_sinh", "welfare_paid_total"): (204_786, 208_341),
}


@pytest.fixture(scope="module")
def months(tmp_path_factory):
    base = tmp_path_factory.mktemp("samples2025")
    raw = copy_samples(base, ("2023-09", *MONTHS))
    with warehouse.connect(base / "w.duckdb") as con:
        loads = {p: ingest_period(con, raw, p) for p in ("2023-09", *MONTHS)}
        findings = {p: store.reconcile_period(con, p).findings for p in MONTHS}
        units = con.sql("""SELECT period, source, measure, sum(value) AS value, count(DISTINCT unit_code) AS units,
                                  any_value(unit_kind) AS unit_kind
                           FROM staging.observations WHERE NOT stated AND unit_kind <> 'province'
                           GROUP BY ALL""").pl()
    return loads, findings, units


def test_every_delivery_of_both_months_loads(months):
    loads, _, _ = months
    for period in MONTHS:
        status = {r.source: r.status for r in loads[period]}
        assert status.pop("tiem_chung") == "not_expected"            # the vaccination campaign is over
        assert set(status.values()) == {"loaded"}, [r.line() for r in loads[period]]


@pytest.mark.parametrize("period", MONTHS)
def test_unit_rows_add_up_to_the_readme_province_figures(months, period):
    _, _, units = months
    got = {(r["source"], r["measure"]): r["value"] for r in units.filter(pl.col("period") == period).iter_rows(named=True)}
    i = MONTHS.index(period)
    assert {key: got.get(key) for key in README} == {key: float(values[i]) for key, values in README.items()}


def test_units_of_each_month(months):
    _, _, units = months
    kinds = {(r["period"], r["source"]): (r["unit_kind"], r["units"]) for r in units.iter_rows(named=True)}
    assert kinds[("2025-06", "vneid")] == ("district", 26)           # Đông Sơn merged into Thanh Hóa city
    assert kinds[("2025-07", "vneid")] == ("commune", 166)
    assert kinds[("2025-06", "thue")] == ("tax_office", 11)
    assert kinds[("2025-07", "thue")] == ("tax_unit", 10)
    assert kinds[("2025-07", "dvc")] == ("service", 35)


def test_the_manifest_inconsistencies_of_2025_and_nothing_else(months):
    _, findings, _ = months
    manifest = json.loads((SAMPLE_RAW / "MANIFEST.json").read_text(encoding="utf-8"))
    listed = [e for e in manifest["inconsistencies"] if e.split()[1] in MONTHS]
    assert len(listed) == 2
    june = findings["2025-06"]
    assert sorted(zip(june["source"], june["unit_code"], june["rule_id"])) == [
        ("nguoi_co_cong", "38", "nguoi_co_cong.remaining"), ("nguoi_co_cong", "38", "stated_total")]
    remaining = june.filter(pl.col("rule_id") == "nguoi_co_cong.remaining").row(0, named=True)
    assert (remaining["actual"], remaining["expected"]) == (122, 22)
    july = findings["2025-07"]
    assert july.select("source", "unit_code", "rule_id", "severity", "actual", "expected").rows() == [
        ("an_sinh", "15865", "an_sinh.paid_social_le_accounts_social", "error", 1611, 1574)]


def test_no_unit_level_month_over_month_finding_across_the_reform(months):
    """2025-06 (districts) to 2025-07 (communes): stocks and outliers compare the province only."""
    _, findings, _ = months
    history = findings["2025-07"].filter(pl.col("rule_kind").is_in(["stock_not_falling", "outlier"]))
    assert history.is_empty()
