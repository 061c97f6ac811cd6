"""The landing-zone sensor and the monthly schedule, evaluated with Dagster's test contexts."""
import json
import os
import shutil
from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest

from pipelines.jobs import DOWNSTREAM_KEYS
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


def staged(request: dg.RunRequest) -> set[str]:
    return {k.path[1] for k in request.asset_selection if k.path[0] == "staging"}


def test_sensor_loads_every_new_source_of_a_month_in_one_run(landing: Path):
    (request,) = evaluate(landing).run_requests
    assert request.partition_key == "2023-09"
    assert staged(request) == {p.name for p in (landing / "2023-09").iterdir()}
    assert set(DOWNSTREAM_KEYS) <= set(request.asset_selection)


def test_sensor_is_quiet_when_nothing_changed(landing: Path):
    first = evaluate(landing)
    assert evaluate(landing, first.cursor).run_requests == []


def test_sensor_fires_for_a_changed_file_only(landing: Path):
    first = evaluate(landing)
    target = next((landing / "2023-09" / "thue").iterdir())
    target.write_bytes(target.read_bytes() + b"\n")
    os.utime(target, (datetime(2023, 9, 20).timestamp(),) * 2)
    second = evaluate(landing, first.cursor)
    (request,) = second.run_requests
    assert staged(request) == {"thue"} and request.partition_key == "2023-09"
    assert request.run_key != first.run_requests[0].run_key
    assert json.loads(second.cursor)["2023-09/thue"] != json.loads(first.cursor)["2023-09/thue"]


def test_a_corrected_earlier_month_republishes_the_months_after_it(landing: Path):
    """September compares with August (last month's values, stocks): a late August file republishes September."""
    first = evaluate(landing)
    shutil.copytree(SAMPLES / "2023-08" / "vneid", landing / "2023-08" / "vneid")
    load, republish = evaluate(landing, first.cursor).run_requests
    assert (load.partition_key, staged(load)) == ("2023-08", {"vneid"})
    assert republish.partition_key == "2023-09" and staged(republish) == set()
    assert list(republish.asset_selection) == DOWNSTREAM_KEYS
    assert republish.tags["trigger"] == "previous_month_changed"


def test_sensor_skips_folders_that_are_not_report_months(landing: Path):
    (landing / "2099-01" / "vneid").mkdir(parents=True)
    (landing / "2099-01" / "vneid" / "x.xlsx").write_bytes(b"x")
    (landing / "misc").mkdir()
    assert {r.partition_key for r in evaluate(landing).run_requests} == {"2023-09"}


def test_schedule_runs_the_current_month_after_the_cutoff():
    from pipelines.definitions import defs

    schedule = defs.get_schedule_def("monthly_schedule")
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2023, 9, 20, 7, 0))
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2023-09" and request.tags["trigger"] == "schedule"
    assert schedule.cron_schedule == "0 7 20 * *"
    assert monthly_schedule.job.name == "monthly_job" and monthly_schedule.job.partitions_def is not None   # a partition set
