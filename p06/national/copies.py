"""One province's published copy (`p06_published.duckdb`, the file a province sends up), read for the roll-up.

The copy is opened read-only with DuckDB's external access disabled (a received file cannot make this process
read or write any other file: no ATTACH, COPY, or extension). What is taken from it:
- the province it was made for (`ref.meta`, recorded by `p06 run`: `p06.warehouse.warehouse_province`);
- each month's vintage in use: the latest checked vintage of `marts.publications` and its time;
- the province's rows of `marts.indicator_monthly` (`unit_level = 'province'` and its code; rows of the old
  provinces a merged province stands for are left aside, rows of any other province make the copy inconsistent);
- the sha256 of the file as received.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from p06 import warehouse
from p06.national import provinces

ROW_COLUMNS = ("period", "as_of_date", "indicator_code", "numerator", "denominator", "target", "value",
               "previous_value", "quality", "units_reporting", "units_expected")


class UnreadableCopy(ValueError):
    """The file is not a province's published copy the roll-up can use."""


@dataclass(frozen=True)
class ProvinceCopy:
    path: Path
    sha256: str
    province_code: str | None
    months: dict[str, tuple[int, datetime]]          # period -> (vintage in use, published_at)
    rows: pl.DataFrame = field(repr=False)            # the province rows of marts.indicator_monthly (ROW_COLUMNS)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    """Column names of a table (empty when there is no such table)."""
    return {c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
                                      [schema, table]).fetchall()}


def read(path: Path) -> ProvinceCopy:
    """The copy's province, months with their vintages, and province rows; UnreadableCopy naming the file."""
    path = Path(path)
    if not path.is_file():
        raise UnreadableCopy(f"{path}: no such file")
    digest = sha256(path)
    try:
        con = duckdb.connect(str(path), read_only=True, config={"enable_external_access": False})
    except duckdb.Error as exc:
        raise UnreadableCopy(f"{path}: not a DuckDB database this version can open ({exc})") from None
    try:
        code = warehouse.warehouse_province(con)
        publications = _has(con, "marts", "publications")
        monthly = _has(con, "marts", "indicator_monthly")
        if not publications or not monthly >= set(ROW_COLUMNS) | {"unit_level", "unit_code"}:
            raise UnreadableCopy(f"{path}: not a province's published copy (marts.publications and "
                                 "marts.indicator_monthly with its columns are required)")
        checked = "WHERE checked" if "checked" in publications else ""
        months = {p: (v, t) for p, v, t in con.execute(
            f"SELECT period, max(vintage), arg_max(published_at, vintage) FROM marts.publications {checked} "
            "GROUP BY period ORDER BY period").fetchall()}
        # a merged province may publish its old provinces' rows as well (35 and 36 in 37's copy): not the province's
        allowed = sorted({code} | provinces.old_provinces(code)) if code else []
        others = con.execute("SELECT DISTINCT unit_code FROM marts.indicator_monthly WHERE unit_level = 'province' "
                             "AND unit_code NOT IN (SELECT unnest(?::VARCHAR[])) ORDER BY 1", [allowed]).fetchall()
        if code is not None and others:
            raise UnreadableCopy(f"{path}: made for province {code}, but it holds province rows of "
                                 f"{', '.join(c for (c,) in others)}: the copy is inconsistent")
        rows = pl.from_arrow(con.sql(f"SELECT {', '.join(ROW_COLUMNS)} FROM marts.indicator_monthly "
                                     "WHERE unit_level = 'province' AND unit_code = ? AND period IN (SELECT unnest(?::VARCHAR[])) "
                                     "ORDER BY period, indicator_code", params=[code, sorted(months)]).to_arrow_table())
    finally:
        con.close()
    return ProvinceCopy(path=path, sha256=digest, province_code=code, months=months, rows=rows)
