"""The landing-zone sensor and the monthly schedule, evaluated with Dagster's test contexts."""
import json
import os
import shutil
from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest

from pipelines.resources import LandingZone
from pipelines.schedules import monthly_schedule
from pipelines.sensors import landing_zone_sensor

SAMPLES = Path(__file__).resolve().parent.parent / "raw"


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "raw"
    shutil.copytree(SAMPLES / "2023-09", root / "2023-09")
    return root


def evaluate(root: Path, cursor: str | None = None) -> dg.SensorResult:
    context = dg.build_sensor_context(cursor=cursor, resources={"landing_zone": LandingZone(path=str(root))})
    return landing_zone_sensor(context)


def test_sensor_requests_one_run_per_new_source_month(landing: Path):
    result = evaluate(landing)
    assert sorted(r.tags["source"] for r in result.run_requests) == sorted(p.name for p in (landing / "2023-09").iterdir())
    assert {r.partition_key for r in result.run_requests} == {"2023-09"}
    bhxh = next(r for r in result.run_requests if r.tags["source"] == "bhxh")
    assert dg.AssetKey(["staging", "bhxh"]) in bhxh.asset_selection
    assert dg.AssetKey(["staging", "vneid"]) not in bhxh.asset_selection
    assert dg.AssetKey(["marts", "reconciliation_findings"]) in bhxh.asset_selection


def test_sensor_is_quiet_when_nothing_changed(landing: Path):
    first = evaluate(landing)
    second = evaluate(landing, first.cursor)
    assert second.run_requests == []


def test_sensor_fires_for_a_changed_file_only(landing: Path):
    first = evaluate(landing)
    target = next((landing / "2023-09" / "thue").iterdir())
    target.write_bytes(target.read_bytes() + b"\n")
    os.utime(target, (datetime(2023, 9, 20).timestamp(),) * 2)
    second = evaluate(landing, first.cursor)
    assert [r.tags["source"] for r in second.run_requests] == ["thue"]
    assert second.run_requests[0].run_key != next(r.run_key for r in first.run_requests if r.tags["source"] == "thue")
    assert json.loads(second.cursor)["2023-09/thue"] != json.loads(first.cursor)["2023-09/thue"]


def test_sensor_fires_for_a_new_month(landing: Path):
    first = evaluate(landing)
    shutil.copytree(SAMPLES / "2023-08" / "vneid", landing / "2023-08" / "vneid")
    second = evaluate(landing, first.cursor)
    assert [(r.partition_key, r.tags["source"]) for r in second.run_requests] == [("2023-08", "vneid")]


def test_sensor_skips_folders_that_are_not_report_months(landing: Path):
    (landing / "2099-01" / "vneid").mkdir(parents=True)
    (landing / "2099-01" / "vneid" / "x.xlsx").write_bytes(b"x")
    (landing / "misc").mkdir()
    result = evaluate(landing)
    assert {r.partition_key for r in result.run_requests} == {"2023-09"}


def test_schedule_runs_the_current_month_after_the_cutoff():
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2023, 9, 20, 7, 0))
    request = monthly_schedule(context)
    assert request.partition_key == "2023-09"
    assert request.run_key == "scheduled-2023-09"
    assert monthly_schedule.cron_schedule == "0 7 20 * *"
