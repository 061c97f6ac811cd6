"""The whole monthly job, as `p06 run` and Dagster run it, on the sample months in a temporary warehouse."""
import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import SAMPLE_MONTHS, copy_sample_run, landing_env, make_newer, sample_file
from openpyxl import Workbook

from p06.publish.comments import missing_comments, write_data_dictionary
from pipelines import cli
from pipelines.definitions import defs

REPO = Path(__file__).resolve().parent.parent
MANIFEST = json.loads((REPO / "raw" / "MANIFEST.json").read_text())


@pytest.fixture(scope="module")
def env(sample_run, tmp_path_factory):
    """A copy of the session's first `p06 run` over both sample months."""
    run = copy_sample_run(sample_run, tmp_path_factory.mktemp("e2e"))
    with landing_env(run["raw"], run["warehouse"]) as env:
        yield env


@pytest.fixture(scope="module")
def first_run(sample_run):
    return sample_run["code"]


def query(env, sql, params=None):
    con = duckdb.connect(str(env["warehouse"] / "p06_published.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_run_loads_both_months_and_publishes(env, first_run):
    assert first_run == 0
    loaded = query(env, "SELECT period, count(DISTINCT source) FROM raw.deliveries WHERE status = 'loaded' GROUP BY 1 ORDER BY 1")
    assert loaded == [("2023-08", 9), ("2023-09", 9)]
    for period in ("2023-08", "2023-09"):
        out = env["warehouse"] / "exports" / period
        assert (out / f"DA06_{period}.xlsx").is_file() and (out / f"bao_cao_DA06_{period}.md").is_file()
    assert (env["warehouse"] / "gx" / "data_docs" / "index.html").is_file()


def test_findings_are_the_manifest_inconsistencies(env, first_run):
    rows = query(env, "SELECT period, source, unit_code, severity FROM marts.reconciliation_findings ORDER BY 1, 2, 3")
    assert [r for r in rows if r[3] == "error"] == [("2023-09", "dvc", "PL3-01", "error")]
    flagged = {(p, s) for p, s, _, _ in rows}
    for line in MANIFEST["inconsistencies"]:
        source, period = line.split()[:2]
        if period in SAMPLE_MONTHS:             # the 2025 months: test_samples_2025
            assert (period, source) in flagged, line
    assert {r[:3] for r in rows} >= {("2023-09", "nguoi_co_cong", "38"), ("2023-09", "dvc", "PL2-08"),
                                    ("2023-09", "bhxh", "384"), ("2023-09", "ho_tich", "399"), ("2023-09", "ho_tich", "38")}


def test_second_run_reports_everything_unchanged(env, first_run, capsys):
    before = query(env, "SELECT count(*) FROM raw.deliveries")
    assert cli.main(["run"]) == 0
    printed = capsys.readouterr().out
    assert printed.count(" unchanged ") == 18 and " loaded " not in printed
    assert query(env, "SELECT count(*) FROM raw.deliveries") == before


def test_rejected_delivery_keeps_last_good_load_and_exits_nonzero(env, first_run, capsys):
    good = sample_file(env["raw"], "2023-09", "tre_em")
    before = query(env, "SELECT sum(value) FROM staging.observations WHERE source = 'tre_em' AND period = '2023-09'")
    bad = good.with_name("tre_em_T9_2023_gui_lai.xlsx")
    wb = Workbook()
    wb.active.append(["STT", "Huyện/thị xã/thành phố", "Tổng số trẻ em", "Số trẻ em đã cập nhật, chuẩn hóa"])
    wb.active.append([1, "TP Thanh Hóa", "đang cập nhật", 5])
    wb.save(bad)
    make_newer(bad, good, seconds=1)    # both re-sends dated before the month's first publication: on time
    fixed = good.with_name("tre_em_T9_2023_gui_lai_lan_2.xlsx")
    try:
        assert cli.main(["run", "--period", "2023-09"]) == 1
        printed = capsys.readouterr().out
        assert "tre_em         rejected" in printed and "'đang cập nhật' is not a number" in printed
        assert f"(the last good load kept: {good.name})" in printed
        assert "row 2, column C" in printed
        assert "another file of this source-month was rejected" not in printed   # the sound file held back: not a reason
        assert query(env, "SELECT sum(value) FROM staging.observations WHERE source = 'tre_em' AND period = '2023-09'") == before
        assert " unchanged " in printed.split("tre_em")[0]          # the other sources carried on
        assert delivery_status(env, "tre_em") == ("rejected", 1)   # the refused file shown where leaders look
        # the month's new vintage says why: its completeness counts a refused file, caused by that file
        assert refusal_errata(env) == [("rejected_deliveries", 0.0, 1.0, "delivery_rejected", f"2023-09/tre_em/{bad.name}")]
        # the department sends a good file after it: nothing refused is left to send back
        fixed.write_bytes(good.read_bytes())
        make_newer(fixed, bad, seconds=1)
        assert cli.main(["run", "--period", "2023-09"]) == 0
        assert delivery_status(env, "tre_em") == ("received", 0)
        assert refusal_errata(env) == [("rejected_deliveries", 1.0, 0.0, "delivery", f"2023-09/tre_em/{fixed.name}")]
    finally:
        bad.unlink()
        fixed.unlink(missing_ok=True)


def refusal_errata(env) -> list[tuple]:
    """The errata of the latest vintage of 2023-09 about refused files of tre_em: (figure, old, new, cause, file)."""
    with duckdb.connect(str(env["warehouse"] / "p06.duckdb"), read_only=True) as con:
        return con.execute("SELECT figure, old_value, new_value, cause, file FROM marts.errata WHERE period = '2023-09' "
                           "AND vintage = (SELECT max(vintage) FROM marts.publications WHERE period = '2023-09') "
                           "AND source = 'tre_em' AND figure = 'rejected_deliveries'").fetchall()


def delivery_status(env, source: str) -> tuple[str, int]:
    """(the month's dashboard status of a source, its refused files in marts.source_completeness) for 2023-09."""
    page = (env["warehouse"] / "exports" / "2023-09" / "dashboard.html").read_text(encoding="utf-8")
    with duckdb.connect(str(env["warehouse"] / "p06.duckdb"), read_only=True) as con:
        (rejected,), = con.execute("SELECT rejected_deliveries FROM marts.source_completeness "
                                   "WHERE period = '2023-09' AND source = ?", [source]).fetchall()
    row = page.split(f"({source})</small>", 1)[1]              # the grid's row: the latest month's cell first
    return row.split('data-status="', 1)[1].split('"', 1)[0], rejected


@pytest.fixture(scope="module")
def september_run(env, first_run):
    """The Dagster job itself (as `dagster dev` runs it), for September, on the loaded warehouse."""
    job = defs.resolve_job_def("monthly_job")
    return job.execute_in_process(partition_key="2023-09", instance=dg.DagsterInstance.ephemeral(), run_config=cli.QUIET)


def test_dagster_checks_show_deliveries_and_rules(september_run):
    result = september_run
    assert result.success
    checks = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
    assert all(checks[(s, "delivery_accepted")].passed for s in ("vneid", "bhxh", "dvc"))
    assert not any(name == "schema" for _, name in checks)     # the loader enforces it: a check could not fail
    assert not checks[("reconciliation_findings", "rules_dvc")].passed
    assert checks[("reconciliation_findings", "rules_dvc")].severity == dg.AssetCheckSeverity.ERROR
    assert not checks[("reconciliation_findings", "rules_nguoi_co_cong")].passed
    assert checks[("reconciliation_findings", "rules_nguoi_co_cong")].severity == dg.AssetCheckSeverity.WARN
    assert checks[("reconciliation_findings", "rules_vneid")].passed


def test_data_dictionary_in_docs_matches_the_warehouse(env, first_run, tmp_path):
    con = duckdb.connect(str(env["warehouse"] / "p06_published.duckdb"), read_only=True)
    try:
        assert missing_comments(con) == []
        generated = write_data_dictionary(con, tmp_path)
    finally:
        con.close()
    assert generated.read_text() == (REPO / "docs" / "data_dictionary.md").read_text(), \
        "docs/data_dictionary.md is stale: regenerate it with `p06 docs`"


def test_rule_checks_carry_the_failing_cases_as_a_table(september_run):
    (check,) = [e for e in september_run.get_asset_check_evaluations() if e.check_name == "rules_nguoi_co_cong"]
    table = check.metadata["failing cases"]
    assert isinstance(table, dg.TableMetadataValue)
    rows = [r.data for r in table.records]
    assert {(r["unit_code"], r["expected"], r["actual"]) for r in rows} == {("38", "5078", "5123")}
    assert all("!E33" in r["cell"] for r in rows)
    assert len(table.schema.columns) <= 7                   # fits a page


def test_rule_checks_show_ratios_as_rounded_percentages(september_run):
    (check,) = [e for e in september_run.get_asset_check_evaluations() if e.check_name == "rules_dvc"]
    rows = {r.data["rule_id"]: r.data for r in check.metadata["failing cases"].value.records}
    assert rows["stated_ratio"]["expected"] == "78.23%" and rows["stated_ratio"]["actual"] == "78.25%"


def test_a_corrected_earlier_month_republishes_the_months_after_it(env, first_run, capsys):
    """September compares with August: a corrected August file must change September's findings and changes."""
    import openpyxl
    original = sample_file(env["raw"], "2023-08", "bhxh")
    corrected = original.with_name("BHXH_bao_cao_DA06_T8.2023_sua.xlsx")
    wb = openpyxl.load_workbook(original)
    sheet = wb["Xác thực CSDL"]
    assert sheet["B9"].value == "Mường Lát" and sheet["D9"].value == "32.674"
    sheet["D9"] = "32.600"                       # below September's 32.637: the stock no longer falls
    wb.save(corrected)
    make_newer(corrected, original)
    september = ("SELECT count(*) FROM marts.reconciliation_findings "
                 "WHERE period = '2023-09' AND source = 'bhxh' AND unit_code = '384'")
    assert query(env, september) == [(1,)]
    try:
        assert cli.main(["run", "--period", "2023-08"]) == 0
        assert "2023-09  republished: it compares with 2023-08" in capsys.readouterr().out
        assert query(env, september) == [(0,)]
        (participants,), = query(env, "SELECT value FROM staging.observations WHERE period = '2023-08' "
                                      "AND unit_code = '384' AND measure = 'participants'")
        (previous,), = query(env, "SELECT previous_value FROM marts.indicator_monthly WHERE period = '2023-09' "
                                  "AND unit_code = '384' AND indicator_code = 'BHXH_VERIFIED_SHARE'")
        assert previous == pytest.approx(100 * 32600 / participants)
    finally:
        corrected.unlink()
        cli.main(["run", "--period", "2023-08"])
    assert query(env, september) == [(1,)]
