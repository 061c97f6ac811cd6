"""The month's published tables, rebuilt together: one entry point for the pipeline.

`publish_period` replaces the period's rows of marts.indicator_monthly, marts.public_services_monthly and
marts.source_completeness (DELETE + INSERT, columns named) and applies the declared comments, all in one
transaction: a failure leaves the previous publication of the month in place. A table whose declared columns
changed since it was created (a new release) is recreated and every month it held is published again.
"""
from __future__ import annotations

from types import ModuleType

import duckdb
import polars as pl

from p06.publish import comments, completeness, indicators, services, vintages
from p06.publish.files import check_period
from p06.warehouse import transaction

TABLES: tuple[ModuleType, ...] = (indicators, services, completeness)   # each: TABLE, DDL, COLUMNS, compute()


def _prepare(con: duckdb.DuckDBPyConnection, module: ModuleType) -> list[str]:
    """Create the table if needed; recreate it when its columns are not the declared ones, returning its months."""
    con.execute(module.DDL)
    schema, name = module.TABLE.split(".")
    existing = [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = ? "
                                          "AND table_name = ? ORDER BY column_index", [schema, name]).fetchall()]
    if existing == module.COLUMNS:
        return []
    months = [p for (p,) in con.execute(f"SELECT DISTINCT period FROM {module.TABLE}").fetchall()]
    con.execute(f"DROP TABLE {module.TABLE}")
    con.execute(module.DDL)
    return months


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], rows: pl.DataFrame,
                 period: str | list[str]) -> int:
    """The rows of `table` of the period (or periods) replaced by `rows` (DELETE + INSERT of the named columns)."""
    months = [period] if isinstance(period, str) else sorted(period)
    con.execute(f"DELETE FROM {table} WHERE period IN (SELECT unnest(?::VARCHAR[]))", [months])
    con.register("_p06_rows", rows.select(columns).to_arrow())
    try:
        cols = ", ".join(columns)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _p06_rows")
    finally:
        con.unregister("_p06_rows")
    return rows.height


def _compute(module: ModuleType, con: duckdb.DuckDBPyConnection, months: list[str]) -> pl.DataFrame:
    """The module's rows of the months: in one go where it can (`compute_months`), else month by month."""
    if hasattr(module, "compute_months"):
        return module.compute_months(con, months)
    return pl.concat([module.compute(con, month) for month in months], how="vertical_relaxed")


def publish_period(con: duckdb.DuckDBPyConnection, period: str) -> dict[str, int]:
    """Rebuild the period's published tables; returns rows written per table name (without schema)."""
    return publish_periods(con, [period])


def publish_periods(con: duckdb.DuckDBPyConnection, periods: list[str]) -> dict[str, int]:
    """Rebuild the published tables of several months, oldest first (a month's previous value is the month
    before's), in one transaction with the comments applied once; returns rows written per table name."""
    periods = sorted(check_period(p) for p in periods)
    counts: dict[str, int] = {}
    with transaction(con):
        for module in TABLES:
            for month in sorted(set(_prepare(con, module)) - set(periods)):
                replace_rows(con, module.TABLE, module.COLUMNS, module.compute(con, month), month)
            name = module.TABLE.split(".", 1)[1]
            counts[name] = replace_rows(con, module.TABLE, module.COLUMNS, _compute(module, con, periods), periods)
        vintages.record(con, periods)           # a new vintage of each month whose published rows changed
        comments.apply_comments(con)
    return counts
