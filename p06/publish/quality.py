"""Great Expectations over the published tables of a month, with Data Docs built offline.

The suites are derived from the declarations (catalog/indicators.yaml and the
sources): value ranges, one row per period x unit x indicator, and every
declared indicator present at province level for each source delivered.
Frames are read from DuckDB into pandas (GX's SQL path to DuckDB is not used).
The GX project lives in `<warehouse>/gx`; Data Docs in `<warehouse>/gx/data_docs`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from p06 import catalog
from p06.publish.files import published_tables, table_query
from p06.publish.indicator_catalog import Indicator, PublicServices, load
from p06.reconcile.rules import SEVERITIES

os.environ["GX_ANALYTICS_ENABLED"] = "false"    # before great_expectations is imported anywhere

SITE = "p06_data_docs"
DATASOURCE = "p06_published"
INDICATOR_KEY = ["period", "unit_level", "unit_code", "indicator_code"]
QUALITY_FLAGS = ["ok", "warning", "error"]
OBSERVED = ("observed_value", "unexpected_count", "partial_unexpected_list", "missing_count", "partial_missing_list")


@dataclass
class QualitySummary:
    success: bool
    statistics: dict[str, int] = field(default_factory=dict)
    tables: dict[str, dict] = field(default_factory=dict)   # table -> {success, statistics, failed: [...]}
    data_docs_index: Path | None = None

    def as_dict(self) -> dict:
        return {"success": self.success, "statistics": self.statistics, "tables": self.tables,
                "data_docs_index": str(self.data_docs_index) if self.data_docs_index else None}


def gx_context(warehouse_dir: Path):
    """The file-backed GX project under `<warehouse>/gx`, analytics off, one offline Data Docs site."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="file", project_root_dir=str(warehouse_dir))
    if context.config.analytics_enabled is not False:
        context.enable_analytics(False)
    sites = context.list_data_docs_sites()
    if "local_site" in sites:
        context.delete_data_docs_site("local_site")
    if SITE not in sites:
        context.add_data_docs_site(SITE, {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": "data_docs/"},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.variables.save()
    return context


# ------------------------------------------------------------------ what to expect

def unit_levels() -> list[str]:
    """Levels a published row may have: the province and the unit kind of every source."""
    return sorted({"province"} | {k for s in catalog.sources().values() for k in s.all_unit_kinds})


def delivered_sources(con: duckdb.DuckDBPyConnection, period: str) -> set[str]:
    """Sources with an accepted delivery for the month."""
    rows = con.execute(
        "SELECT DISTINCT source FROM raw.deliveries WHERE period = ? AND status = 'loaded'", [period]
    ).fetchall()
    return {r[0] for r in rows}


def expected_province_indicators(indicators: dict[str, Indicator], delivered: set[str]) -> list[str]:
    """Indicators published at province level whose source was delivered."""
    return sorted(code for code, ind in indicators.items() if "province" in ind.levels and ind.source in delivered)


def indicator_expectations(period: str, indicators: dict[str, Indicator], expected: list[str]) -> list:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    found = [
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=INDICATOR_KEY),
        gxe.ExpectColumnValuesToBeInSet(column="period", value_set=[period]),
        gxe.ExpectColumnValuesToBeInSet(column="unit_level", value_set=unit_levels()),
        gxe.ExpectColumnValuesToBeInSet(column="quality", value_set=QUALITY_FLAGS),
        gxe.ExpectColumnValuesToBeInSet(column="indicator_code", value_set=sorted(indicators)),
    ]
    found += [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in INDICATOR_KEY]
    found += [gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in ("numerator", "denominator")]
    if expected:
        found.append(gxe.ExpectColumnDistinctValuesToContainSet(
            column="indicator_code", value_set=expected, row_condition=Column("unit_level") == "province"))
    bounded: dict[float, list[str]] = {}
    for code, ind in indicators.items():
        if ind.is_ratio and not ind.may_exceed_factor:
            bounded.setdefault(ind.factor, []).append(code)
    for top, codes in sorted(bounded.items()):
        found.append(gxe.ExpectColumnValuesToBeBetween(
            column="value", min_value=0, max_value=top, row_condition=Column("indicator_code").is_in(sorted(codes))))
    found.append(gxe.ExpectColumnValuesToBeBetween(column="value", min_value=0))
    return found


def services_expectations(period: str, layout: PublicServices) -> list:
    import great_expectations.expectations as gxe

    found = [gxe.ExpectCompoundColumnsToBeUnique(column_list=["period", "service_code"]),
             gxe.ExpectColumnValuesToBeInSet(column="period", value_set=[period]),
             gxe.ExpectColumnValuesToBeInSet(column="appendix", value_set=[a.numeral for a in layout.appendices]),
             gxe.ExpectColumnValuesToBeBetween(column="online_ratio", min_value=0, max_value=layout.online_ratio.factor)]
    found += [gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0)
              for c in ("dossiers_total", "dossiers_online", "on_time", "overdue")]
    return found


def findings_expectations(period: str) -> list:
    import great_expectations.expectations as gxe

    return [gxe.ExpectColumnValuesToBeInSet(column="period", value_set=[period]),
            gxe.ExpectColumnValuesToNotBeNull(column="rule_id"),
            gxe.ExpectColumnValuesToBeInSet(column="severity", value_set=sorted(SEVERITIES))]


def completeness_expectations(period: str) -> list:
    import great_expectations.expectations as gxe

    return [gxe.ExpectCompoundColumnsToBeUnique(column_list=["period", "source"]),
            gxe.ExpectColumnValuesToBeInSet(column="period", value_set=[period]),
            gxe.ExpectColumnValuesToBeInSet(column="source", value_set=sorted(catalog.sources())),
            gxe.ExpectColumnDistinctValuesToContainSet(
                column="source", value_set=sorted(s.id for s in catalog.sources().values() if s.expected_in(period)))]


# ------------------------------------------------------------------ running

def _frame(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], period: str) -> pd.DataFrame:
    return con.execute(table_query(table, columns, period)).df()


def _suites(con: duckdb.DuckDBPyConnection, period: str, tables: dict[str, list[str]]) -> dict[str, list]:
    cat = load()
    builders = {
        "indicator_monthly": lambda: indicator_expectations(
            period, cat.indicators, expected_province_indicators(cat.indicators, delivered_sources(con, period))),
        "public_services_monthly": lambda: services_expectations(period, cat.public_services),
        "reconciliation_findings": lambda: findings_expectations(period),
        "source_completeness": lambda: completeness_expectations(period),
    }
    return {t: build() for t, build in builders.items() if t in tables}


def _failed(result) -> list[dict]:
    """The failed expectations of a validation: type, arguments, what was observed."""
    failed = []
    for r in result.results:
        if r.success:
            continue
        config = r.expectation_config
        observed = {k: r.result[k] for k in OBSERVED if r.result.get(k) not in (None, [])}
        failed.append({"expectation": config.type,
                       "kwargs": {k: str(v) for k, v in config.kwargs.items() if k != "batch_id"},
                       "observed": str(observed)[:500]})
    return failed


def validate_publication(con: duckdb.DuckDBPyConnection, period: str, warehouse_dir: Path) -> QualitySummary:
    """Validate the month's published tables, store the results and rebuild the Data Docs."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    context = gx_context(Path(warehouse_dir))
    source = context.data_sources.add_or_update_pandas(DATASOURCE)
    tables = published_tables(con)
    run_id = RunIdentifier(run_name=f"p06-{period}")
    summary = QualitySummary(success=True, statistics={"evaluated_expectations": 0, "successful_expectations": 0,
                                                       "unsuccessful_expectations": 0})
    for table, expectations in _suites(con, period, tables).items():
        asset = source.add_dataframe_asset(table)
        batch = asset.add_batch_definition_whole_dataframe(f"{table}_month")
        suite = context.suites.add_or_update(gx.ExpectationSuite(name=f"p06.{table}", expectations=expectations))
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=f"p06.{table}", data=batch, suite=suite))
        result = definition.run(batch_parameters={"dataframe": _frame(con, table, tables[table], period)},
                                run_id=run_id, result_format="SUMMARY")
        stats = {k: int(result.statistics[k]) for k in summary.statistics}
        summary.tables[table] = {"success": bool(result.success), "statistics": stats, "failed": _failed(result)}
        summary.success &= bool(result.success)
        for k, v in stats.items():
            summary.statistics[k] += v
    context.build_data_docs(site_names=[SITE])
    summary.data_docs_index = Path(warehouse_dir) / "gx" / "data_docs" / "index.html"
    return summary
