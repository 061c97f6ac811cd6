"""Dagster asset checks.

Per source, on staging/<source>:
- `schema` (blocking): the figures in use for the month pass the source's pandera schema;
- `delivery_accepted`: the newest delivery of the month was loaded, not rejected (a rejection
  keeps the last good load in use and lets other sources carry on, so it does not block).
Per source, on marts/reconciliation_findings:
- `rules_<source>`: the reconciliation rules' failing cases for the source and month.
"""

import dagster as dg
import polars as pl

from assets.ingest import staging_key
from p06 import catalog
from p06.catalog import Source
from p06.ingest.schema import schema_problems
from p06.warehouse import frame as frame_of
from pipelines.partitions import monthly_partitions
from pipelines.resources import Warehouse

FINDINGS_KEY = dg.AssetKey(["marts", "reconciliation_findings"])



def _table(frame: pl.DataFrame, limit: int = 100) -> dg.MetadataValue:
    """Failing cases as a Dagster table (shown as a table in the UI)."""
    types = {pl.Float64: "float", pl.Int64: "int", pl.Int32: "int", pl.Boolean: "bool"}
    schema = dg.TableSchema(columns=[dg.TableColumn(name, types.get(dtype, "string")) for name, dtype in frame.schema.items()])
    records = [dg.TableRecord(row) for row in frame.head(limit).iter_rows(named=True)]
    return dg.MetadataValue.table(records=records, schema=schema)


def build_schema_check(source: Source) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=staging_key(source.id), name="schema", blocking=True, partitions_def=monthly_partitions,
                    description="The figures in use pass the source's schema: types, declared and required measures, "
                                "non-negative figures, each unit once.")
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        period = context.partition_key
        with warehouse.connect() as con:
            frame = frame_of(con, 
                "SELECT *, CAST(NULL AS INTEGER) AS row FROM staging.observations WHERE source = ? AND period = ?",
                [source.id, period])
        if frame.is_empty():
            return dg.AssetCheckResult(passed=True, metadata={"rows": 0, "note": "no accepted delivery for the month"})
        problems = schema_problems(frame, source)
        return dg.AssetCheckResult(passed=not problems, metadata={
            "rows": frame.height, "problems": len(problems),
            "failing cases": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems[:50]) or "none")})

    return _check


def build_delivery_check(source: Source) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=staging_key(source.id), name="delivery_accepted", blocking=False, partitions_def=monthly_partitions,
                    description="The newest delivery of the month was loaded; a rejected one is listed with its problems.")
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        period = context.partition_key
        with warehouse.connect() as con:
            rows = con.execute(
                """SELECT file_name, status, message FROM raw.deliveries WHERE source = ? AND period = ?
                   AND processed_at = (SELECT max(processed_at) FROM raw.deliveries WHERE source = ? AND period = ?)""",
                [source.id, period, source.id, period]).fetchall()
        rejected = [r for r in rows if r[1] == "rejected"]
        return dg.AssetCheckResult(
            passed=not rejected, severity=dg.AssetCheckSeverity.ERROR,
            metadata={"deliveries": dg.MetadataValue.md("\n".join(f"- {f}: {s}" + (f" — {m}" if m else "") for f, s, m in rows) or "none")})

    return _check


def build_rules_check(source: Source) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=FINDINGS_KEY, name=f"rules_{source.id}", blocking=False, partitions_def=monthly_partitions,
                    description=f"Reconciliation rules on {source.id}: totals, ratios, parts, stocks, completeness.")
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        period = context.partition_key
        with warehouse.connect() as con:
            findings = frame_of(con, 
                """SELECT severity, unit_code, unit_name, rule_id, expected, actual, difference, message_en, file, sheet, cell
                   FROM marts.reconciliation_findings WHERE period = ? AND source = ?
                   ORDER BY severity, rule_id, unit_code""", [period, source.id])
        errors = findings.filter(pl.col("severity") == "error").height
        return dg.AssetCheckResult(
            passed=findings.is_empty(),
            severity=dg.AssetCheckSeverity.ERROR if errors else dg.AssetCheckSeverity.WARN,
            metadata={"errors": errors, "warnings": findings.height - errors, "failing cases": _table(findings)})

    return _check


source_checks = [build(s) for s in catalog.sources().values() for build in (build_schema_check, build_delivery_check)]
rules_checks = [build_rules_check(s) for s in catalog.sources().values()]
