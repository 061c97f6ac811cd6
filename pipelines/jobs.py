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
