"""The checks of a publication (checks/publication.yaml) pass on the samples and each fails on a defect
planted in a published row of a copy of the warehouse; a failed check fails `p06 run` and keeps the analysts'
copy; Data Docs need no network."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import duckdb
import pytest

from p06 import config
from p06.publish import publication_checks, quality
from tests.conftest import copy_sample_run

MONTHS = ["2023-08", "2023-09"]


def p06_env(raw: Path, warehouse_dir: Path) -> dict:
    return {**os.environ, "P06_RAW_DIR": str(raw), "P06_WAREHOUSE_DIR": str(warehouse_dir),
            "DAGSTER_DISABLE_TELEMETRY": "true", "GX_ANALYTICS_ENABLED": "false"}


@pytest.fixture(scope="module")
def published(sample_run, tmp_path_factory) -> dict:
    """Both 2023 sample months run through `p06 run` once (a copy of the session's run; treat as read-only)."""
    return copy_sample_run(sample_run, tmp_path_factory.mktemp("published"))


def validate(warehouse_dir: Path, plant: str | None = None) -> quality.QualitySummary:
    """Copy the warehouse, run the planted SQL on the copy, validate both months."""
    copy = warehouse_dir.parent / f"copy_{abs(hash(plant)) % 10**8}"
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir()
    shutil.copyfile(warehouse_dir / "p06.duckdb", copy / "p06.duckdb")
    con = duckdb.connect(str(copy / "p06.duckdb"))
    try:
        if plant:
            con.execute(plant)
            assert con.execute("SELECT 1").fetchall()
        return quality.validate_collected(quality.collect(con, MONTHS), copy)
    finally:
        con.close()


def failed_checks(summary: quality.QualitySummary) -> set[str]:
    return {f["check"] for t in summary.tables.values() for f in t["failed"]}


def test_every_check_passes_on_the_samples(published):
    summary = validate(published["warehouse"])
    declared = {c.id for c in publication_checks.load().checks}
    assert summary.success, failed_checks(summary)
    assert {t.removeprefix("check_") for t in summary.tables} == declared
    # per month: one expectation per check, and for a column judged within bounds a second (no NULL in it)
    assert summary.statistics["evaluated_expectations"] == len(MONTHS) * sum(1 + (c.expect.column is not None)
                                                                             for c in publication_checks.load().checks)


IM = "UPDATE marts.indicator_monthly SET "
PLANTED = {
    # the province figure no longer the sum of its units' rows (value kept consistent with it)
    "province_is_sum_of_units": IM + "numerator = numerator + 1, value = (numerator + 1) / denominator * factor "
                                     "WHERE period = '2023-09' AND unit_level = 'province' AND indicator_code = 'BHXH_VERIFIED_SHARE'",
    # a value that is not its numerator / denominator x factor
    "value_is_ratio_of_parts": IM + "value = value * 0.9 "
                                    "WHERE period = '2023-09' AND unit_code = '380' AND indicator_code = 'BHXH_VERIFIED_SHARE'",
    # last month's value not the one published last month
    "previous_value_is_last_month": IM + "previous_value = previous_value + 5 "
                                         "WHERE period = '2023-09' AND unit_level = 'province' AND indicator_code = 'CIVIL_ENTERED_BIRTH'",
    # a share of a whole above 100% (numerator and value consistent)
    "values_within_bounds": IM + "numerator = 2 * denominator, value = 2 * factor "
                                 "WHERE period = '2023-09' AND unit_code = '381' AND indicator_code = 'CHILDREN_UPDATED_SHARE'",
    # a count with a fraction
    "counts_are_whole": IM + "numerator = numerator + 0.5, value = numerator + 0.5 "
                             "WHERE period = '2023-09' AND unit_code = '382' AND indicator_code = 'MERIT_REMAINING'",
    # more dossiers online than dossiers
    "service_counts_are_whole": "UPDATE marts.public_services_monthly SET dossiers_online = dossiers_total + 3 "
                                "WHERE period = '2023-09' AND service_code = 'PL2-02'",
    # a source the completeness table says delivered, with no accepted delivery
    "expected_sources_present_or_flagged": "UPDATE raw.deliveries SET status = 'rejected' "
                                           "WHERE period = '2023-09' AND source = 'ho_tich'",
    # a unit whose rows vanished, neither listed missing nor named by a finding
    "expected_units_present_or_flagged": "DELETE FROM staging.observations "
                                         "WHERE period = '2023-09' AND source = 'tre_em' AND unit_code = '384'",
}


@pytest.mark.parametrize("check", sorted(PLANTED))
def test_each_check_fails_on_a_planted_defect(published, check):
    summary = validate(published["warehouse"], PLANTED[check])
    assert not summary.success
    assert check in failed_checks(summary)
    (entry,) = [f for t in summary.tables.values() for f in t["failed"] if f["check"] == check]
    assert entry["failing_rows"], entry          # the failing rows are named
    shown = {c for c in next(c for c in publication_checks.load().checks if c.id == check).show}
    assert set(entry["failing_rows"][0]) <= shown and len(entry["failing_rows"][0]) <= 6


def test_a_gx_project_cut_short_by_a_stopped_run_is_made_again(published, tmp_path, caplog):
    """GX rewrites its configuration, suites and validation definitions in place while validating: a run stopped
    then (tests/test_one_writer.py kills runs at random moments) leaves them cut short, and the next run's
    validation must still work. Every file of the project but the results and Data Docs is declared again."""
    copy = tmp_path / "w"
    shutil.copytree(published["warehouse"], copy)
    gx_dir = copy / "gx"
    cut = [gx_dir / "great_expectations.yml", *sorted((gx_dir / "expectations").rglob("*.json"))[:1],
           *sorted((gx_dir / "validation_definitions").glob("*.json"))[:1]]
    assert len(cut) == 3, cut
    for path in cut:
        text = path.read_text(encoding="utf-8")
        path.write_text(text[: len(text) // 2], encoding="utf-8")
    con = duckdb.connect(str(copy / "p06.duckdb"))
    try:
        summary = quality.validate_collected(quality.collect(con, MONTHS), copy)
    finally:
        con.close()
    assert summary.success, failed_checks(summary)
    assert sorted(p.name.split(".unreadable-")[0] for p in gx_dir.rglob("*.unreadable-*")) == sorted(p.name for p in cut)
    assert "could not be read" in caplog.text


def test_failing_rows_are_narrow_and_rounded(published):
    summary = validate(published["warehouse"], PLANTED["value_is_ratio_of_parts"])
    (entry,) = [f for t in summary.tables.values() for f in t["failed"] if f["check"] == "value_is_ratio_of_parts"]
    row = entry["failing_rows"][0]
    for key in ("value", "expected_value"):
        digits = re.sub(r"[^0-9]", "", repr(row[key]).lstrip("0.").split("e")[0])
        assert len(digits.rstrip("0")) <= 4, row


def test_data_docs_load_nothing_from_the_network(published):
    index = published["warehouse"] / "gx" / "data_docs" / "index.html"
    html = index.read_text(encoding="utf-8")
    remote = re.findall(r"<(?:link|script)[^>]+(?:href|src)=\"(https?://[^\"]+)\"", html)
    assert not remote, remote
    local = re.findall(r"<(?:link|script)[^>]+(?:href|src)=\"([^\"]+\.(?:css|js))\"", html)
    assert any(p.endswith("bootstrap.min.css") for p in local), local
    for ref in local:
        assert (index.parent / ref).is_file(), ref
    pages = list((index.parent / "validations").rglob("*.html"))
    assert pages
    page = pages[0].read_text(encoding="utf-8")
    assert not re.findall(r"<(?:link|script)[^>]+(?:href|src)=\"https?://", page)


def test_every_link_of_the_data_docs_leads_to_a_file(published):
    """Every page's relative links (styles, scripts, icons, the suites' and validations' pages) resolve within the
    site, whatever the folder depth GX puts a page at."""
    site = published["warehouse"] / "gx" / "data_docs"
    broken, checked = [], 0
    for page in site.rglob("*.html"):
        for ref in re.findall(r"(?:href|src)=\"([^\"]+)\"", page.read_text(encoding="utf-8")):
            if re.match(r"(?:[a-z]+:|#)", ref):
                continue
            checked += 1
            if not (page.parent / unquote(ref.split("#")[0].split("?")[0])).exists():
                broken.append(f"{page.relative_to(site)}: {ref}")
    assert checked > 100 and broken == [], broken[:5]


def test_a_failed_check_fails_the_run_and_keeps_the_analysts_copy(published, tmp_path):
    """A defect the pipeline would publish (here: a declared bound tightened below the samples' values, in a
    copy of the checks file) fails `p06 run`, names the check, and leaves the analysts' copy as it was."""
    warehouse_dir = tmp_path / "warehouse"
    shutil.copytree(published["warehouse"], warehouse_dir)
    copy = warehouse_dir / "p06_published.duckdb"
    before = copy.read_bytes()
    workbook = warehouse_dir / "exports" / "2023-09" / "DA06_2023-09.xlsx"
    workbook_time = workbook.stat().st_mtime_ns
    checks_file = tmp_path / "publication.yaml"
    text = publication_checks.CHECKS_FILE.read_text(encoding="utf-8")
    checks_file.write_text(text.replace("expect: {column: excess, min: 0, max: 0}",
                                        "expect: {column: value, min: 0, max: 50}"), encoding="utf-8")
    con = duckdb.connect(str(warehouse_dir / "p06.duckdb"))
    con.execute("DELETE FROM raw.publication_state WHERE period = '2023-09'")     # the month to publish again
    con.close()
    result = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--period", "2023-09"], cwd=config.REPO_DIR,
                            env={**p06_env(published["raw"], warehouse_dir), "P06_PUBLICATION_CHECKS": str(checks_file)},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "check failed: values_within_bounds: Each value lies within its declared bounds" in result.stderr
    assert "Failing rows, e.g.: period 2023-09, unit_code " in result.stderr
    assert copy.read_bytes() == before
    assert workbook.stat().st_mtime_ns == workbook_time                      # nor the report writers' files
    # the blocking check stopped the run before the exports: the month's last validation is the good one
    assert '"success": true' in (warehouse_dir / "exports" / "2023-09" / "quality.json").read_text(encoding="utf-8")


def test_a_publication_that_fails_its_checks_is_no_vintage(published, tmp_path, monkeypatch):
    """A changed figure makes vintage 2 of September; while its checks fail it is withdrawn (no vintage, no
    errata, no history rows); once they pass it is recorded as checked."""
    from p06 import warehouse
    from p06.documents import exports
    from p06.publish import vintages
    from p06.publish.marts import publish_periods
    warehouse_dir = tmp_path / "warehouse"
    shutil.copytree(published["warehouse"], warehouse_dir)
    failing = tmp_path / "publication.yaml"
    failing.write_text(publication_checks.CHECKS_FILE.read_text(encoding="utf-8").replace(
        "expect: {column: excess, min: 0, max: 0}", "expect: {column: value, min: 0, max: 50}"), encoding="utf-8")
    with warehouse.connect(warehouse_dir / "p06.duckdb") as con:
        assert con.execute("SELECT vintage, checked FROM marts.publications WHERE period = '2023-09'").fetchall() == [(1, True)]
        con.execute("""UPDATE staging.observations SET value = value + 100 WHERE period = '2023-09' AND source = 'bhxh'
                       AND measure = 'participants_verified' AND unit_code = '384' AND NOT stated""")
        publish_periods(con, ["2023-09"])
        assert vintages.current(con, "2023-09")["vintage"] == 2
        monkeypatch.setenv("P06_PUBLICATION_CHECKS", str(failing))
        out = exports.export_periods(con, ["2023-09"], warehouse_dir)
        assert out["2023-09"]["expectations"].startswith("FAILED")
        assert con.execute("SELECT vintage, checked FROM marts.publications WHERE period = '2023-09'").fetchall() == [(1, True)]
        assert con.execute("SELECT count(*) FROM marts.errata WHERE period = '2023-09'").fetchone() == (0,)
        assert con.execute("SELECT max(vintage) FROM marts.indicator_history WHERE period = '2023-09'").fetchone() == (1,)
        assert state_unchecked(con) == ["2023-09"]
        monkeypatch.delenv("P06_PUBLICATION_CHECKS")
        publish_periods(con, ["2023-09"])                 # the next run publishes it again: now it passes
        out = exports.export_periods(con, ["2023-09"], warehouse_dir)
        assert out["2023-09"]["expectations"].startswith("passed")
        assert con.execute("SELECT vintage, checked FROM marts.publications WHERE period = '2023-09' "
                           "ORDER BY vintage").fetchall() == [(1, True), (2, True)]
        (old, new), = con.execute("SELECT old_value, new_value FROM marts.errata WHERE period = '2023-09' "
                                  "AND unit_code = '384' AND indicator_code = 'BHXH_VERIFIED_SHARE' AND figure = 'value'").fetchall()
        assert new > old
        assert state_unchecked(con) == []


def state_unchecked(con) -> list[str]:
    from p06.publish import state
    return state.unchecked_months(con)


def test_what_p06_run_plans_after_a_failed_publication_and_for_an_empty_month(published, tmp_path, monkeypatch):
    """A month whose files differ from those last loaded is run again even when they equal those of its last good
    publication (a re-send loaded, failed its checks, then withdrawn); a month folder without files is run only
    when named."""
    from p06 import landing
    from pipelines import cli
    raw, warehouse_dir = tmp_path / "raw", tmp_path / "warehouse"
    shutil.copytree(published["raw"], raw)
    shutil.copytree(published["warehouse"], warehouse_dir)
    monkeypatch.setenv("P06_RAW_DIR", str(raw))
    monkeypatch.setenv("P06_WAREHOUSE_DIR", str(warehouse_dir))
    (raw / "2023-10").mkdir()
    months = landing.landing_periods(raw)
    assert cli.stale_months(raw, months, months) == ([], set())
    assert cli.stale_months(raw, months, months, frozenset({"2023-10"}))[0] == ["2023-10"]
    con = duckdb.connect(str(warehouse_dir / "p06.duckdb"))     # as if another bhxh file had been loaded last
    con.execute("UPDATE raw.deliveries SET fingerprint = 'a withdrawn re-send' WHERE period = '2023-09' AND source = 'bhxh'")
    con.close()
    assert cli.stale_months(raw, months, months) == (["2023-09"], {"bhxh"})
