"""The month's published tables, rebuilt together: one entry point for the pipeline.

`publish_period` replaces the period's rows of marts.indicator_monthly, marts.public_services_monthly and
marts.source_completeness (DELETE + INSERT, columns named) and applies the declared comments, all in one
transaction: a failure leaves the previous publication of the month in place.
"""
from __future__ import annotations

import re
from types import ModuleType

import duckdb
import polars as pl

from p06.publish import comments, completeness, indicators, services
from p06.warehouse import transaction

TABLES: tuple[ModuleType, ...] = (indicators, services, completeness)   # each: TABLE, DDL, COLUMNS, compute()
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _replace(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], rows: pl.DataFrame, period: str) -> int:
    con.execute(f"DELETE FROM {table} WHERE period = ?", [period])
    con.register("_p06_rows", rows.select(columns).to_arrow())
    try:
        cols = ", ".join(columns)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _p06_rows")
    finally:
        con.unregister("_p06_rows")
    return rows.height


def publish_period(con: duckdb.DuckDBPyConnection, period: str) -> dict[str, int]:
    """Rebuild the period's published tables; returns rows written per table name (without schema)."""
    if not PERIOD.match(period):
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    counts: dict[str, int] = {}
    with transaction(con):
        for module in TABLES:
            con.execute(module.DDL)
            rows = module.compute(con, period)
            counts[module.TABLE.split(".", 1)[1]] = _replace(con, module.TABLE, module.COLUMNS, rows, period)
        comments.apply_comments(con)
    return counts
