"""Publish layer: the month's indicator tables, exports for report writers, and the analysts' copy."""

import dagster as dg

from assets.reconcile import reconciliation_findings
from p06 import config
from p06.publish.exports import export_period
from p06.publish.marts import publish_period
from p06.publish.snapshot import publish_copy
from pipelines.partitions import monthly_partitions
from pipelines.resources import Warehouse

MART_KEYS = {
    "indicator_monthly": "Indicators by period, unit and indicator, computed from unit rows, with last month and quality.",
    "public_services_monthly": "Appendices II and III in the report's shape.",
    "source_completeness": "Per source and month: delivered or missing, units expected and present, rejections, findings.",
}


@dg.multi_asset(
    specs=[dg.AssetSpec(["marts", name], description=text, deps=[reconciliation_findings], group_name="publish",
                        kinds={"duckdb"}) for name, text in MART_KEYS.items()],
    partitions_def=monthly_partitions,
    pool="duckdb_writer",
)
def published_marts(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Rebuilds the month's published tables in one transaction."""
    with warehouse.connect() as con:
        counts = publish_period(con, context.partition_key)
    for name in MART_KEYS:
        yield dg.MaterializeResult(asset_key=["marts", name], metadata={"rows": int(counts.get(name, 0))})


@dg.asset(
    key=["exports", "monthly_report"],
    deps=[dg.AssetKey(["marts", name]) for name in MART_KEYS],
    partitions_def=monthly_partitions,
    group_name="publish",
    kinds={"excel", "markdown", "parquet"},
    pool="duckdb_writer",
    description="For report writers: workbook in Vietnamese, CSV and Parquet of each table, report draft, "
                "Great Expectations validation and Data Docs, under <warehouse>/exports/<month>/.",
)
def monthly_report(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        outputs = export_period(con, context.partition_key, warehouse.root)
    return dg.MaterializeResult(metadata={k: dg.MetadataValue.path(str(v)) if hasattr(v, "__fspath__") else str(v)
                                          for k, v in outputs.items()})


@dg.asset(
    key=["exports", "analyst_copy"],
    deps=[monthly_report],
    partitions_def=monthly_partitions,
    group_name="publish",
    kinds={"duckdb"},
    pool="duckdb_writer",
    description="Read-only copy of the warehouse for analysts, replaced atomically after each run.",
)
def analyst_copy(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    dest = warehouse.root / config.analyst_copy_path().name
    publish_copy(warehouse.database, dest)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(dest))})
