"""Ingest layer: one monthly-partitioned asset per declared source, staging.observations/<source>."""

import dagster as dg

from p06 import catalog
from p06.catalog import Source
from p06.ingest.load import ingest_source_month
from pipelines.partitions import monthly_partitions
from pipelines.resources import LandingZone, Warehouse


def staging_key(source_id: str) -> dg.AssetKey:
    return dg.AssetKey(["staging", source_id])


def landing_spec(source: Source) -> dg.AssetSpec:
    """The landing folder raw/<month>/<source>/: files dropped by data engineers, not made by Dagster."""
    return dg.AssetSpec(
        ["raw", source.id], partitions_def=monthly_partitions, group_name="landing", kinds={"file"},
        description=f"{source.department_vi} ({source.department_en}): the e-mailed files, filed under raw/<month>/{source.id}/.",
    )


def build_staging_asset(source: Source) -> dg.AssetsDefinition:
    @dg.asset(
        key=staging_key(source.id),
        deps=[landing_spec(source)],
        partitions_def=monthly_partitions,
        group_name="ingest",
        kinds={"duckdb", "excel"},
        pool="duckdb_writer",
        description=f"{source.department_en}: the month's delivery in raw/<month>/{source.id}/, typed and traced "
                    f"to its cells in staging.observations. A rejected delivery leaves the last good load in place.",
        metadata={"source": source.id, "unit_kind": ", ".join(str(s) for s in source.unit_kinds), "measures": ", ".join(m.id for m in source.measures)},
    )
    def _staging(context: dg.AssetExecutionContext, landing_zone: LandingZone, warehouse: Warehouse) -> dg.MaterializeResult:
        period = context.partition_key
        with warehouse.connect() as con:
            result = ingest_source_month(con, landing_zone.root, source, period)
        if result.rejected:
            context.log.warning(result.line())
        else:
            context.log.info(result.line())
        metadata = {
            "status": result.status,
            "message": result.message,
            "files": ", ".join(result.files),
            "superseded": ", ".join(result.superseded),
            "as_of_date": str(result.as_of_date or ""),
            "rows": result.rows,
            "units": result.units,
            "measures": ", ".join(result.measures),
        }
        if result.preview is not None and not result.preview.is_empty():
            metadata["preview"] = dg.MetadataValue.md(result.preview.to_pandas().to_markdown(index=False))
        return dg.MaterializeResult(metadata=metadata)

    return _staging


landing_specs = [landing_spec(s) for s in catalog.sources().values()]
staging_assets = [build_staging_asset(s) for s in catalog.sources().values()]
