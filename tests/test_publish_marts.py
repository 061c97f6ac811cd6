"""Published tables: computations on hand-made staging rows, then the September 2023 report from the samples.

Expected figures of the second part are those the province's September 2023 report states
(/work/shared/seed/000_6fca482df95fc581.txt, section II and appendices II-III; listed in the samples README).
"""
from __future__ import annotations

import shutil
from datetime import date, datetime

import pytest

from p06 import periods, reference, warehouse
from p06.publish import comments, indicator_catalog, marts
from p06.reconcile import store

OBS_COLUMNS = ["period", "as_of_date", "source", "unit_kind", "unit_code", "unit_name", "group_label", "measure",
               "value", "value_text", "stated", "decimals", "file", "sheet", "cell", "delivery_id"]


# ----------------------------------------------------------------------------- hand-made staging rows

@pytest.fixture
def con(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as c:
        yield c


def deliver(con, period: str, source: str, rows: list[tuple], status: str = "loaded") -> int:
    """Record a delivery and its figures; a row is (unit_kind, unit_code, measure, value[, stated])."""
    as_of = date(int(period[:4]), int(period[5:]), 15)
    delivery_id = con.execute("""
        INSERT INTO raw.deliveries (period, source, path, file_name, sha256, size_bytes, received_at, processed_at,
                                    as_of_date, status, message, fingerprint)
        VALUES (?, ?, ?, ?, 'x', 1, ?, ?, ?, ?, ?, 'x') RETURNING delivery_id""",
        [period, source, f"{period}/{source}/f.xlsx", f"{source}_{period}.xlsx", datetime(2023, 9, 16),
         datetime(2023, 9, 16), as_of, status, "bad header" if status == "rejected" else None]).fetchone()[0]
    for i, (kind, code, measure, value, *stated) in enumerate(rows):
        stated = stated[0] if stated else kind == "province"
        con.execute(f"INSERT INTO staging.observations ({', '.join(OBS_COLUMNS)}) "
                    "VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL, ?, NULL, 'f.xlsx', 'S', ?, ?)",
                    [period, as_of, source, kind, code, f"name {code}", measure, value, stated, f"C{i}", delivery_id])
    return delivery_id


def table(con, name: str, period: str, **where) -> list[dict]:
    cond = "".join(f" AND {k} = ?" for k in where)
    cur = con.execute(f"SELECT * FROM marts.{name} WHERE period = ?{cond}", [period, *where.values()])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def one(con, period: str, code: str, unit_code: str = "38") -> dict:
    rows = table(con, "indicator_monthly", period, indicator_code=code, unit_code=unit_code)
    assert len(rows) == 1, rows
    return rows[0]


def test_province_row_sums_unit_rows_never_the_total_row(con):
    deliver(con, "2023-09", "vneid", [
        ("district", "380", "chip_id_applications", 100.0), ("district", "381", "chip_id_applications", 250.0),
        ("province", "38", "chip_id_applications", 999.0),
    ])
    marts.publish_period(con, "2023-09")
    row = one(con, "2023-09", "CCCD_CHIP_APPLICATIONS")
    assert (row["numerator"], row["value"], row["basis"], row["units_reporting"]) == (350.0, 350.0, "units", 2)
    assert one(con, "2023-09", "CCCD_CHIP_APPLICATIONS", "381")["value"] == 250.0
    assert one(con, "2023-09", "CCCD_CHIP_APPLICATIONS", "381")["basis"] == "unit_row"


def test_ratio_is_a_ratio_of_sums_and_ignores_stated_ratios(con):
    deliver(con, "2023-09", "bhxh", [
        ("district", "380", "participants", 100.0), ("district", "380", "participants_verified", 50.0),
        ("district", "380", "participants_verified_ratio", 0.99, True),
        ("district", "381", "participants", 300.0), ("district", "381", "participants_verified", 270.0),
        ("province", "38", "participants_verified_ratio", 0.70),
    ])
    marts.publish_period(con, "2023-09")
    row = one(con, "2023-09", "BHXH_VERIFIED_SHARE")
    assert (row["numerator"], row["denominator"]) == (320.0, 400.0)
    assert row["value"] == pytest.approx(80.0)      # not the mean of 50% and 90%, not the stated 70%
    assert one(con, "2023-09", "BHXH_VERIFIED_SHARE", "380")["value"] == pytest.approx(50.0)


def test_province_only_delivery_uses_its_total_row_and_says_so(con):
    deliver(con, "2023-08", "bhxh", [("province", "38", "hi_lookups", 5000.0), ("province", "38", "hi_lookups_ok", 3000.0)])
    deliver(con, "2023-09", "bhxh", [
        ("district", "380", "hi_lookups", 4000.0), ("district", "381", "hi_lookups", 1300.0),
        ("district", "380", "hi_lookups_ok", 2500.0), ("district", "381", "hi_lookups_ok", 900.0),
    ])
    marts.publish_period(con, "2023-08")
    marts.publish_period(con, "2023-09")
    august = one(con, "2023-08", "HI_LOOKUPS")
    assert (august["value"], august["basis"], august["units_reporting"]) == (5000.0, "total_row", None)
    assert not table(con, "indicator_monthly", "2023-08", unit_level="district")
    assert table(con, "source_completeness", "2023-08", source="bhxh")[0]["province_total_only"] is True
    september = one(con, "2023-09", "HI_LOOKUPS")
    assert (september["basis"], september["previous_value"], september["change"]) == ("units", 5000.0, 300.0)
    share = one(con, "2023-09", "HI_LOOKUPS_OK_SHARE")
    assert share["change"] == pytest.approx(3400 / 5300 * 100 - 60.0)   # in percentage points


def test_a_missing_month_is_missing_not_filled_from_another(con):
    deliver(con, "2023-08", "tre_em", [("district", "380", "children", 10.0), ("district", "380", "children_updated", 5.0)])
    deliver(con, "2023-10", "tre_em", [("district", "380", "children", 10.0), ("district", "380", "children_updated", 8.0)])
    counts = marts.publish_period(con, "2023-09")
    assert counts["indicator_monthly"] == 0
    status = {r["source"]: r["status"] for r in table(con, "source_completeness", "2023-09")}
    assert status["tre_em"] == "missing" and set(status.values()) == {"missing"}
    marts.publish_period(con, "2023-10")
    october = one(con, "2023-10", "CHILDREN_UPDATED_SHARE")
    assert october["value"] == pytest.approx(80.0)
    assert october["previous_value"] is None and october["change"] is None   # September had nothing; August does not stand in


def test_figures_of_a_rejected_delivery_are_not_published(con):
    deliver(con, "2023-09", "thue", [("tax_office", "CCT01", "tax_ids_to_review", 10.0),
                                     ("tax_office", "CCT01", "tax_ids_matched", 7.0)], status="rejected")
    marts.publish_period(con, "2023-09")
    assert not table(con, "indicator_monthly", "2023-09", source="thue")
    row = table(con, "source_completeness", "2023-09", source="thue")[0]
    assert (row["status"], row["rejected_deliveries"], row["units_present"]) == ("missing", 1, 0)
    assert "bad header" in row["rejection_messages"]


def test_a_blank_part_leaves_the_unit_unknown_and_out_of_the_province_sum(con):
    parts = ["civil_entered_birth", "civil_entered_marriage", "civil_entered_death", "civil_entered_adoption"]
    rows = [("district", "380", m, 10.0) for m in parts] + [("district", "380", "civil_to_enter", 100.0)]
    rows += [("district", "381", m, 1.0) for m in parts[:3]] + [("district", "381", "civil_entered_adoption", None),
                                                                ("district", "381", "civil_to_enter", 50.0)]
    rows += [("district", "380", "civil_entered_total", 45.0)]     # a delivered total is a claim, not the numerator
    deliver(con, "2023-09", "ho_tich", rows)
    marts.publish_period(con, "2023-09")
    assert one(con, "2023-09", "CIVIL_ENTERED_SHARE", "381")["numerator"] is None
    province = one(con, "2023-09", "CIVIL_ENTERED_SHARE")
    assert (province["numerator"], province["denominator"], province["units_reporting"]) == (40.0, 100.0, 1)
    completeness = table(con, "source_completeness", "2023-09", source="ho_tich")[0]
    assert (completeness["units_expected"], completeness["units_present"]) == (27, 2)
    assert "399" in completeness["missing_units"]


def every_district(rows: list[tuple], like: str = "381") -> list[tuple]:
    """The rows, plus every other district of 2023 reporting the same figures as `like`: a complete delivery,
    so that the province rows are not partial."""
    listed = {r[1] for r in rows}
    template = [r for r in rows if r[1] == like]
    return rows + [(kind, u.unit_code, *rest) for u in reference.expected_units("district", date(2023, 9, 15))
                   if u.unit_code not in listed for kind, _, *rest in template]


def add_finding(con, period: str, source: str, unit_code: str, rule_id: str, severity: str, measure: str | None):
    """A row of marts.reconciliation_findings as the reconciliation writes it (rule ids of checks/rules.yaml)."""
    con.execute(store.DDL)
    con.execute("""INSERT INTO marts.reconciliation_findings (period, source, unit_code, rule_id, rule_kind, severity,
                   measure, message_vi, message_en, reconciled_at) VALUES (?, ?, ?, ?, 'x', ?, ?, 'x', 'x', now())""",
                [period, source, unit_code, rule_id, severity, measure])


def test_quality_follows_the_findings_on_the_measures_involved(con):
    deliver(con, "2023-09", "bhxh", every_district([
        ("district", "380", "hi_lookups", 10.0), ("district", "380", "hi_lookups_ok", 5.0),
        ("district", "381", "hi_lookups", 10.0), ("district", "381", "hi_lookups_ok", 5.0),
        ("district", "380", "id_cards_synced", 3.0), ("district", "381", "id_cards_synced", 3.0),
    ]))
    add_finding(con, "2023-09", "bhxh", "381", "stated_ratio", "warning", "hi_lookups_ok_ratio")
    add_finding(con, "2023-09", "bhxh", "38", "stated_total", "error", "id_cards_synced")
    marts.publish_period(con, "2023-09")
    assert one(con, "2023-09", "HI_LOOKUPS_OK_SHARE", "381")["quality"] == "warning"
    assert one(con, "2023-09", "HI_LOOKUPS_OK_SHARE", "380")["quality"] == "ok"
    assert one(con, "2023-09", "HI_LOOKUPS_OK_SHARE")["quality"] == "warning"
    assert one(con, "2023-09", "HI_ID_CARDS_SYNCED")["quality"] == "error"
    assert one(con, "2023-09", "HI_ID_CARDS_SYNCED", "380")["quality"] == "ok"
    assert one(con, "2023-09", "HI_LOOKUPS")["quality"] == "ok"
    counts = table(con, "source_completeness", "2023-09", source="bhxh")[0]
    assert (counts["error_count"], counts["warning_count"]) == (1, 1)


def test_a_finding_naming_no_measure_counts_for_every_indicator_of_its_unit(con):
    deliver(con, "2023-09", "tre_em", [("district", "380", "children", 10.0), ("district", "380", "children_updated", 5.0),
                                       ("district", "381", "children", 10.0), ("district", "381", "children_updated", 5.0)])
    add_finding(con, "2023-09", "tre_em", "380", "completeness.units", "error", None)
    marts.publish_period(con, "2023-09")
    assert one(con, "2023-09", "CHILDREN_UPDATED_SHARE", "380")["quality"] == "error"
    assert one(con, "2023-09", "CHILDREN_UPDATED_SHARE", "381")["quality"] == "ok"
    assert one(con, "2023-09", "CHILDREN_UPDATED_SHARE")["quality"] == "error"


MERIT_ROWS = [("district", "380", "merit_to_review", 10.0), ("district", "380", "merit_cleaned", 6.0),
              ("district", "380", "merit_remaining", 4.0), ("district", "381", "merit_to_review", 10.0),
              ("district", "381", "merit_cleaned", 6.0), ("district", "381", "merit_remaining", 4.0),
              ("province", "38", "merit_remaining", 9.0)]


def test_a_comparison_casts_doubt_on_every_figure_it_compares(con):
    """'remaining == to review - cleaned' failing at 380: any of the three may be wrong (rule of checks/rules.yaml)."""
    deliver(con, "2023-09", "nguoi_co_cong", every_district(MERIT_ROWS))
    add_finding(con, "2023-09", "nguoi_co_cong", "380", "nguoi_co_cong.remaining", "warning", "merit_remaining")
    marts.publish_period(con, "2023-09")
    assert one(con, "2023-09", "MERIT_REMAINING", "380")["quality"] == "warning"
    assert one(con, "2023-09", "MERIT_CLEANED_SHARE", "380")["quality"] == "warning"
    assert one(con, "2023-09", "MERIT_CLEANED_SHARE", "381")["quality"] == "ok"
    assert one(con, "2023-09", "MERIT_CLEANED_SHARE")["quality"] == "warning"


def test_a_stated_total_finding_touches_only_its_measure(con):
    deliver(con, "2023-09", "nguoi_co_cong", every_district(MERIT_ROWS))
    add_finding(con, "2023-09", "nguoi_co_cong", "38", "stated_total", "warning", "merit_remaining")
    marts.publish_period(con, "2023-09")
    assert one(con, "2023-09", "MERIT_REMAINING")["quality"] == "warning"
    assert one(con, "2023-09", "MERIT_CLEANED_SHARE")["quality"] == "ok"
    assert one(con, "2023-09", "MERIT_REMAINING", "380")["quality"] == "ok"


def test_a_blank_figure_makes_the_province_figure_partial_and_never_mixes_unit_sets(con):
    """380 left its denominator blank: the province ratio sums numerator and denominator over the other 26
    districts only, and says so."""
    rows = every_district([("district", "380", "hi_lookups", None), ("district", "380", "hi_lookups_ok", 5.0),
                           ("district", "381", "hi_lookups", 10.0), ("district", "381", "hi_lookups_ok", 4.0)])
    deliver(con, "2023-09", "bhxh", rows)
    marts.publish_period(con, "2023-09")
    province = one(con, "2023-09", "HI_LOOKUPS_OK_SHARE")
    assert (province["units_reporting"], province["units_expected"], province["quality"]) == (26, 27, "partial")
    assert (province["numerator"], province["denominator"]) == (26 * 4.0, 26 * 10.0)
    complete = one(con, "2023-09", "HI_LOOKUPS")
    assert (complete["units_reporting"], complete["units_expected"]) == (26, 27)
    missing_unit = deliver(con, "2023-08", "bhxh", [r for r in rows if r[1] != "399"])
    assert missing_unit
    marts.publish_period(con, "2023-08")
    assert one(con, "2023-08", "HI_LOOKUPS")["units_expected"] == 27


def test_unit_names_are_those_valid_on_the_as_of_date(con, monkeypatch):
    """A code may be reused by another unit after a reform: the name is the one valid on the figures' date."""
    reused = reference.Unit("district", "380", "Phường Hạc Thành", "38", "38", date(2025, 7, 1), None)
    real = reference.units
    monkeypatch.setattr(reference, "units", lambda kind, province=None, on=None: [
        *real(kind, province, on), *([reused] if kind == "district" and reused.valid_on(on) else [])])
    deliver(con, "2023-09", "vneid", [("district", "380", "chip_id_applications", 100.0)])
    marts.publish_period(con, "2023-09")
    assert one(con, "2023-09", "CCCD_CHIP_APPLICATIONS", "380")["unit_name"] == "Thành phố Thanh Hóa"


def test_a_failed_publication_leaves_the_previous_one_in_place(con, monkeypatch):
    deliver(con, "2023-09", "vneid", [("district", "380", "chip_id_applications", 100.0)])
    marts.publish_period(con, "2023-09")
    before = table(con, "indicator_monthly", "2023-09")

    def broken(con, period):
        raise RuntimeError("boom")
    monkeypatch.setattr(marts.completeness, "compute", broken)
    with pytest.raises(RuntimeError):
        marts.publish_period(con, "2023-09")
    assert table(con, "indicator_monthly", "2023-09") == before


def test_a_table_of_an_earlier_release_is_rebuilt_for_every_month_it_holds(con):
    deliver(con, "2023-08", "vneid", [("district", "380", "chip_id_applications", 90.0)])
    deliver(con, "2023-09", "vneid", [("district", "380", "chip_id_applications", 100.0)])
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute("""CREATE TABLE marts.indicator_monthly AS SELECT '2023-08' AS period, '38' AS unit_code,
                   'CCCD_CHIP_APPLICATIONS' AS indicator_code, 1.0 AS value""")      # columns of an older release
    marts.publish_period(con, "2023-09")
    assert one(con, "2023-08", "CCCD_CHIP_APPLICATIONS")["value"] == 90.0
    assert one(con, "2023-09", "CCCD_CHIP_APPLICATIONS")["unit_vi"] == "hồ sơ"


def test_every_table_and_column_has_a_comment_and_the_dictionary_is_generated(con, tmp_path):
    marts.publish_period(con, "2023-09")
    assert comments.missing_comments(con) == []
    text = comments.write_data_dictionary(con, tmp_path / "docs").read_text(encoding="utf-8")
    for name in ("marts.indicator_monthly", "marts.public_services_monthly", "marts.source_completeness",
                 "staging.observations", "raw.deliveries"):
        assert f"`{name}`" in text
    assert "| `change` | DOUBLE | Tăng/giảm so với tháng trước" in text


@pytest.mark.parametrize("old, new, message", [
    ("numerator: [chip_id_applications]", "numerator: [no_such_measure]", "no_such_measure"),
    ('factor: 100, decimals: 2, unit_vi: "%"', "factor: 100, decimals: 2, unit_vi: người", "unit_vi"),
    ("online_ratio_indicator: DVC_ONLINE_SHARE", "online_ratio_indicator: CCCD_CHIP_APPLICATIONS", "online ratio"),
])
def test_the_catalog_rejects_declarations_that_do_not_fit(tmp_path, old, new, message):
    doc = indicator_catalog.CATALOG_FILE.read_text(encoding="utf-8")
    assert old in doc
    bad = tmp_path / "indicators.yaml"
    bad.write_text(doc.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        indicator_catalog.load(bad)


def test_period_arithmetic():
    assert periods.previous_period("2024-01") == "2023-12"
    assert periods.previous_period("2023-09") == "2023-08"
    assert periods.period_end("2024-02") == date(2024, 2, 29)


# ----------------------------------------------------------------------------- the samples and the report

@pytest.fixture(scope="module")
def samples(loaded_samples, tmp_path_factory):
    """Both sample months loaded, reconciled and published (read-only use)."""
    db = tmp_path_factory.mktemp("samples") / "w.duckdb"
    shutil.copyfile(loaded_samples["db"], db)
    with warehouse.connect(db) as c:
        for period in ("2023-08", "2023-09"):
            store.reconcile_period(c, period)
            marts.publish_period(c, period)
        yield c


# (indicator, numerator, denominator, value as the report shows it, decimals shown, target)
REPORT_SEPTEMBER = [
    ("CCCD_CHIP_APPLICATIONS", 3_421_346, None, 3_421_346, 0, None),
    ("EID_APPLICATIONS", 2_336_438, None, 2_336_438, 0, 1_620_967),
    ("EID_ACTIVATED_VS_TARGET", 1_651_144, 1_620_967, 101.86, 2, 1_620_967),
    ("BHXH_VERIFIED_SHARE", 3_079_271, 3_200_783, 96.20, 2, None),
    ("HI_FACILITIES_CHIP", 678, None, 678, 0, None),
    ("HI_FACILITIES_CHIP_SHARE", 678, 678, 100, 0, None),
    ("HI_LOOKUPS", 5_339_392, None, 5_339_392, 0, None),
    ("HI_LOOKUPS_OK", 3_573_541, None, 3_573_541, 0, None),
    ("HI_LOOKUPS_OK_SHARE", 3_573_541, 5_339_392, 66.9, 1, None),
    ("HI_ID_CARDS_SYNCED", 3_037_420, None, 3_037_420, 0, None),
    ("TAX_IDS_MATCHED_SHARE", 1_721_898, 2_262_033, 76, 0, None),
    ("TAX_IDS_UNMATCHED_SHARE", 540_135, 2_262_033, 24, 0, None),
    ("VAX_DOSES", 8_691_170, None, 8_691_170, 0, None),
    ("VAX_PERSONS", 3_063_393, None, 3_063_393, 0, None),
    ("VAX_VERIFIED_SHARE", 2_798_936, 3_063_393, 91.3, 1, None),     # the report truncates 91,37 (see below)
    ("VAX_UNVERIFIED", 264_457, None, 264_457, 0, None),
    ("CIVIL_ENTERED_SHARE", 300_790, 2_343_764, 12.83, 2, None),
    ("CIVIL_ENTERED_BIRTH", 277_202, None, 277_202, 0, None),
    ("CIVIL_ENTERED_MARRIAGE", 14_075, None, 14_075, 0, None),
    ("CIVIL_ENTERED_DEATH", 9_483, None, 9_483, 0, None),
    ("CIVIL_ENTERED_ADOPTION", 30, None, 30, 0, None),
    ("CHILDREN_UPDATED_SHARE", 780_355, 960_281, 81.3, 1, None),
    ("MERIT_CLEANED_SHARE", 60_468, 65_546, 92.25, 2, None),
    ("WELFARE_BENEFICIARIES", 261_308, None, 261_308, 0, None),
    ("WELFARE_BENEFICIARIES_SOCIAL", 194_479, None, 194_479, 0, None),
    ("WELFARE_BENEFICIARIES_MERIT", 66_829, None, 66_829, 0, None),
    ("WELFARE_REVIEWED", 261_308, None, 261_308, 0, None),
    ("WELFARE_ACCOUNTS", 10_550, None, 10_550, 0, None),
    ("WELFARE_ACCOUNTS_SOCIAL", 7_909, None, 7_909, 0, None),
    ("WELFARE_ACCOUNTS_MERIT", 2_641, None, 2_641, 0, None),
    ("WELFARE_PAID_CASHLESS", 4_562, None, 4_562, 0, None),
    ("WELFARE_PAID_CASHLESS_SOCIAL", 3_102, None, 3_102, 0, None),
    ("WELFARE_PAID_CASHLESS_MERIT", 1_460, None, 1_460, 0, None),
]


@pytest.mark.parametrize("code, numerator, denominator, shown, decimals, target", REPORT_SEPTEMBER,
                         ids=[r[0] for r in REPORT_SEPTEMBER])
def test_september_province_rows_reproduce_the_report(samples, code, numerator, denominator, shown, decimals, target):
    row = one(samples, "2023-09", code)
    assert row["basis"] == "units" and row["unit_level"] == "province"
    assert row["numerator"] == numerator
    assert row["denominator"] == denominator
    assert row["target"] == target
    assert abs(row["value"] - shown) <= 10 ** -decimals       # within one unit of the last decimal shown
    assert row["decimals"] == decimals


def test_the_report_truncates_the_vaccination_ratio(samples):
    value = one(samples, "2023-09", "VAX_VERIFIED_SHARE")["value"]
    assert value == pytest.approx(2_798_936 / 3_063_393 * 100)
    assert round(value, 1) == 91.4      # the report prints 91,3: truncated, not rounded


def test_month_over_month_changes_come_from_august(samples):
    changes = {code: one(samples, "2023-09", code)["change"]
               for code in ("HI_LOOKUPS", "HI_LOOKUPS_OK", "HI_ID_CARDS_SYNCED", "HI_FACILITIES_CHIP", "HI_LOOKUPS_OK_SHARE")}
    assert changes["HI_LOOKUPS"] == 269_520
    assert changes["HI_LOOKUPS_OK"] == 229_790
    assert changes["HI_ID_CARDS_SYNCED"] == 18_103
    assert changes["HI_FACILITIES_CHIP"] == 1
    assert round(changes["HI_LOOKUPS_OK_SHARE"], 1) == 1.0   # "+1,0%" in the report: percentage points
    assert one(samples, "2023-09", "HI_LOOKUPS")["previous_value"] == one(samples, "2023-08", "HI_LOOKUPS")["value"]


def test_civil_registry_total_is_the_sum_of_the_four_types(samples):
    """The report's 300.790 is the sum of the types; the delivered district totals sum to 10 more (district 399)."""
    delivered_total = samples.execute("""SELECT sum(value) FROM staging.observations WHERE period = '2023-09'
        AND source = 'ho_tich' AND measure = 'civil_entered_total' AND unit_kind = 'district'""").fetchone()[0]
    assert delivered_total == 300_800
    assert one(samples, "2023-09", "CIVIL_ENTERED_SHARE")["numerator"] == 300_790
    district = one(samples, "2023-09", "CIVIL_ENTERED_SHARE", "399")
    assert district["numerator"] == 17_364 + 759 + 592 + 2


def test_merit_remaining_is_the_sum_of_units_not_the_stated_5123(samples):
    assert one(samples, "2023-09", "MERIT_REMAINING")["value"] == 65_546 - 60_468 == 5_078


def test_unit_rows_are_published_for_every_unit(samples):
    rows = table(samples, "indicator_monthly", "2023-09", indicator_code="CCCD_CHIP_APPLICATIONS")
    by_unit = {r["unit_code"]: r for r in rows}
    assert len(rows) == 28 and by_unit["380"]["value"] == 399_303 and by_unit["380"]["unit_name"] == "Thành phố Thanh Hóa"
    assert sum(r["value"] for r in rows if r["unit_level"] == "district") == by_unit["38"]["value"]
    assert len(table(samples, "indicator_monthly", "2023-09", indicator_code="TAX_IDS_MATCHED_SHARE")) == 12


# Appendices II and III as the report prints them: (service, total, online, ratio shown, decimals shown).
# None where the report leaves the cell blank; the report prints "0" for the ratio of 0/0 (we publish NULL).
REPORT_SERVICES = [
    ("PL2-01", None, 63, None, None), ("PL2-02", 11_343, 3_846, 33.9, 1), ("PL2-03", 31_809, 31_693, 99.64, 2),
    ("PL2-04", 1_518, 1_497, 98.62, 2), ("PL2-05", 289, 265, 91.7, 1), ("PL2-06", 5_780, 5_780, 100, 0),
    ("PL2-07", 5_353, 5_078, 94.86, 2), ("PL2-09", 2_758, 2_758, 100, 0), ("PL2-10", 1_128, 1_128, 100, 0),
    ("PL2-11", 427, 427, 100, 0), ("PL2-12", 6_889, 6_712, 97.43, 2), ("PL2-13", 45, 45, 100, 0),
    ("PL2-14", 0, 0, None, None), ("PL2-15", 4_227, 4_227, 100, 0), ("PL2-16", 381, 381, 100, 0),
    ("PL2-17", None, None, None, None), ("PL2-18", 1_928, 1_928, 100, 0), ("PL2-19", 1_352, 529, 39.13, 2),
    ("PL2-20", 1_806, 582, 32.23, 2), ("PL2-21", 0, 0, None, None), ("PL2-22", 3_901, 3_901, 100, 0),
    ("PL2-23", 2_236, 407, 18.2, 1), ("PL2-24", 612, 612, 100, 0), ("PL2-25", 22, 22, 100, 0),
    ("PL3-01", 47, 4, 8.5, 1), ("PL3-02", None, None, None, None), ("PL3-03", None, None, None, None),
    ("PL3-04", 44, 44, 100, 0), ("PL3-05", None, None, None, None), ("PL3-06", 8_020, 2_686, 33.49, 2),
    ("PL3-07", None, None, None, None), ("PL3-08", None, None, None, None), ("PL3-09", None, None, None, None),
    ("PL3-10", None, None, None, None),
]


@pytest.mark.parametrize("code, total, online, shown, decimals", REPORT_SERVICES, ids=[r[0] for r in REPORT_SERVICES])
def test_public_services_reproduce_the_appendices(samples, code, total, online, shown, decimals):
    row = table(samples, "public_services_monthly", "2023-09", service_code=code)[0]
    assert (row["dossiers_total"], row["dossiers_online"]) == (total, online)
    if shown is None:
        assert row["online_ratio"] is None
    else:
        assert abs(row["online_ratio"] - shown) <= 10 ** -decimals
    indicator = one(samples, "2023-09", "DVC_ONLINE_SHARE", code)
    assert indicator["value"] == row["online_ratio"]


def test_service_8_ratio_is_computed_not_the_reports_78_25(samples):
    row = table(samples, "public_services_monthly", "2023-09", service_code="PL2-08")[0]
    assert (row["dossiers_total"], row["dossiers_online"]) == (4_152, 3_248)
    assert round(row["online_ratio"], 2) == 78.23          # the report states 78,25% (a known inconsistency)


def test_public_services_carry_the_reports_shape(samples):
    rows = table(samples, "public_services_monthly", "2023-09")
    assert [r["appendix"] for r in rows].count("II") == 25 and [r["appendix"] for r in rows].count("III") == 10
    first = next(r for r in rows if r["service_code"] == "PL3-01")
    assert (first["group_label"], first["connected"], first["on_time"], first["overdue"]) == \
        ("Sở Lao động – Thương binh và Xã hội", "Đã kết nối", 47, 0)
    assert next(r for r in rows if r["service_code"] == "PL3-02")["difficulties"].startswith("Chưa có văn bản")


def test_september_completeness(samples):
    rows = table(samples, "source_completeness", "2023-09")
    assert len(rows) == 9 and {r["status"] for r in rows} == {"delivered"}
    assert all(r["units_present"] == r["units_expected"] and r["missing_units"] is None for r in rows)
    assert {r["source"]: r["units_expected"] for r in rows}["dvc"] == 35


def test_quality_flags_follow_the_reconciliation_of_the_samples(samples):
    """The known inconsistencies of the September samples (MANIFEST.json) mark the figures they touch, and only those."""
    def quality(code, unit="38"):
        return one(samples, "2023-09", code, unit)["quality"]
    assert quality("CIVIL_ENTERED_SHARE", "399") == "warning"        # total 10 above its parts
    assert quality("CIVIL_ENTERED_BIRTH", "399") == "warning"        # ... one of them may be wrong
    assert quality("CIVIL_ENTERED_SHARE") == "warning"
    assert quality("BHXH_VERIFIED_SHARE", "384") == "warning"        # a stock fell
    assert quality("MERIT_REMAINING") == "warning"                   # stated 5.123 = 65.546 - 60.468?
    assert quality("MERIT_CLEANED_SHARE") == "warning"               # ... any of the three may be wrong
    assert quality("DVC_ONLINE_SHARE", "PL2-08") == "warning"        # stated 78,25%
    assert quality("DVC_ONLINE_SHARE", "PL3-01") == "error"          # on time 47 > online 4: is 4 right?
    services = {r["service_code"]: r["quality"] for r in table(samples, "public_services_monthly", "2023-09")}
    assert (services["PL3-01"], services["PL2-08"], services["PL2-01"]) == ("error", "warning", "ok")
    for untouched in ("HI_LOOKUPS", "CCCD_CHIP_APPLICATIONS", "TAX_IDS_MATCHED_SHARE", "VAX_DOSES", "CHILDREN_UPDATED_SHARE"):
        assert quality(untouched) == "ok"
    assert quality("BHXH_VERIFIED_SHARE", "380") == "ok"
    completeness = {r["source"]: r for r in table(samples, "source_completeness", "2023-09")}
    assert (completeness["ho_tich"]["error_count"], completeness["ho_tich"]["warning_count"]) == (0, 2)
    assert (completeness["vneid"]["error_count"], completeness["vneid"]["warning_count"]) == (0, 0)


def test_months_computed_together_equal_each_month_alone(samples_db):
    """Indicators and services of several months come from one query each: no month's rows may leak into
    another's (last month's values, names valid on the month's date, findings of the month)."""
    import polars as pl

    from p06.publish import indicators, services
    from p06.reconcile.store import reconcile_period
    with warehouse.connect(samples_db) as con:
        for month in ("2023-08", "2023-09"):
            reconcile_period(con, month)
        for module in (indicators, services):
            together = module.compute_months(con, ["2023-08", "2023-09"])
            alone = pl.concat([module.compute(con, m) for m in ("2023-08", "2023-09")])
            assert together.equals(alone)
            assert together.filter(pl.col("period") == "2023-09").height > 0
        september = indicators.compute_months(con, ["2023-08", "2023-09"]).filter(pl.col("period") == "2023-09")
        assert september["previous_value"].drop_nulls().len() > 0          # August's values reach September
