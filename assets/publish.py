"""Publish layer: the month's indicator tables, exports for report writers, and the analysts' copy.

A run over a range of months publishes each month, validates them together (Great Expectations once per
run), writes exports only for months whose published rows changed, and copies the warehouse once."""

import dagster as dg

from assets.ingest import SINGLE_RUN
from assets.reconcile import reconciliation_findings
from checks.asset_checks import publication_check_results, publication_check_specs
from p06 import config
from p06.documents.exports import export_periods
from p06.landing import month_inputs, processed_fingerprints
from p06.publish import gx_worker, publication_checks, state, vintages
from p06.publish.marts import publish_periods
from p06.publish.period_marts import publish_period_aggregates
from p06.publish.snapshot import publish_copy
from pipelines.partitions import monthly_partitions, publish_months
from pipelines.resources import LandingZone, Warehouse

MART_KEYS = {
    "indicator_monthly": "Indicators by period, unit and indicator, computed from unit rows, with last month and quality.",
    "public_services_monthly": "Appendices II and III in the report's shape.",
    "source_completeness": "Per source and month: delivered or missing, units expected and present, rejections, findings.",
}


@dg.multi_asset(
    specs=[dg.AssetSpec(["marts", name], description=text, deps=[reconciliation_findings], group_name="publish",
                        kinds={"duckdb"}, skippable=True) for name, text in MART_KEYS.items()],
    check_specs=publication_check_specs(),
    can_subset=True,                    # a month without deliveries publishes nothing and judges nothing
    partitions_def=monthly_partitions,
    backfill_policy=SINGLE_RUN,
    pool="duckdb_writer",
)
def published_marts(context: dg.AssetExecutionContext, landing_zone: LandingZone, warehouse: Warehouse):
    """Rebuilds the published tables of the run's months in one transaction, then judges them by the checks of a
    publication (blocking: a failed one stops the exports and the analysts' copy, and its vintage is withdrawn)."""
    gx_worker.start_if_wanted()         # the validation process starts, importing GX while this publishes
    months = publish_months(context, landing_zone.root)
    if not months:
        return
    with warehouse.connect() as con:
        publish_periods(con, months)
        publish_period_aggregates(con, months)          # quarters, half-years, nine months, years of the months
        # judged month by month, so that each month's check results are its own (a run over a range too)
        outcomes = publication_checks.evaluate_by_month(con, months)
        if not all(o.passed for judged in outcomes.values() for o in judged):   # a failed publication is no vintage
            vintages.withdraw_unchecked(con, months)
        for name in MART_KEYS:
            rows = month_rows(con, f"marts.{name}", months)
            for month in months:
                context.add_asset_metadata({"rows": rows.get(month, 0), **vintage_metadata(con, month)},
                                           asset_key=["marts", name], partition_key=month)
    for name in MART_KEYS:
        if dg.AssetKey(["marts", name]) in context.selected_asset_keys:
            yield dg.MaterializeResult(asset_key=["marts", name])
    yield from publication_check_results(outcomes, set(context.selected_asset_check_keys))
    if len(outcomes) > 1:        # a range: each check's output, once its months' evaluations are out (as per_month)
        for key in context.selected_asset_check_keys:
            yield dg.Output(None, output_name=context.assets_def.get_output_name_for_asset_check_key(key))


def month_rows(con, table: str, months: list[str]) -> dict[str, int]:
    """Rows of a published table per month."""
    return dict(con.execute(f"SELECT period, count(*)::INTEGER FROM {table} WHERE period IN (SELECT unnest(?::VARCHAR[])) "
                            "GROUP BY period", [months]).fetchall())


def vintage_metadata(con, month: str) -> dict:
    """The month's latest vintage (p06.publish.vintages): its number and when it was published."""
    info = vintages.current(con, month)
    return {"vintage": info["vintage"], "published_at": f"{info['published_at']:%Y-%m-%d %H:%M}"} if info else {}


def quality_failures(outputs: dict[str, dict]) -> list[str]:
    """'YYYY-MM table: expectation (observed)' for each failed expectation of the months validated."""
    import json
    failed, seen = [], set()
    for period, out in sorted(outputs.items()):
        if out.get("exported") != "written" or "FAILED" not in str(out.get("expectations")):
            continue
        summary = json.loads(out["quality"].read_text(encoding="utf-8"))
        for table, result in summary.get("tables", {}).items():
            for f in result.get("failed", []):
                rows = f.get("failing_rows") or []
                example = "; ".join(", ".join(f"{k} {v}" for k, v in r.items()) for r in rows[:3])
                line = (f"{f.get('check') or table}: {f.get('description') or f['expectation']}"
                        + (f" Failing rows, e.g.: {example}" if example else f" ({f.get('observed', '')})"))[:600]
                if line not in seen:
                    seen.add(line)
                    failed.append(line)
    return failed


@dg.asset(
    key=["exports", "monthly_report"],
    deps=[dg.AssetKey(["marts", name]) for name in MART_KEYS],
    partitions_def=monthly_partitions,
    backfill_policy=SINGLE_RUN,
    group_name="publish",
    kinds={"excel", "markdown", "parquet"},
    pool="duckdb_writer",
    description="For report writers: workbook in Vietnamese, CSV and Parquet of each table, report draft, "
                "Great Expectations validation and Data Docs, under the warehouse folder: exports/YYYY-MM/. "
                "A month whose published rows did not change keeps its files. A failed expectation fails "
                "the step: the analysts' copy is not replaced and the run says which expectations failed.",
)
def monthly_report(context: dg.AssetExecutionContext, landing_zone: LandingZone, warehouse: Warehouse) -> dg.MaterializeResult:
    periods = publish_months(context, landing_zone.root)
    with warehouse.connect() as con:
        outputs = export_periods(con, periods, warehouse.root)
    failed = quality_failures(outputs)
    if failed:
        raise dg.Failure(description="publication checks failed; the analysts' copy keeps its last good version:\n"
                         + "\n".join(failed), metadata={"failed": dg.MetadataValue.md("\n".join(f"- {f}" for f in failed))})
    for period, out in outputs.items():
        context.add_asset_metadata({k: dg.MetadataValue.path(str(v)) if hasattr(v, "__fspath__") else str(v)
                                    for k, v in out.items()}, partition_key=period)
    return dg.MaterializeResult()


@dg.asset(
    key=["exports", "analyst_copy"],
    deps=[monthly_report],
    partitions_def=monthly_partitions,
    backfill_policy=SINGLE_RUN,
    group_name="publish",
    kinds={"duckdb"},
    pool="duckdb_writer",
    description="Read-only copy of the warehouse for analysts, replaced atomically after each run (once per run).",
)
def analyst_copy(context: dg.AssetExecutionContext, landing_zone: LandingZone, warehouse: Warehouse) -> dg.MaterializeResult:
    periods = publish_months(context, landing_zone.root)
    dest = warehouse.root / config.analyst_copy_path().name
    publish_copy(warehouse.database, dest)
    with warehouse.connect() as con:
        # The months are published, copy included: record what they were made from, for `p06 run` (see
        # p06.publish.state). Recorded last, so that a run killed before this point is done again by the next.
        processed = {(p, s): fp for p, s, fp in con.execute(
            "SELECT DISTINCT ON (period, source) period, source, fingerprint FROM raw.deliveries "
            "ORDER BY period, source, processed_at DESC").fetchall()}
        fingerprints = processed_fingerprints(landing_zone.root, periods, processed)
        inputs = month_inputs(landing_zone.root, periods, fingerprints=fingerprints)
        unchecked = vintages.unchecked(con)      # served from their last checked vintage: not done, run again
        for period in periods:
            if period not in unchecked:
                state.record(con, period, inputs_sha=inputs[period])
            context.add_asset_metadata({"path": dg.MetadataValue.path(str(dest)), **vintage_metadata(con, period),
                                        "served": "an earlier checked vintage" if period in unchecked else "this run's"},
                                       partition_key=period)
    if unchecked:
        context.log.warning("months whose last publication did not pass its checks, served from their last checked "
                            "vintage: " + ", ".join(f"{p} ({f'vintage {v}' if v else 'never passed: absent'})"
                                                    for p, v in sorted(unchecked.items())))
    return dg.MaterializeResult()
