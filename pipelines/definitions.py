"""Dagster definitions: `dagster dev` loads this module (see pyproject [tool.dagster])."""
import dagster as dg

from assets.ingest import landing_specs, staging_assets
from assets.publish import analyst_copy, monthly_report, published_marts
from assets.reconcile import reconciliation_findings
from checks.asset_checks import rules_checks, source_checks
from pipelines.jobs import monthly_job
from pipelines.resources import default_resources
from pipelines.schedules import monthly_schedule
from pipelines.sensors import landing_zone_sensor

defs = dg.Definitions(
    assets=[*landing_specs, *staging_assets, reconciliation_findings, published_marts, monthly_report, analyst_copy],
    asset_checks=[*source_checks, *rules_checks],
    jobs=[monthly_job],
    schedules=[monthly_schedule],
    sensors=[landing_zone_sensor],
    resources=default_resources(),
    executor=dg.in_process_executor,
)
