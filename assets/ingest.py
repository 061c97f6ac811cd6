"""Ingest layer: one staging asset per declared source, partitioned by report month.

A run may cover a range of months (a history load, a backfill: `BackfillPolicy.single_run()`); each
month of the range is loaded in turn, unchanged source-months skipped by their fingerprint, their files read
two at a time (p06.ingest.pool).
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
            version = held_version(con, source.id, months)
        for result in results:
            (context.log.warning if result.rejected else context.log.info)(result.line())
        return dg.MaterializeResult(metadata=_metadata(results), data_version=dg.DataVersion(version))

    return _staging


def _metadata(results: list) -> dict:
    """One month: what was loaded; several: the count by status and a line per month."""
    if len(results) == 1:
        result = results[0]
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
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    return {"months": len(results), **{f"months {k}": v for k, v in sorted(statuses.items())},
            "rows": sum(r.rows for r in results),
            "by month": dg.MetadataValue.md("\n".join(f"- {r.line().splitlines()[0]}" for r in results) or "none")}


landing_specs = [landing_spec(s) for s in catalog.sources().values()]
staging_assets = [build_staging_asset(s) for s in catalog.sources().values()]
