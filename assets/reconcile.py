"""Reconcile layer: the month's findings from the rules in checks/rules.yaml, over every source."""

import dagster as dg
import polars as pl

from assets.ingest import staging_assets
from p06.reconcile.store import reconcile_period
from pipelines.partitions import monthly_partitions
from pipelines.resources import Warehouse


@dg.asset(
    key=["marts", "reconciliation_findings"],
    deps=staging_assets,
    partitions_def=monthly_partitions,
    group_name="reconcile",
    kinds={"duckdb", "pandera"},
    pool="duckdb_writer",
    description="One row per failed rule instance (totals, ratios, parts, stocks, completeness, outliers), "
                "with expected and actual figures and the cells involved; plus marts.rule_summary.",
)
def reconciliation_findings(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        result = reconcile_period(con, context.partition_key)
    findings: pl.DataFrame = result.findings
    counts = findings.group_by("severity").len() if not findings.is_empty() else None
    by_severity = dict(counts.iter_rows()) if counts is not None else {}
    preview = findings.select("severity", "source", "unit_code", "rule_id", "expected", "actual", "message_en").head(30)
    return dg.MaterializeResult(metadata={
        "errors": int(by_severity.get("error", 0)),
        "warnings": int(by_severity.get("warning", 0)),
        "findings": dg.MetadataValue.md(preview.to_pandas().to_markdown(index=False) if not preview.is_empty() else "none"),
    })
