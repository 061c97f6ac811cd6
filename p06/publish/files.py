"""CSV and Parquet files of every published table, one pair per table and month.

The published tables are those of the `marts` schema; a table with a `period`
column is cut to the month, any other (a reference table) is written whole.
Each file is written aside and renamed, so a reader never opens half a file.
Also here: reading a published table (for the workbook, the report draft and
the expectation suites).
"""
from __future__ import annotations

import re
from pathlib import Path

import duckdb

from p06.publish.atomic import durable_replace

PUBLISHED_SCHEMA = "marts"
PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
FORMATS = {
    "csv": "(FORMAT csv, HEADER true, DELIMITER ',')",
    "parquet": "(FORMAT parquet, COMPRESSION zstd)",
}


def check_period(period: str) -> str:
    if not PERIOD.fullmatch(period):
        raise ValueError(f"period must look like 2023-09, found {period!r}")
    return period


def published_tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Tables of the published schema (views included) and their columns, in name order."""
    rows = con.execute(
        """SELECT table_name, column_name FROM information_schema.columns
           WHERE table_schema = ? ORDER BY table_name, ordinal_position""",
        [PUBLISHED_SCHEMA],
    ).fetchall()
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(table, []).append(column)
    return tables


def quote_identifier(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def sql_string(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def table_query(table: str, columns: list[str], period: str) -> str:
    """SELECT of one published table for a month (all of it when it has no period)."""
    where = f" WHERE period = {sql_string(check_period(period))}" if "period" in columns else ""
    order = " ORDER BY ALL" if columns else ""
    return f"SELECT * FROM {PUBLISHED_SCHEMA}.{quote_identifier(table)}{where}{order}"


def export_tables(con: duckdb.DuckDBPyConnection, period: str, out_dir: Path) -> dict[str, dict[str, Path]]:
    """Write `<out_dir>/<table>.csv` and `.parquet` for the month; returns {table: {format: path}}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, dict[str, Path]] = {}
    for table, columns in published_tables(con).items():
        select = table_query(table, columns, period)
        for fmt, options in FORMATS.items():
            path = out_dir / f"{table}.{fmt}"
            tmp = path.with_name(f".{path.name}.tmp")
            con.execute(f"COPY ({select}) TO {sql_string(str(tmp))} {options}")
            durable_replace(tmp, path)
            written.setdefault(table, {})[fmt] = path
    return written


def read_table(con: duckdb.DuckDBPyConnection, table: str, period: str | None = None) -> list[dict]:
    """Rows of a published table as dicts (for one month when it has a period); [] if it does not exist."""
    columns = published_tables(con).get(table)
    if columns is None:
        return []
    select = table_query(table, columns, period) if period else f"SELECT * FROM {PUBLISHED_SCHEMA}.{quote_identifier(table)}"
    cursor = con.execute(select)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]
