"""The DuckDB warehouse: one file, one schema per layer (raw, staging, marts).

DuckDB admits one read-write process at a time, so every writer goes through
`connect()`, which waits for a held lock instead of failing at once.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
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
    status        VARCHAR NOT NULL,      -- loaded | rejected | superseded
    message       VARCHAR,
    fingerprint   VARCHAR NOT NULL       -- files of the source-month + declarations read
);

CREATE TABLE IF NOT EXISTS raw.cells (
    delivery_id   BIGINT NOT NULL,
    sheet         VARCHAR NOT NULL,
    cell          VARCHAR NOT NULL,      -- A1 reference
    row_number    INTEGER NOT NULL,
    column_number INTEGER NOT NULL,
    value         VARCHAR                -- as delivered, rendered as text
);

""" + staging.ddl()


def _open(path: Path, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


@contextmanager
def connect(path: Path | None = None, *, read_only: bool = False, wait_seconds: float = 120.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse (creating schemas on first use); waits while another process holds the write lock."""
    path = Path(path or config.warehouse_path())
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = _open(path, read_only, wait_seconds)
    try:
        if not read_only:
            con.execute(DDL)
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
