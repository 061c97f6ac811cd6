"""Dagster asset checks.

Per source, on staging/<source>:
- `delivery_accepted`: the newest delivery of the month was loaded, not rejected (a rejection
  keeps the last good load in use and lets other sources carry on, so it does not block); a month
  the source is expected in without any delivery fails it too ("no delivery"), never passes silently, and so
  does a withdrawn one (its folder emptied).
(No `schema` check: the loader refuses a delivery that fails the source's pandera schema before anything
is stored, so a check of the stored rows against it could not fail.)
Per declared check of a publication (checks/publication.yaml), on the mart it judges (marts/indicator_monthly,
marts/public_services_monthly, marts/source_completeness): a blocking check, evaluated by `published_marts`
right after it publishes (`publication_check_specs`, `publication_check_results`). A failed one stops the
exports and the analysts' copy in Dagster itself; its result names the failing rows.
Per source, on marts/reconciliation_findings:
- `rules_<source>`: the reconciliation rules' failing cases for the source and month.
A run over a range of months (a history load) checks each month of it on its own: one result per month, with
its partition, the same as a run of the month alone. A month without any delivery of any source (a gap the
province never filled, a month before its first delivery) is not checked: nothing was loaded or published.
"""

import dagster as dg
import polars as pl

from assets.ingest import staging_key
from p06 import catalog
from p06.catalog import Source
from p06.publish import publication_checks
from p06.warehouse import frame as frame_of
from pipelines.partitions import monthly_partitions
from pipelines.resources import Warehouse

FINDINGS_KEY = dg.AssetKey(["marts", "reconciliation_findings"])



def ratio_measures(source: Source) -> set[str]:
    return {m.id for m in source.measures if m.kind == "ratio"}


def readable(findings: pl.DataFrame, ratios: set[str]) -> pl.DataFrame:
    """Failing cases that fit a page: ratios as percent with 2 decimals, other figures with 4 significant
    digits at most after the point (counts stay whole), the measure column dropped once used."""
    def shown(column: str) -> pl.Expr:
        value = pl.col(column)
        percent = (value * 100).round(2).cast(pl.String) + "%"
        figure = pl.when(value == value.round(0)).then(value.cast(pl.Int64).cast(pl.String)) \
                   .otherwise(value.round_sig_figs(4).cast(pl.String))
        return pl.when(value.is_null()).then(None).when(pl.col("measure").is_in(sorted(ratios))).then(percent) \
                 .otherwise(figure).alias(column)
    if findings.is_empty():
        return findings.drop("measure")
    return findings.with_columns(shown("expected"), shown("actual")).drop("measure")


def _table(frame: pl.DataFrame, limit: int = 100) -> dg.MetadataValue:
    """Failing cases as a Dagster table (shown as a table in the UI)."""
    types = {pl.Float64: "float", pl.Int64: "int", pl.Int32: "int", pl.Boolean: "bool"}
    schema = dg.TableSchema(columns=[dg.TableColumn(name, types.get(dtype, "string")) for name, dtype in frame.schema.items()])
    records = [dg.TableRecord(row) for row in frame.head(limit).iter_rows(named=True)]
    return dg.MetadataValue.table(records=records, schema=schema)


def delivered_months(con, periods: list[str]) -> list[str]:
    """The months of `periods` with at least one delivery of any source on record (loaded, rejected or superseded)."""
    return [p for p, in con.execute("SELECT DISTINCT period FROM raw.deliveries WHERE period IN (SELECT unnest(?::VARCHAR[])) "
                                    "ORDER BY period", [periods]).fetchall()]


def per_month(context, check_key: dg.AssetCheckKey, results: dict[str, dg.AssetCheckResult], blocking: bool):
    """The check's results, each for its month: a run of one month returns its result as Dagster does; a run
    over a range gives each month's evaluation its partition (an AssetCheckResult has none: Dagster would record
    one result for the whole range), then the check's output. Months without any delivery have no result."""
    skipped = [p for p in context.partition_keys if p not in results]
    if skipped:
        context.log.info(f"not checked, no delivery of any source: {', '.join(skipped)}")
    if len(context.partition_keys) == 1 and results:
        yield from results.values()
        return
    for period, r in results.items():
        yield dg.AssetCheckEvaluation(asset_key=check_key.asset_key, check_name=check_key.name, passed=r.passed,
                                      metadata=r.metadata, severity=r.severity, partition=period, blocking=blocking)
    yield dg.Output(None)


def build_delivery_check(source: Source) -> dg.AssetChecksDefinition:
    blocking = False

    @dg.asset_check(asset=staging_key(source.id), name="delivery_accepted", blocking=blocking, partitions_def=monthly_partitions,
                    description="The newest delivery of the month was loaded; a rejected one is listed with its problems; "
                                "a month with deliveries of other sources but none of this one, which it is expected in, fails.")
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse):
        periods = list(context.partition_keys)
        with warehouse.connect() as con:
            months = delivered_months(con, periods)
            rows = con.execute(
                """SELECT period, file_name, status, message FROM raw.deliveries d WHERE source = ?
                   AND period IN (SELECT unnest(?::VARCHAR[]))
                   AND processed_at = (SELECT max(processed_at) FROM raw.deliveries e
                                       WHERE e.source = d.source AND e.period = d.period)
                   ORDER BY period, file_name""",
                [source.id, months]).fetchall()
        yield from per_month(context, dg.AssetCheckKey(staging_key(source.id), "delivery_accepted"),
                             {m: delivery_result(source, m, [r[1:] for r in rows if r[0] == m]) for m in months}, blocking)

    return _check


def delivery_result(source: Source, period: str, rows: list[tuple]) -> dg.AssetCheckResult:
    """A month's result from its deliveries (file, status, message): rejected, or missing while expected, fails."""
    rejected = [r for r in rows if r[1] == "rejected"]
    absent = not rows and source.expected_in(period)
    withdrawn = bool(rows) and all(r[1] == "withdrawn" for r in rows)     # its folder emptied: none in use
    lines = [f"- {f}: {s}" + (f" — {m}" if m else "") for f, s, m in rows]
    if absent:
        lines.append(f"- no delivery (expected; nothing in raw/{period}/{source.id}/)")
    absent = absent or withdrawn
    return dg.AssetCheckResult(
        passed=not rejected and not absent,
        severity=dg.AssetCheckSeverity.ERROR if rejected else dg.AssetCheckSeverity.WARN,
        metadata={"deliveries": dg.MetadataValue.md("\n".join(lines) or "not expected in the month"),
                  "missing": absent})


def build_rules_check(source: Source) -> dg.AssetChecksDefinition:
    blocking = False

    @dg.asset_check(asset=FINDINGS_KEY, name=f"rules_{source.id}", blocking=blocking, partitions_def=monthly_partitions,
                    description=f"Reconciliation rules on {source.id}: totals, ratios, parts, stocks, completeness.")
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse):
        with warehouse.connect() as con:
            months = delivered_months(con, list(context.partition_keys))
            findings = frame_of(con,
                """SELECT period, severity, unit_code, rule_id, expected, actual, sheet || '!' || cell AS cell, measure
                   FROM marts.reconciliation_findings WHERE period IN (SELECT unnest(?::VARCHAR[])) AND source = ?
                   ORDER BY period, severity, rule_id, unit_code""", [months, source.id])
        findings = readable(findings, ratios=ratio_measures(source))
        yield from per_month(context, dg.AssetCheckKey(FINDINGS_KEY, f"rules_{source.id}"),
                             {m: rules_result(findings.filter(pl.col("period") == m).drop("period")) for m in months}, blocking)

    return _check


def rules_result(findings: pl.DataFrame) -> dg.AssetCheckResult:
    """A month's result from its failing cases."""
    errors = findings.filter(pl.col("severity") == "error").height
    return dg.AssetCheckResult(
        passed=findings.is_empty(),
        severity=dg.AssetCheckSeverity.ERROR if errors else dg.AssetCheckSeverity.WARN,
        metadata={"errors": errors, "warnings": findings.height - errors, "failing cases": _table(findings)})


source_checks = [build_delivery_check(s) for s in catalog.sources().values()]
rules_checks = [build_rules_check(s) for s in catalog.sources().values()]


def publication_check_specs() -> list[dg.AssetCheckSpec]:
    """The checks of a publication, blocking, each on the mart it judges."""
    return [dg.AssetCheckSpec(c.id, asset=dg.AssetKey(["marts", c.table]), description=c.description, blocking=True,
                              partitions_def=monthly_partitions)
            for c in publication_checks.load().checks]


def publication_check_results(outcomes: dict[str, list[publication_checks.Outcome]],
                              selected: set[dg.AssetCheckKey] | None = None):
    """Each check judged (of those selected), for each month (`outcomes`: month -> its outcomes): ERROR when it
    fails, with its failing rows. A run of one month returns its results as Dagster does; a run over a range gives
    each month's evaluation its partition (as `per_month`), blocking: one failed month fails the step, so
    Dagster stops the exports and the analysts' copy."""
    for month, judged in outcomes.items():
        for o in judged:
            key = dg.AssetCheckKey(dg.AssetKey(["marts", o.check.table]), o.check.id)
            if selected is not None and key not in selected:
                continue
            metadata = {"month": month, "failing rows": o.failing}
            if o.rows:
                metadata["first failing rows"] = _table(pl.DataFrame([{k: str(v) for k, v in r.items()} for r in o.rows]))
            if len(outcomes) == 1:
                yield dg.AssetCheckResult(asset_key=key.asset_key, check_name=key.name, passed=o.passed,
                                          severity=dg.AssetCheckSeverity.ERROR, description=o.line or None, metadata=metadata)
            else:
                yield dg.AssetCheckEvaluation(asset_key=key.asset_key, check_name=key.name, passed=o.passed,
                                              severity=dg.AssetCheckSeverity.ERROR, description=o.line or None,
                                              metadata=metadata, partition=month, blocking=True)
