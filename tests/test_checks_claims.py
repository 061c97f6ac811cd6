"""Checks that test what they claim (issue 15): each fails on a planted defect it used to let through.

- `province_is_sum_of_units` checks a province row that has no complete unit (a left join);
- `expected_units_present_or_flagged` accepts a finding as the explanation of a missing unit only when it names
  that unit as a whole in that month and source, not when it is about one figure of it;
- Great Expectations' between-expectations count a NULL as a failure;
- `province_indicators_present` fails when a province row is missing;
- the publication checks are blocking asset checks of the marts: Dagster stops the exports and the copy;
- `p06 check` says when the month-over-month rules cannot run, naming them, instead of skipping them silently;
- calamine's merged ranges, when not read, are noted.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from p06.publish import publication_checks, quality
from tests.conftest import copy_sample_run
from tests.test_publication_checks import MONTHS, failed_checks, validate

DELETE_UNITS = "DELETE FROM staging.observations WHERE period = '2023-09' AND source = '{source}' AND {where}"


@pytest.fixture(scope="module")
def published(sample_run, tmp_path_factory) -> dict:
    """Both 2023 sample months run through `p06 run` once (a copy of the session's run; treat as read-only)."""
    return copy_sample_run(sample_run, tmp_path_factory.mktemp("claims"))


def evaluated(warehouse_dir: Path, plant: str) -> dict[str, publication_checks.Outcome]:
    """The checks judged without Great Expectations (as the blocking asset checks do) on a planted copy."""
    copy = warehouse_dir.parent / "evaluated"
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir()
    shutil.copyfile(warehouse_dir / "p06.duckdb", copy / "p06.duckdb")
    con = duckdb.connect(str(copy / "p06.duckdb"))
    try:
        con.execute(plant)
        return {o.check.id: o for o in publication_checks.evaluate(con, MONTHS)}
    finally:
        con.close()


def test_the_checks_judged_in_dagster_pass_on_the_samples(published):
    outcomes = evaluated(published["warehouse"], "SELECT 1")
    assert {o for o, r in outcomes.items() if not r.passed} == set()
    assert set(outcomes) == {c.id for c in publication_checks.load().checks}


def test_a_province_row_without_any_complete_unit_is_checked(published):
    """Every unit row of tiem_chung gone: the province figures stay, built from no unit at all."""
    plant = DELETE_UNITS.format(source="tiem_chung", where="unit_kind <> 'province' AND NOT stated")
    assert "province_is_sum_of_units" in failed_checks(validate(published["warehouse"], plant))
    outcome = evaluated(published["warehouse"], plant)["province_is_sum_of_units"]
    assert not outcome.passed
    assert {r["indicator_code"] for r in outcome.rows} >= {"VAX_DOSES"}
    assert all(r["units_numerator"] is None for r in outcome.rows)


UNRELATED_FINDING = """
    INSERT INTO marts.reconciliation_findings
    SELECT * REPLACE ('2023-09' AS period, 'tre_em' AS source, '384' AS unit_code, {measure} AS measure)
    FROM marts.reconciliation_findings WHERE measure IS NOT NULL LIMIT 1"""


def test_a_finding_about_one_figure_does_not_explain_a_missing_unit(published):
    missing = DELETE_UNITS.format(source="tre_em", where="unit_code = '384'")
    plant = missing + ";" + UNRELATED_FINDING.format(measure="'children_total'")
    assert "expected_units_present_or_flagged" in failed_checks(validate(published["warehouse"], plant))
    outcome = evaluated(published["warehouse"], plant)["expected_units_present_or_flagged"]
    assert [r["unit_code"] for r in outcome.rows] == ["384"]
    # a finding naming the unit as a whole (no measure: the unit missing) explains it
    explained = missing + ";" + UNRELATED_FINDING.format(measure="NULL")
    assert evaluated(published["warehouse"], explained)["expected_units_present_or_flagged"].passed


def test_a_missing_province_indicator_fails(published):
    plant = ("DELETE FROM marts.indicator_monthly WHERE period = '2023-09' AND unit_level = 'province' "
             "AND indicator_code = 'VAX_DOSES'")
    assert "province_indicators_present" in failed_checks(validate(published["warehouse"], plant))
    outcome = evaluated(published["warehouse"], plant)["province_indicators_present"]
    assert [(r["period"], r["indicator_code"]) for r in outcome.rows] == [("2023-09", "VAX_DOSES")]


def test_each_month_judged_alone_equals_its_share_of_one_evaluation(published):
    """The asset checks judge each month on its own; running each query once for all months and splitting its
    rows by period gives the same outcomes, planted failures included (a wrong province figure in one month)."""
    copy = published["warehouse"].parent / "by_month"
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir()
    shutil.copyfile(published["warehouse"] / "p06.duckdb", copy / "p06.duckdb")
    con = duckdb.connect(str(copy / "p06.duckdb"))
    try:
        con.execute("UPDATE marts.indicator_monthly SET numerator = numerator + 7 WHERE period = '2023-09' "
                    "AND unit_level = 'province' AND indicator_code = 'VAX_DOSES'")
        together = publication_checks.evaluate_by_month(con, MONTHS)
        alone = {m: publication_checks.evaluate(con, [m]) for m in MONTHS}
    finally:
        con.close()
    view = lambda outcomes: [(o.check.id, o.passed, o.failing, o.rows) for o in outcomes]  # noqa: E731
    assert {m: view(o) for m, o in together.items()} == {m: view(o) for m, o in alone.items()}
    assert {o.check.id for o in together["2023-09"] if not o.passed} == {"province_is_sum_of_units",
                                                                          "value_is_ratio_of_parts"}
    assert all(o.passed for o in together["2023-08"])


def test_a_null_gap_is_a_failure(tmp_path):
    """A comparison that could not be made (NULL) fails the check, in Great Expectations as in the asset check."""
    frame = pd.DataFrame({"period": ["2023-09", "2023-09"], "unit_code": ["38", "380"],
                          "indicator_code": ["BHXH_VERIFIED_SHARE"] * 2, "value": [96.2, 95.0],
                          "expected_value": [96.2, None], "gap": [0.0, None]})
    table = "check_value_is_ratio_of_parts"
    collected = quality.Collected(["2023-09"], {table: list(frame.columns)}, {table: frame}, {"2023-09": {"bhxh"}})
    summary = quality.validate_collected(collected, tmp_path)
    assert not summary.success
    (entry,) = [f for f in summary.tables[table]["failed"] if f["expectation"] == "expect_column_values_to_not_be_null"]
    assert entry["failing_rows"][0]["unit_code"] == "380"
    check = next(c for c in publication_checks.load().checks if c.id == "value_is_ratio_of_parts")
    assert len(publication_checks.failing(check, frame, publication_checks.load())) == 1


def test_a_failed_check_is_a_blocking_asset_check_of_its_mart(published, tmp_path, monkeypatch):
    """Dagster itself stops the exports and the analysts' copy after a failed check of the publication, and shows
    each check's result on the mart it judges."""
    import dagster as dg

    from assets.publish import analyst_copy, monthly_report, published_marts
    from pipelines.resources import default_resources
    warehouse_dir = tmp_path / "warehouse"
    shutil.copytree(published["warehouse"], warehouse_dir)
    copy_before = (warehouse_dir / "p06_published.duckdb").read_bytes()
    failing = tmp_path / "publication.yaml"
    failing.write_text(publication_checks.CHECKS_FILE.read_text(encoding="utf-8").replace(
        "expect: {column: excess, min: 0, max: 0}", "expect: {column: value, min: 0, max: 50}"), encoding="utf-8")
    monkeypatch.setenv("P06_PUBLICATION_CHECKS", str(failing))
    monkeypatch.setenv("P06_RAW_DIR", str(published["raw"]))
    monkeypatch.setenv("P06_WAREHOUSE_DIR", str(warehouse_dir))
    result = dg.materialize([published_marts, monthly_report, analyst_copy], partition_key="2023-09",
                            resources=default_resources(), raise_on_error=False)
    assert not result.success
    evaluations = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
    failed = evaluations[("indicator_monthly", "values_within_bounds")]
    assert not failed.passed and failed.blocking and failed.severity == dg.AssetCheckSeverity.ERROR
    assert failed.description.startswith("values_within_bounds: Each value lies within its declared bounds")
    assert "Failing rows, e.g.: period 2023-09" in failed.description
    assert evaluations[("public_services_monthly", "service_counts_are_whole")].passed
    assert evaluations[("source_completeness", "expected_units_present_or_flagged")].passed
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "marts/indicator_monthly" in materialized
    assert not materialized & {"exports/monthly_report", "exports/analyst_copy"}      # stopped by Dagster
    assert (warehouse_dir / "p06_published.duckdb").read_bytes() == copy_before


# ------------------------------------------------------------------ p06 check and the history rules

def _bhxh(raw: Path) -> Path:
    (path,) = sorted((raw / "2023-09" / "bhxh").iterdir())
    return path


def test_p06_check_names_the_history_rules_it_cannot_run(sample_raw, tmp_path, monkeypatch, capsys):
    from pipelines import cli
    warehouse_dir = tmp_path / "warehouse"
    warehouse_dir.mkdir()
    monkeypatch.setenv("P06_WAREHOUSE_DIR", str(warehouse_dir))
    rules = cli._history_rules("bhxh")
    assert rules                                   # bhxh has month-over-month rules
    assert cli.main(["check", str(_bhxh(sample_raw)), "--period", "2023-09"]) == 0      # no copy yet: said, not hidden
    assert "not run (no analysts' copy with earlier months yet): " + ", ".join(rules) in capsys.readouterr().out
    (warehouse_dir / "p06_published.duckdb").write_bytes(b"not a database " * 100)        # a damaged copy
    assert cli.main(["check", str(_bhxh(sample_raw)), "--period", "2023-09"]) == 2
    err = capsys.readouterr().err
    assert f"the month-over-month rules ({', '.join(rules)}) cannot run" in err


# ------------------------------------------------------------------ calamine's merged ranges

class _Sheet:
    name = "Sheet1"

    def __init__(self, ranges=None, fails=False):
        self._ranges, self._fails = ranges, fails

    @property
    def merged_cell_ranges(self):
        if self._fails:
            raise ValueError("unsupported")
        return self._ranges


def test_calamine_merged_ranges_not_read_are_noted():
    from p06.ingest.formats import calamine
    assert calamine._merged(_Sheet([((0, 0), (0, 2))])) == ([((0, 0), (0, 2))], None)
    for sheet in (_Sheet(None), _Sheet(fails=True)):
        ranges, note = calamine._merged(sheet)
        assert ranges == [] and "sheet 'Sheet1': merged cells not read" in note
