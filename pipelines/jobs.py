"""The monthly job: every asset of a month, in one process so DuckDB has a single writer."""
import dagster as dg

from pipelines.partitions import monthly_partitions

monthly_job = dg.define_asset_job(
    "monthly_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("landing"),
    partitions_def=monthly_partitions,
    executor_def=dg.in_process_executor,
    description="Ingest every source of the month, reconcile, publish.",
)

# Everything after ingestion, for a month whose inputs changed: its own new delivery, or the previous
# month's figures it compares with (last month's values, changes, stocks that must not fall).
DOWNSTREAM_KEYS = [
    dg.AssetKey(["marts", "reconciliation_findings"]),
    dg.AssetKey(["marts", "indicator_monthly"]),
    dg.AssetKey(["marts", "public_services_monthly"]),
    dg.AssetKey(["marts", "source_completeness"]),
    dg.AssetKey(["exports", "monthly_report"]),
    dg.AssetKey(["exports", "analyst_copy"]),
]
