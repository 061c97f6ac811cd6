"""Ingest layer: one staging asset per declared source, partitioned by report month.

A run may cover a range of months (a history load, a backfill: `BackfillPolicy.single_run()`); each
month of the range is loaded in turn, unchanged source-months skipped by their fingerprint, their files read
two at a time (p06.pool).
Landing folders appear as external assets raw/<source>."""

import dagster as dg

from p06 import catalog
from p06.catalog import Source
from p06.ingest.held import describe_held, held_version
from p06.ingest.load import ingest_source_months
from pipelines.partitions import monthly_partitions, run_months
from pipelines.resources import LandingZone, Warehouse

SINGLE_RUN = dg.BackfillPolicy.single_run()


def staging_key(source_id: str) -> dg.AssetKey:
    return dg.AssetKey(["staging", source_id])


def landing_spec(source: Source) -> dg.AssetSpec:
    """The landing folder raw/YYYY-MM/SOURCE/: files dropped by data engineers, not made by Dagster."""
    return dg.AssetSpec(
        ["raw", source.id], partitions_def=monthly_partitions, group_name="landing", kinds={"file"},
        description=f"{source.department_vi} ({source.department_en}): the e-mailed files, filed under raw/YYYY-MM/{source.id}/.",
    )


def build_staging_asset(source: Source) -> dg.AssetsDefinition:
    @dg.asset(
        key=staging_key(source.id),
        deps=[landing_spec(source)],
        partitions_def=monthly_partitions,
        backfill_policy=SINGLE_RUN,
        group_name="ingest",
        kinds={"duckdb", "excel"},
        pool="duckdb_writer",
        description=f"{source.department_en}: the month's delivery in raw/YYYY-MM/{source.id}/, typed and traced "
                    f"to its cells in staging.observations. A rejected delivery leaves the last good load in place.",
        metadata={"source": source.id, "unit_kind": ", ".join(str(s) for s in source.unit_kinds), "measures": ", ".join(m.id for m in source.measures)},
    )
    def _staging(context: dg.AssetExecutionContext, landing_zone: LandingZone, warehouse: Warehouse) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            months = run_months(context, landing_zone.root)
            results = [describe_held(con, r) for r in ingest_source_months(con, landing_zone.root, source, months)]
            versions = {m: held_version(con, source.id, [m]) for m in context.partition_keys}
        for result in results:
            (context.log.warning if result.rejected else context.log.info)(result.line())
        if len(context.partition_keys) == 1:
            (month,) = context.partition_keys
            return dg.MaterializeResult(metadata=_metadata(results), data_version=dg.DataVersion(versions[month]))
        # A range (history load, backfill): each month's materialization says what that month holds.
        by_month = {r.period: r for r in results}
        for month in context.partition_keys:
            metadata = _metadata([by_month[month]]) if month in by_month else {"status": "no delivery", "rows": 0}
            context.add_asset_metadata({**metadata, "data_version": versions[month]}, partition_key=month)
        return dg.MaterializeResult()

    return _staging


def _metadata(results: list) -> dict:
    """What was loaded for the month (results: the month's one load result)."""
    (result,) = results
    metadata = {
        "status": result.status,
        "message": result.message,
        "files": ", ".join(result.files),
        "superseded": ", ".join(result.superseded),
        "withdrawn": ", ".join(result.withdrawn),
        "parts": "; ".join(f"{f}: {what}" for f, what in result.parts.items()),
        "as_of_date": str(result.as_of_date or ""),
        "rows": result.rows,
        "units": result.units,
        "measures": ", ".join(result.measures),
    }
    if result.preview is not None and not result.preview.is_empty():
        metadata["preview"] = dg.MetadataValue.md(result.preview.to_pandas().to_markdown(index=False))
    return metadata


landing_specs = [landing_spec(s) for s in catalog.sources().values()]
staging_assets = [build_staging_asset(s) for s in catalog.sources().values()]
