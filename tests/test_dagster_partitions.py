"""Each month tells its own truth in Dagster, whatever the run's range: after one `p06 run` over a landing zone
with gaps (2023-08, 2023-09, then nothing until 2025-06), the instance holds a materialization for each month
with deliveries and none for the months between, each with that month's own metadata, and check results that
carry their month and equal those of runs of each month alone."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from p06 import config
from tests.conftest import SAMPLE_RAW

REPO = config.REPO_DIR
MONTHS = ("2023-08", "2023-09", "2025-06")
ABSENT = ("2025-06", "nguoi_co_cong")          # expected in 2025-06, not delivered: its check fails, for that month only


def landing(dest: Path, months) -> Path:
    raw = dest / "raw"
    for month in months:
        if not (raw / month).exists():
            shutil.copytree(SAMPLE_RAW / month, raw / month)
    shutil.rmtree(raw / ABSENT[0] / ABSENT[1], ignore_errors=True)
    return raw


def p06_run(raw: Path, warehouse_dir: Path, home: Path) -> subprocess.CompletedProcess:
    if not (home / "dagster.yaml").exists():
        home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "P06_RAW_DIR": str(raw), "P06_WAREHOUSE_DIR": str(warehouse_dir), "DAGSTER_HOME": str(home)}
    result = subprocess.run([sys.executable, "-m", "pipelines.cli", "run"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr[-3000:]
    return result


def read_instance(home: Path) -> dict:
    """Materializations by asset and month; check evaluations by (asset, check, month)."""
    from dagster._core.instance.ref import InstanceRef
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    try:
        materialized: dict[tuple, dict] = {}
        for key in (["staging", "vneid"], ["staging", "dvc"], ["marts", "reconciliation_findings"],
                    ["marts", "indicator_monthly"], ["exports", "monthly_report"], ["exports", "analyst_copy"]):
            records = instance.fetch_materializations(dg.AssetKey(key), limit=1000).records
            for record in reversed(records):               # oldest first: the latest of a month wins
                event = record.asset_materialization
                materialized[(tuple(key), event.partition)] = {k: v.value for k, v in event.metadata.items()}
        checks: dict[tuple, tuple] = {}
        for run in reversed(instance.get_runs()):
            for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
                data = entry.dagster_event.event_specific_data
                shown = {k: (v.value if not isinstance(v, dg.TableMetadataValue) else [r.data for r in v.records])
                         for k, v in data.metadata.items()}
                checks[(data.asset_key.to_user_string(), data.check_name, data.partition)] = (data.passed, data.severity, shown)
        return {"materialized": materialized, "checks": checks, "runs": instance.get_runs()}
    finally:
        instance.dispose()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("partitions")
    together = base / "together"
    raw = landing(together, MONTHS)
    ran = p06_run(raw, together / "warehouse", together / "home")
    alone = base / "alone"                 # the same months, each run on its own as it arrives
    for i in range(len(MONTHS)):
        p06_run(landing(alone, MONTHS[: i + 1]), alone / "warehouse", alone / "home")
    return {"stdout": ran.stdout, "warehouse": together / "warehouse",
            "together": read_instance(together / "home"), "alone": read_instance(alone / "home")}


def test_materialized_partitions_are_the_months_with_deliveries(runs):
    materialized = runs["together"]["materialized"]
    for key in {k for k, _ in materialized}:
        assert sorted(p for k, p in materialized if k == key) == list(MONTHS), key
    assert "the months between have nothing to do" in runs["stdout"]


def test_each_partition_says_its_own_rows(runs):
    materialized = runs["together"]["materialized"]
    con = duckdb.connect(str(runs["warehouse"] / "p06.duckdb"), read_only=True)
    try:
        indicators = dict(con.execute("SELECT period, count(*) FROM marts.indicator_monthly GROUP BY period").fetchall())
        staged = dict(con.execute("SELECT period, count(*) FROM staging.observations WHERE source = 'vneid' "
                                  "GROUP BY period").fetchall())
        errors = dict(con.execute("SELECT period, count(*) FROM marts.reconciliation_findings WHERE severity = 'error' "
                                  "GROUP BY period").fetchall())
    finally:
        con.close()
    assert len(set(indicators.values())) > 1                   # months differ (districts, then fewer districts)
    for month in MONTHS:
        assert materialized[(("marts", "indicator_monthly"), month)]["rows"] == indicators[month]
        assert materialized[(("staging", "vneid"), month)]["rows"] == staged[month]
        assert materialized[(("marts", "reconciliation_findings"), month)]["errors"] == errors.get(month, 0)
        assert materialized[(("exports", "monthly_report"), month)]["workbook"].endswith(f"DA06_{month}.xlsx")
        assert materialized[(("marts", "indicator_monthly"), month)]["vintage"] == 1


def test_check_results_carry_their_month_and_equal_single_month_runs(runs):
    together, alone = runs["together"]["checks"], runs["alone"]["checks"]
    assert len(runs["together"]["runs"]) == 2 and len(runs["alone"]["runs"]) == 3
    assert {p for _, _, p in together} == set(MONTHS), [k for k in together if k[2] is None]   # every result has its month
    assert together == alone
    failed = sorted((check, p) for (_, check, p), (passed, _, m) in together.items() if not passed
                    and check == "delivery_accepted")
    assert failed == [("delivery_accepted", ABSENT[0])]                   # expected and missing: once, for its month
    assert together[(f"staging/{ABSENT[1]}", "delivery_accepted", ABSENT[0])][2]["missing"] is True
    assert any(not passed for (_, check, _), (passed, _, _) in together.items() if check.startswith("rules_"))


def test_p06_runs_are_runs_of_the_code_location(runs):
    """What the UI's Overview timeline groups runs by: the code location (pyproject's [tool.dagster]) and repository."""
    for run in runs["together"]["runs"] + runs["alone"]["runs"]:
        origin = run.remote_job_origin.repository_origin
        assert (origin.code_location_origin.location_name, origin.repository_name, run.job_name) == \
            ("p06", "__repository__", "monthly_job")
