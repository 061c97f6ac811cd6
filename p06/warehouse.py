"""The DuckDB warehouse: one file, one schema per layer (raw, staging, marts).

DuckDB admits one read-write process at a time, so every writer goes through
`connect()`, which waits for a held lock instead of failing at once.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Iterator

import duckdb

from p06 import config, staging

DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS marts;

CREATE SEQUENCE IF NOT EXISTS raw.delivery_seq;
CREATE TABLE IF NOT EXISTS raw.deliveries (
    delivery_id   BIGINT PRIMARY KEY DEFAULT nextval('raw.delivery_seq'),
    period        VARCHAR NOT NULL,      -- YYYY-MM, the landing-zone folder
    source        VARCHAR NOT NULL,
    path          VARCHAR NOT NULL,      -- relative to the landing zone
    file_name     VARCHAR NOT NULL,
    sha256        VARCHAR NOT NULL,
    size_bytes    BIGINT NOT NULL,
    received_at   TIMESTAMP NOT NULL,    -- file modification time
    processed_at  TIMESTAMP NOT NULL,
    as_of_date    DATE,
    status        VARCHAR NOT NULL,      -- loaded | rejected | superseded | withdrawn
    message       VARCHAR,
    fingerprint   VARCHAR NOT NULL,      -- files of the source-month + declarations read
    first_seen_at TIMESTAMP              -- when this file (path and sha256) was first processed: newest wins by it
);

CREATE TABLE IF NOT EXISTS raw.cells (
    delivery_id   BIGINT NOT NULL,
    sheet         VARCHAR NOT NULL,
    cell          VARCHAR NOT NULL,      -- A1 reference
    row_number    INTEGER NOT NULL,
    column_number INTEGER NOT NULL,
    value         VARCHAR                -- as delivered, rendered as text
);

-- what each file in use supplies (p06.ingest.parts): one row per table (sheet) of a loaded delivery
CREATE TABLE IF NOT EXISTS raw.delivery_parts (
    delivery_id      BIGINT NOT NULL,     -- the file's record in raw.deliveries
    sheet            VARCHAR NOT NULL,
    measures         VARCHAR[] NOT NULL,
    units_supplied   INTEGER NOT NULL,    -- units of the table this file supplies (in use)
    units_superseded INTEGER NOT NULL,    -- units of the table re-sent by later files
    superseded_by    VARCHAR              -- those later files
);

-- a warehouse made before first_seen_at was recorded: its files were first seen when first processed
ALTER TABLE raw.deliveries ADD COLUMN IF NOT EXISTS first_seen_at TIMESTAMP;
""" + staging.ddl() + """
-- a warehouse made before merged provinces' old provinces were recorded
ALTER TABLE staging.observations ADD COLUMN IF NOT EXISTS old_province VARCHAR;
"""

# raw.deliveries.message of a sound file of a source-month in which another file was refused: not loaded either,
# but not at fault (not one to send back to its department)
HELD_BACK = "not loaded: another file of this source-month was rejected"
# A month's raw.deliveries (parameter: the period), each with `refused`: refused for its own content in its
# source-month's last processing (one a later good file replaced is done with; a file held back is not at fault).
# What marts.source_completeness counts and marts.errata names (cause delivery_rejected).
DELIVERIES_WITH_REFUSED = f"""SELECT *, status = 'rejected' AND message IS DISTINCT FROM '{HELD_BACK}'
                                     AND processed_at = max(processed_at) OVER (PARTITION BY source) AS refused
                              FROM raw.deliveries WHERE period = ?"""


# ------------------------------------------------------------------ reference units (p06.reference)
REF_DDL = """
CREATE SCHEMA IF NOT EXISTS ref;
CREATE TABLE IF NOT EXISTS ref.meta (
    name          VARCHAR PRIMARY KEY,
    value         VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS ref.units (
    code          VARCHAR NOT NULL,
    kind          VARCHAR NOT NULL,      -- province | district | commune | tax_office | tax_unit | service
    name          VARCHAR NOT NULL,
    province_code VARCHAR NOT NULL,
    parent_code   VARCHAR,
    valid_from    DATE,                  -- NULL: in force before the reference list begins
    valid_to      DATE                   -- NULL: still in force
);
CREATE TABLE IF NOT EXISTS ref.unit_crosswalk (
    old_kind       VARCHAR NOT NULL,
    old_code       VARCHAR NOT NULL,
    old_name       VARCHAR NOT NULL,
    old_valid_from DATE,
    old_valid_to   DATE,
    new_kind       VARCHAR NOT NULL,
    new_code       VARCHAR NOT NULL,
    new_name       VARCHAR NOT NULL,
    new_valid_from DATE,
    coverage       VARCHAR NOT NULL,     -- whole | part
    new_within_old BOOLEAN NOT NULL,
    effective_date DATE NOT NULL
);
"""


@cache
def _reference_tables(sha: str):
    """ref.units and ref.unit_crosswalk rows as Arrow tables, built once per process and reference version."""
    import pyarrow as pa

    from p06 import reference

    unit_rows, link_rows = reference.table_rows()
    text, day = pa.string(), pa.date32()
    units = pa.Table.from_pylist(unit_rows, schema=pa.schema([
        ("code", text), ("kind", text), ("name", text), ("province_code", text), ("parent_code", text),
        ("valid_from", day), ("valid_to", day)]))
    links = pa.Table.from_pylist(link_rows, schema=pa.schema([
        ("old_kind", text), ("old_code", text), ("old_name", text), ("old_valid_from", day), ("old_valid_to", day),
        ("new_kind", text), ("new_code", text), ("new_name", text), ("new_valid_from", day), ("coverage", text),
        ("new_within_old", pa.bool_()), ("effective_date", day)]))
    return units, links


def load_reference(con: duckdb.DuckDBPyConnection) -> bool:
    """Fill ref.units and ref.unit_crosswalk from the catalog's reference files when they changed since the
    last load (a fingerprint in ref.meta); True when they were (re)loaded."""
    from p06 import reference

    con.execute(REF_DDL)
    sha = reference.fingerprint()
    stored = con.execute("SELECT value FROM ref.meta WHERE name = 'reference_sha'").fetchall()
    if stored and stored[0][0] == sha:
        return False
    units, links = _reference_tables(sha)
    with transaction(con):
        con.execute("DELETE FROM ref.units")
        con.execute("DELETE FROM ref.unit_crosswalk")
        con.register("_p06_ref_units", units)
        con.register("_p06_ref_links", links)
        try:
            con.execute("INSERT INTO ref.units BY NAME SELECT * FROM _p06_ref_units")
            con.execute("INSERT INTO ref.unit_crosswalk BY NAME SELECT * FROM _p06_ref_links")
        finally:
            con.unregister("_p06_ref_units")
            con.unregister("_p06_ref_links")
        con.execute("INSERT OR REPLACE INTO ref.meta VALUES ('reference_sha', ?)", [sha])
    return True


class WarehouseOfAnotherProvince(RuntimeError):
    """The warehouse holds another province's figures than P06_PROVINCE names: one warehouse per province."""


def warehouse_province(con: duckdb.DuckDBPyConnection) -> str | None:
    """The province code a warehouse (or the analysts' copy) was made for; None before its first run."""
    if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'ref' "
                       "AND table_name = 'meta'").fetchall()[0][0]:
        return None
    stored = con.execute("SELECT value FROM ref.meta WHERE name = 'province'").fetchall()
    if stored:
        return stored[0][0]
    # a warehouse made before the province was recorded: the province its total rows name, if any
    if con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'staging' "
                   "AND table_name = 'observations'").fetchall()[0][0]:
        named = con.execute("SELECT DISTINCT unit_code FROM staging.observations WHERE unit_kind = 'province'").fetchall()
        if len(named) == 1:
            return named[0][0]
    return None


def check_province(con: duckdb.DuckDBPyConnection, path: Path | str = "the warehouse") -> None:
    """Refuse a warehouse made for another province than the configured one (its figures would mix)."""
    stored, code = warehouse_province(con), config.province_code()
    if stored is not None and stored != code:
        raise WarehouseOfAnotherProvince(
            f"{path} holds the figures of province {stored}, but P06_PROVINCE is {code}: give each province a "
            f"warehouse of its own (P06_WAREHOUSE_DIR), e.g. P06_WAREHOUSE_DIR=warehouse-{code}")


def _claim_province(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    check_province(con, path)
    if not con.execute("SELECT count(*) FROM ref.meta WHERE name = 'province'").fetchall()[0][0]:
        con.execute("INSERT OR REPLACE INTO ref.meta VALUES ('province', ?)", [config.province_code()])


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether `schema.table` exists (duckdb_columns: 3x quicker than duckdb_tables, which sizes every table)."""
    schema, name = table.split(".")
    return bool(con.execute("SELECT count(*) FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
                            [schema, name]).fetchall()[0][0])     # fetchall: no result left open on `con`


def open_connection(path: Path, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    """A connection, waiting while another process holds DuckDB's lock (one writer at a time)."""
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:                   # a lock held by another process
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


_held: dict[str, duckdb.DuckDBPyConnection] = {}     # warehouse file -> the connection a run keeps open (`held`)


def _key(path: Path) -> str:
    return str(path.resolve())


@contextmanager
def held(path: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Keep the warehouse open while a run lasts: each `connect()` of this process meanwhile is a cursor on this
    connection, instead of opening the file, checking its schemas and reference tables and closing it again
    (40-80 ms each, some sixty times in a run). Nested calls keep the first one's connection."""
    path = Path(path or config.warehouse_path())
    key = _key(path)
    if key in _held:
        yield _held[key]
        return
    with connect(path) as con:
        _held[key] = con
        try:
            yield con
        finally:
            del _held[key]


@contextmanager
def connect(path: Path | None = None, *, read_only: bool = False, wait_seconds: float = 120.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse (creating schemas on first use); waits while another process holds the write lock.
    Within `held`, a cursor on the run's connection (read-only requests too: this process is the writer)."""
    path = Path(path or config.warehouse_path())
    keeper = _held.get(_key(path)) if _held else None
    if keeper is not None:
        cursor = keeper.cursor()
        try:
            yield cursor
        finally:
            cursor.close()
        return
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = open_connection(path, read_only, wait_seconds)
    try:
        if not read_only:
            con.execute(DDL)
            load_reference(con)
            _claim_province(con, path)
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: a failure rolls back, leaving the previous load in place."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    else:
        con.execute("COMMIT")


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """A query's result as a polars DataFrame (DuckDB 2.0 relations, no DB-API copy)."""
    return con.sql(sql, params=params).pl()
