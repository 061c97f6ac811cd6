"""Reconcile layer: the month's findings from the rules in checks/rules.yaml, over every source.

A run over a range of months reads staging once and reconciles each month with only the months its
history rules compare with."""

import dagster as dg
import polars as pl

from assets.ingest import SINGLE_RUN, staging_assets
from p06 import pool
from p06.publish import gx_worker
from p06.reconcile.store import reconcile_periods
from pipelines.partitions import monthly_partitions, publish_months
from pipelines.resources import LandingZone, Warehouse


@dg.asset(
    key=["marts", "reconciliation_findings"],
    deps=staging_assets,
    partitions_def=monthly_partitions,
    backfill_policy=SINGLE_RUN,
    group_name="reconcile",
    kinds={"duckdb", "pandera"},
    pool="duckdb_writer",
    description="One row per failed rule instance (totals, ratios, parts, stocks, completeness, outliers), "
                "with expected and actual figures and the cells involved; plus marts.rule_summary. "
                "A month without any delivery is not reconciled nor published (the step says so).",
    output_required=False,
)
def reconciliation_findings(context: dg.AssetExecutionContext, landing_zone: LandingZone, warehouse: Warehouse):
    pool.shutdown()                     # the staging steps are done: their reader's memory is given back
    gx_worker.start_if_wanted(reconciling=True)     # a short run's validation process imports GX meanwhile
    months = publish_months(context, landing_zone.root)
    if not months:
        return                      # nothing materialised: the publish steps are skipped
    with warehouse.connect() as con:
        results = reconcile_periods(con, months)
    for period, result in results.items():
        context.add_asset_metadata(_metadata(result.findings, result.errors, result.warnings), partition_key=period)
    yield dg.MaterializeResult()


def _metadata(findings: pl.DataFrame, errors: int, warnings: int) -> dict:
    """A month's findings: counts by severity and the first ones."""
    preview = findings.select("severity", "source", "unit_code", "rule_id", "expected", "actual", "message_en").head(30) \
        if not findings.is_empty() else findings
    return {"errors": int(errors), "warnings": int(warnings),
            "findings": dg.MetadataValue.md(preview.to_pandas().to_markdown(index=False) if not preview.is_empty() else "none")}
