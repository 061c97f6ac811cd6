"""Reconciliation of the bundled sample deliveries (August and September 2023).

Every inconsistency MANIFEST.json lists must be reported at the right period, source and unit
with the right expected and actual figures, and nothing else.
"""
from __future__ import annotations

import json
import shutil

import polars as pl
import pytest
from conftest import SAMPLE_MONTHS as PERIODS
from conftest import SAMPLE_RAW

from p06 import warehouse
from p06.reconcile import engine, store

MANIFEST = next(p for p in (SAMPLE_RAW / "MANIFEST.json", SAMPLE_RAW.parent / "MANIFEST.json") if p.exists())


@pytest.fixture(scope="module")
def reconciled(loaded_samples, tmp_path_factory):
    db = tmp_path_factory.mktemp("reconciled") / "w.duckdb"
    shutil.copyfile(loaded_samples["db"], db)
    with warehouse.connect(db) as con:
        results = {period: store.reconcile_period(con, period) for period in PERIODS}
        stored = store.read_findings(con)
        summary = con.sql("SELECT * FROM marts.rule_summary").pl()
        observations = store.read_observations(con, PERIODS[-1])
    return results, stored, summary, observations


def finding(findings: pl.DataFrame, source, unit_code, rule_id, measure=None) -> dict:
    hits = findings.filter((pl.col("source") == source) & (pl.col("unit_code") == unit_code)
                           & (pl.col("rule_id") == rule_id))
    if measure:
        hits = hits.filter(pl.col("measure") == measure)
    assert hits.height == 1, f"expected one {rule_id} finding for {source} {unit_code}, found {hits.height}"
    return hits.row(0, named=True)


def test_every_manifest_inconsistency_has_a_finding_of_its_source_and_month(reconciled):
    """The tests below check each inconsistency in detail; this ties them to the manifest's list."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    listed = [e for e in manifest["inconsistencies"] if e.split()[1] in PERIODS]   # 2025: test_samples_2025
    assert len(listed) == 5
    results, _, _, _ = reconciled
    for entry in listed:
        source, period = entry.split()[:2]
        assert not source_findings(results[period], source).is_empty(), entry


def source_findings(result: engine.Reconciliation, source: str) -> pl.DataFrame:
    return result.findings.filter(pl.col("source") == source)


def test_august_is_consistent(reconciled):
    results, _, _, _ = reconciled
    assert results["2023-08"].findings.is_empty()


def test_merit_remaining_on_the_total_row(reconciled):
    f = results_of(reconciled)
    row = finding(f, "nguoi_co_cong", "38", "nguoi_co_cong.remaining")
    assert (row["expected"], row["actual"], row["difference"]) == (65546 - 60468, 5123, 45)
    assert row["severity"] == "warning" and row["cell"].startswith("E33")
    assert row["file"] == "NCC_ra_soat_lam_sach_T9.xlsx" and row["sheet"] == "NCC"
    assert "Ô E33" in row["message_vi"] and "5.123" in row["message_vi"] and "5.078" in row["message_vi"]
    total = finding(f, "nguoi_co_cong", "38", "stated_total", "merit_remaining")
    assert (total["expected"], total["actual"]) == (5078, 5123)
    assert total["cell"] == "E33; E6:E32"


def test_service_8_stated_ratio(reconciled):
    row = finding(results_of(reconciled), "dvc", "PL2-08", "stated_ratio")
    assert row["actual"] == pytest.approx(0.7825)
    assert row["expected"] == pytest.approx(3248 / 4152)
    assert row["severity"] == "warning" and row["sheet"] == "Phụ lục II" and row["cell"].startswith("F13")


def test_appendix_iii_service_1_on_time_above_online_is_the_only_error(reconciled):
    f = results_of(reconciled)
    row = finding(f, "dvc", "PL3-01", "dvc.handled_le_online")
    assert (row["severity"], row["expected"], row["actual"]) == ("error", 4, 47)
    assert row["sheet"] == "Phụ lục III"
    assert f.filter(pl.col("severity") == "error").height == 1


def test_bhxh_verified_fell_in_muong_lat(reconciled):
    row = finding(results_of(reconciled), "bhxh", "384", "stock_not_falling", "participants_verified")
    assert (row["expected"], row["actual"], row["difference"]) == (32674, 32637, -37)
    assert row["severity"] == "warning" and "tháng 8/2023" in row["message_vi"]


def test_ho_tich_entered_total_of_hoang_hoa_and_the_province(reconciled):
    f = results_of(reconciled)
    parts = finding(f, "ho_tich", "399", "ho_tich.entered_parts")
    assert (parts["expected"], parts["actual"], parts["difference"]) == (17364 + 759 + 592 + 2, 18727, 10)
    total = finding(f, "ho_tich", "38", "stated_total", "civil_entered_total")
    assert (total["actual"], total["difference"]) == (300790, -10)
    assert total["cell"] == "I35; I8:I34"


def test_nothing_else_is_reported(reconciled):
    f = results_of(reconciled)
    assert f.height == 7
    assert sorted(zip(f["source"], f["unit_code"], f["rule_id"])) == sorted([
        ("nguoi_co_cong", "38", "nguoi_co_cong.remaining"), ("nguoi_co_cong", "38", "stated_total"),
        ("dvc", "PL2-08", "stated_ratio"), ("dvc", "PL3-01", "dvc.handled_le_online"),
        ("bhxh", "384", "stock_not_falling"),
        ("ho_tich", "399", "ho_tich.entered_parts"), ("ho_tich", "38", "stated_total"),
    ])


def test_findings_and_summary_are_stored(reconciled):
    results, stored, summary, _ = reconciled
    assert stored.height == 7 and set(stored["period"]) == {"2023-09"}
    assert stored.filter(pl.col("message_vi").is_null() | pl.col("file").is_null()).is_empty()
    month = summary.filter(pl.col("period") == "2023-09")
    assert month["failed"].sum() == 7
    assert (month["items"] == month["passed"] + month["failed"] + month["missing"]).all()
    assert set(summary["period"]) == set(PERIODS)
    # every source delivered in both months
    sources = summary.filter(pl.col("rule_id") == "completeness.sources")
    assert sources["failed"].sum() == 0 and sources["passed"].sum() == 2 * 9


def test_reconciling_again_replaces_the_month(reconciled, tmp_path):
    _, _, _, observations = reconciled
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        result = engine.reconcile(observations, "2023-09")
        store.write_result(con, result)
        store.write_result(con, result)
        assert store.read_findings(con, "2023-09").height == result.findings.height == 7


def test_single_delivery_check_without_history(reconciled):
    _, _, _, observations = reconciled
    september = observations.filter(pl.col("period") == "2023-09")
    merit = engine.check_delivery(september.filter(pl.col("source") == "nguoi_co_cong"))
    assert sorted(merit.findings["rule_id"]) == ["nguoi_co_cong.remaining", "stated_total"]
    bhxh = september.filter(pl.col("source") == "bhxh")
    assert engine.check_delivery(bhxh).findings.is_empty()                   # the fall needs August
    august = observations.filter((pl.col("period") == "2023-08") & (pl.col("source") == "bhxh"))
    with_history = engine.check_delivery(bhxh, history=august)
    assert with_history.findings["unit_code"].to_list() == ["384"]


def results_of(reconciled) -> pl.DataFrame:
    return reconciled[0]["2023-09"].findings
