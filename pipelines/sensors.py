"""A run for a source-month whenever a file in its landing folder is new or changed."""

import hashlib
import json

import dagster as dg

from p06 import catalog
from p06.ingest.load import PERIOD, landing_periods
from pipelines.jobs import monthly_job
from pipelines.partitions import monthly_partitions
from pipelines.resources import LandingZone

DOWNSTREAM = [
    dg.AssetKey(["marts", "reconciliation_findings"]),
    dg.AssetKey(["marts", "indicator_monthly"]),
    dg.AssetKey(["marts", "public_services_monthly"]),
    dg.AssetKey(["marts", "source_completeness"]),
    dg.AssetKey(["exports", "monthly_report"]),
    dg.AssetKey(["exports", "analyst_copy"]),
]


def folder_signature(landing_zone: LandingZone, period: str, source: str) -> str | None:
    """Names, sizes and modification times of a source-month's files (cheap to compute every tick)."""
    folder = landing_zone.root / period / source
    if not folder.is_dir():
        return None
    entries = sorted(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in folder.iterdir()
                     if p.is_file() and not p.name.startswith((".", "~$")))
    return hashlib.sha256("|".join(entries).encode()).hexdigest()[:16] if entries else None


@dg.sensor(job=monthly_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
           description="Watches raw/<month>/<source>/ and loads a source-month when its files change.")
def landing_zone_sensor(context: dg.SensorEvaluationContext, landing_zone: LandingZone) -> dg.SensorResult:
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    valid = set(monthly_partitions.get_partition_keys())
    requests = []
    for period in landing_periods(landing_zone.root):
        if not PERIOD.match(period) or period not in valid:
            context.log.warning(f"raw/{period}/ is not a report month the pipeline knows; skipped")
            continue
        for source in catalog.sources():
            signature = folder_signature(landing_zone, period, source)
            key = f"{period}/{source}"
            if signature is None or seen.get(key) == signature:
                continue
            seen[key] = signature
            requests.append(dg.RunRequest(
                run_key=f"{key}:{signature}", partition_key=period,
                asset_selection=[dg.AssetKey(["staging", source]), *DOWNSTREAM],
                tags={"trigger": "landing_zone", "source": source}))
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))
