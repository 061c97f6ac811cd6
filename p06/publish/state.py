"""What each month's publication was made from, so that a run does only the work that changed.

`raw.publication_state` keeps per month:
- `inputs_sha`: the fingerprints of the deliveries the month's tables read (its own and those of the months
  its history rules compare with) and of the declarations and code (see `p06.landing.month_inputs`);
  `p06 run` compares it with the landing zone and skips the month when it is equal;
- `content_sha`: a digest of the month's published rows (indicators, services, completeness, findings);
- `exported_sha`: the content digest the month's workbook, reports and files were written from (for the latest
  month, with what its trend charts and dashboard show of the earlier months: `p06.documents.exports`):
  a month whose content did not change (a later month of a corrected one that does not depend on it)
  is not exported again.
"""
from __future__ import annotations

import re
from datetime import datetime

import duckdb

from p06.warehouse import has_table

TABLE = "raw.publication_state"
DDL = f"""
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS {TABLE} (
    period        VARCHAR PRIMARY KEY,   -- YYYY-MM
    inputs_sha    VARCHAR,               -- deliveries, declarations and code the publication was made from
    content_sha   VARCHAR,               -- digest of the month's published rows
    exported_sha  VARCHAR,               -- content digest of the last exports (workbook, report, files)
    updated_at    TIMESTAMP NOT NULL
);
"""
# Published tables of a month, with the columns that change at every run (left out of the digest).
CONTENT = {"marts.indicator_monthly": (), "marts.public_services_monthly": (), "marts.source_completeness": (),
           "marts.reconciliation_findings": ("reconciled_at",)}


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return has_table(con, table)


# An order-independent digest of a set of rows: their count and the exact sum of their 64-bit hashes (DuckDB's
# `hash`, deterministic for a DuckDB version). 40x faster than an md5 of the rows as text, sorted.
ROWS_DIGEST = "count(*) || ':' || coalesce(sum(hash(t)::HUGEINT), 0)"


def content_sha(con: duckdb.DuckDBPyConnection, period: str) -> str:
    """Digest of the month's published rows (order-independent)."""
    return content_shas(con, [period])[period]


def legacy_content_sha(con: duckdb.DuckDBPyConnection, period: str) -> str:
    """`content_sha` as releases before 7 December 2026 made it (an md5 of the sorted rows as text): to recognise
    a month recorded then whose rows did not change (p06.publish.vintages.record)."""
    parts = []
    for table, volatile in CONTENT.items():
        if _exists(con, table):
            exclude = f" EXCLUDE ({', '.join(volatile)})" if volatile else ""
            ((digest,),) = con.execute(f"SELECT md5(coalesce(string_agg(r, '|' ORDER BY r), '')) FROM (SELECT CAST(t AS "
                                       f"VARCHAR) AS r FROM (SELECT *{exclude} FROM {table} WHERE period = ?) t)",
                                       [period]).fetchall()
            parts.append(f"{table}:{digest}")
    return ";".join(parts)


def is_legacy(digest: str) -> bool:
    return bool(re.search(r":[0-9a-f]{32}(;|$)", digest))


def content_shas(con: duckdb.DuckDBPyConnection, periods: list[str] | None = None) -> dict[str, str]:
    """period -> `content_sha` of every month with published rows (of `periods` only, when given), in one query
    per table."""
    by_table = {}
    where, params = ("WHERE period IN (SELECT unnest(?::VARCHAR[]))", [sorted(periods)]) if periods is not None else ("", [])
    for table, volatile in CONTENT.items():
        if not _exists(con, table):
            continue
        exclude = f" EXCLUDE ({', '.join(volatile)})" if volatile else ""
        by_table[table] = dict(con.execute(
            f"SELECT period, {ROWS_DIGEST} FROM (SELECT *{exclude} FROM {table} {where}) t GROUP BY period", params).fetchall())
    months = sorted({p for digests in by_table.values() for p in digests} | set(periods or ()))
    return {p: ";".join(f"{table}:{digests.get(p, '0:0')}" for table, digests in by_table.items()) for p in months}


def stored(con: duckdb.DuckDBPyConnection, column: str) -> dict[str, str]:
    """period -> the stored `column` (inputs_sha, content_sha or exported_sha)."""
    ensure(con)
    return {p: v for p, v in con.execute(f"SELECT period, {column} FROM {TABLE}").fetchall()}


def record(con: duckdb.DuckDBPyConnection, period: str, **values: str | None) -> None:
    """Set some of inputs_sha, content_sha, exported_sha for the month."""
    ensure(con)
    con.execute(f"INSERT INTO {TABLE} (period, updated_at) VALUES (?, ?) ON CONFLICT DO NOTHING", [period, datetime.now()])
    for column, value in values.items():
        con.execute(f"UPDATE {TABLE} SET {column} = ?, updated_at = ? WHERE period = ?", [value, datetime.now(), period])


def unchecked_months(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Months whose published rows are not those of their last publication that passed its checks (a failed
    or interrupted run): the analysts' copy must not be made from them."""
    ensure(con)
    if not _exists(con, "marts.indicator_monthly"):
        return []
    recorded = dict(con.execute(f"SELECT period, content_sha FROM {TABLE}").fetchall())
    months = [p for (p,) in con.execute("SELECT DISTINCT period FROM marts.indicator_monthly ORDER BY 1").fetchall()]
    return [p for p in months if recorded.get(p) != content_sha(con, p)]
