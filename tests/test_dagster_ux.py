"""Dagster as a data engineer sees it: `p06 run` records in the instance the UI reads; a month without any
delivery publishes nothing; an unchanged re-run records what staging holds; partitions start at the first
month of the landing zone; descriptions render (no '<month>')."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import duckdb
import pytest

from p06 import config
from tests.conftest import copy_samples

REPO = config.REPO_DIR


def p06(raw: Path, warehouse_dir: Path, *args: str, home: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "P06_RAW_DIR": str(raw), "P06_WAREHOUSE_DIR": str(warehouse_dir)}
    env.pop("DAGSTER_HOME", None)
    if home:
        env["DAGSTER_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "pipelines.cli", "run", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def instance_run(tmp_path_factory) -> dict:
    """September run by `p06 run` into an instance folder made like the project's (.dagster/dagster.yaml)."""
    base = tmp_path_factory.mktemp("instance")
    raw = copy_samples(base, months=("2023-09",))
    home = base / ".dagster"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    first = p06(raw, base / "warehouse", home=home)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    return {"base": base, "raw": raw, "home": home, "warehouse": base / "warehouse"}


def test_a_p06_run_shows_in_the_instance_the_ui_reads(instance_run):
    from dagster._core.instance.ref import InstanceRef

    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(instance_run["home"])))
    try:
        runs = instance.get_runs()
        assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.SUCCESS
        assert runs[0].tags.get("dagster/partition") == "2023-09"
        for key in (["staging", "vneid"], ["marts", "indicator_monthly"], ["exports", "analyst_copy"]):
            event = instance.get_latest_materialization_event(dg.AssetKey(key))
            assert event is not None and event.run_id == runs[0].run_id, key
            assert event.asset_materialization.partition == "2023-09"
    finally:
        instance.dispose()
    assert not any((REPO / name).exists() for name in (".nux", "logs", ".logs_queue"))   # all in DAGSTER_HOME


def test_the_project_instance_is_the_dagster_folder(monkeypatch):
    from pipelines import cli

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("P06_WAREHOUSE_DIR", raising=False)
    instance = cli._instance()
    try:
        assert Path(instance.root_directory).resolve() == (REPO / ".dagster").resolve()
    finally:
        instance.dispose()
    ignored = subprocess.run(["git", "check-ignore", ".dagster/runs.db", ".dagster/dagster.yaml"], cwd=REPO,
                             capture_output=True, text=True).stdout.split()
    assert ignored == [".dagster/runs.db", ".dagster/dagster.yaml"]     # nothing of the instance is tracked
    assert (REPO / ".dagster" / "dagster.yaml").resolve() == (REPO / "dagster.yaml").resolve()  # its settings: ours


def test_an_unchanged_rerun_records_what_staging_holds(instance_run):
    from dagster._core.instance.ref import InstanceRef

    again = p06(instance_run["raw"], instance_run["warehouse"], "--period", "2023-09", home=instance_run["home"])
    assert again.returncode == 0 and "nothing changed since the last run" in again.stdout
    con = duckdb.connect(str(instance_run["warehouse"] / "p06_published.duckdb"), read_only=True)
    con.execute("SELECT 1")
    con.close()
    # force the run (a declaration unchanged, the state forgotten): the staging step finds the files unchanged
    con = duckdb.connect(str(instance_run["warehouse"] / "p06.duckdb"))
    con.execute("DELETE FROM raw.publication_state")
    con.close()
    forced = p06(instance_run["raw"], instance_run["warehouse"], "--period", "2023-09", home=instance_run["home"])
    assert forced.returncode == 0, forced.stderr[-2000:]
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(instance_run["home"])))
    try:
        events = instance.fetch_materializations(dg.AssetKey(["staging", "vneid"]), limit=10).records
        first, latest = events[-1].asset_materialization, events[0].asset_materialization
    finally:
        instance.dispose()
    assert latest.metadata["status"].value == "unchanged"
    assert latest.metadata["rows"].value == first.metadata["rows"].value > 0
    assert latest.metadata["units"].value == first.metadata["units"].value == 27
    assert latest.tags["dagster/data_version"] == first.tags["dagster/data_version"]


def test_a_month_without_any_delivery_publishes_nothing_and_says_so(instance_run, tmp_path):
    warehouse_dir = tmp_path / "warehouse"
    shutil.copytree(instance_run["warehouse"], warehouse_dir)
    copy = warehouse_dir / "p06_published.duckdb"
    before = copy.read_bytes()
    (instance_run["raw"] / "2023-10").mkdir(exist_ok=True)          # an empty month folder
    try:
        result = p06(instance_run["raw"], warehouse_dir, "--period", "2023-10")
    finally:
        shutil.rmtree(instance_run["raw"] / "2023-10")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "no delivery for 2023-10: nothing published" in result.stdout
    assert "not run, no delivery of any source: 2023-10" in result.stdout       # Dagster records nothing for it
    assert copy.read_bytes() == before
    assert not (warehouse_dir / "exports" / "2023-10").exists()
    con = duckdb.connect(str(warehouse_dir / "p06.duckdb"), read_only=True)
    try:
        for table in ("indicator_monthly", "public_services_monthly", "source_completeness", "reconciliation_findings"):
            assert con.execute(f"SELECT count(*) FROM marts.{table} WHERE period = '2023-10'").fetchone()[0] == 0
    finally:
        con.close()


def test_delivery_check_does_not_pass_a_month_without_delivery(tmp_path):
    """A source expected in a month that has other deliveries fails it; a month without any delivery of any source
    (a gap the province never filled) is not checked at all."""
    import logging

    from checks.asset_checks import build_delivery_check, delivery_result
    from p06 import catalog, warehouse
    from pipelines.resources import Warehouse

    vneid = catalog.sources()["vneid"]
    result = delivery_result(vneid, "2023-10", [])
    assert not result.passed and result.metadata["missing"].value is True
    assert "no delivery" in result.metadata["deliveries"].value
    assert delivery_result(catalog.sources()["tiem_chung"], "2025-06", []).passed          # not expected after 2023

    with warehouse.connect(tmp_path / "p06.duckdb"):
        pass
    check = build_delivery_check(vneid)
    context = SimpleNamespace(partition_keys=["2023-10"], log=logging.getLogger("test"))   # what the check reads of it
    yielded = list(check.node_def.compute_fn.decorated_fn(context, Warehouse(directory=str(tmp_path))))
    assert [type(e) for e in yielded] == [dg.Output]                 # the check's output, no result


def test_partitions_start_at_the_first_month_of_the_landing_zone(tmp_path):
    from p06.landing import FIRST_MONTH_FALLBACK, first_month

    raw = copy_samples(tmp_path, months=("2023-09", "2023-08"))
    assert first_month(raw) == "2023-08"
    assert first_month(tmp_path / "nothing") == FIRST_MONTH_FALLBACK
    code = ("from pipelines.partitions import monthly_partitions as m; print(m.get_first_partition_key())")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "P06_RAW_DIR": str(raw)},
                         capture_output=True, text=True, timeout=120).stdout.strip()
    assert out == "2023-08"


def test_descriptions_have_no_angle_brackets():
    from pipelines.definitions import defs

    texts = [s.description or "" for s in defs.resolve_all_asset_specs()]
    texts += [spec.description or "" for checks in defs.asset_checks for spec in checks.check_specs]
    texts += [s.description or "" for s in defs.sensors] + [s.description or "" for s in defs.schedules]
    assert not [t for t in texts if re.search(r"<[A-Za-z_]", t)]


def test_a_killed_p06_run_does_not_stay_in_progress_in_the_instance(instance_run, tmp_path):
    """A `p06 run` killed midway leaves its Dagster run STARTED (it would hold the instance's one-run queue for
    ever); the next `p06 run` marks it failed."""
    import signal
    import time

    from dagster._core.instance.ref import InstanceRef

    home, warehouse_dir = tmp_path / ".dagster", tmp_path / "warehouse"
    shutil.copytree(instance_run["home"], home)
    shutil.copytree(instance_run["warehouse"], warehouse_dir)
    con = duckdb.connect(str(warehouse_dir / "p06.duckdb"))
    con.execute("DELETE FROM raw.publication_state")                    # work to do
    con.close()
    env = {**os.environ, "P06_RAW_DIR": str(instance_run["raw"]), "P06_WAREHOUSE_DIR": str(warehouse_dir),
           "DAGSTER_HOME": str(home)}
    process = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "run"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def started():
        instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
        try:
            return instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        finally:
            instance.dispose()

    deadline = time.monotonic() + 120
    while not started() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    (killed,) = started()
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    again = p06(instance_run["raw"], warehouse_dir, home=home)
    assert again.returncode == 0, again.stderr[-2000:]
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    try:
        assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
        assert not instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    finally:
        instance.dispose()
