"""Runs for the source-months whose landing folders have new, changed or removed files, and for the months after them
that compare with them. Several changed months (a history dropped in at once) are one run over their range
(the assets' single-run backfill policy), not one run per month."""

import hashlib
import json

import dagster as dg

from p06 import catalog
from p06.landing import history_window, is_delivery_file, landing_periods, month_before
from pipelines.jobs import DOWNSTREAM_KEYS, monthly_job
from pipelines.partitions import consecutive_blocks, monthly_partitions
from pipelines.resources import LandingZone


def folder_signature(landing_zone: LandingZone, period: str, source: str) -> str | None:
    """Names, sizes and modification times of a source-month's files (cheap to compute every tick)."""
    folder = landing_zone.root / period / source
    if not folder.is_dir():
        return None
    entries = sorted(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in folder.iterdir()
                     if is_delivery_file(p))
    return hashlib.sha256("|".join(entries).encode()).hexdigest()[:16] if entries else None


@dg.sensor(job=monthly_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
           description="Watches raw/YYYY-MM/SOURCE/; loads the changed source-months of a month in one run, "
                       "then republishes later months, which compare with it.")
def landing_zone_sensor(context: dg.SensorEvaluationContext, landing_zone: LandingZone) -> dg.SensorResult:
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    valid = set(monthly_partitions.get_partition_keys())
    periods = []
    for period in landing_periods(landing_zone.root):
        if period in valid:
            periods.append(period)
        else:
            context.log.warning(f"raw/{period}/ is not a report month the pipeline knows; skipped")
    changed: dict[str, dict[str, str]] = {}
    for period in periods:
        for source in catalog.sources():
            signature = folder_signature(landing_zone, period, source)
            # a folder emptied (signature None) after it held files is a change too: its delivery is withdrawn
            if seen.get(f"{period}/{source}") != signature:
                changed.setdefault(period, {})[source] = signature
                seen[f"{period}/{source}"] = signature
    requests = []
    if len(changed) > 1:
        sources = sorted({s for by_source in changed.values() for s in by_source})
        key = hashlib.sha256(json.dumps(changed, sort_keys=True).encode()).hexdigest()[:16]
        # one run per stretch of consecutive month folders: a month without any folder is in no run's range
        for block in consecutive_blocks([p for p in periods if p >= min(changed)]):
            first, last = block[0], block[-1]
            requests.append(dg.RunRequest(
                run_key=f"{first}..{last}:{key}", asset_selection=[*(dg.AssetKey(["staging", s]) for s in sources), *DOWNSTREAM_KEYS],
                tags={**range_tags(first, last), "trigger": "landing_zone", "sources": ",".join(sources)}))
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))
    for period, sources in changed.items():
        run_key = period + ":" + hashlib.sha256(json.dumps(sources, sort_keys=True).encode()).hexdigest()[:16]
        requests.append(dg.RunRequest(
            run_key=run_key, partition_key=period,
            asset_selection=[*(dg.AssetKey(["staging", s]) for s in sources), *DOWNSTREAM_KEYS],
            tags={"trigger": "landing_zone", "sources": ",".join(sorted(sources))}))
    if changed:
        # Later months compare with the changed one (last month's values, stocks, the outlier series of its
        # history window): republish them too, after it, in one run over their range.
        earliest = min(changed)
        window = history_window()
        later = [p for p in periods if p > earliest and p not in changed and month_before(p, window) <= earliest]
        tags = {"trigger": "previous_month_changed", "after": earliest}
        for block in consecutive_blocks(later):
            run_key = f"{block[0]}..{block[-1]}/after/{requests[0].run_key}"
            if len(block) == 1:
                requests.append(dg.RunRequest(run_key=run_key, partition_key=block[0], asset_selection=DOWNSTREAM_KEYS, tags=tags))
            else:
                requests.append(dg.RunRequest(run_key=run_key, asset_selection=DOWNSTREAM_KEYS,
                                              tags={**tags, **range_tags(block[0], block[-1])}))
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))


def range_tags(first: str, last: str) -> dict[str, str]:
    """Tags of a run over a range of months (what a single-run backfill of the range sets)."""
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
