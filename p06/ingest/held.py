"""What the warehouse holds for a source-month: the figures in use and the fingerprint of the files they were
read from. A run that finds a delivery unchanged records these (not "rows 0, units 0"), and its data version
is the fingerprint, the same as the run that loaded it."""
from __future__ import annotations

import hashlib

import duckdb

from p06.ingest.load import LoadResult


def describe_held(con: duckdb.DuckDBPyConnection, result: LoadResult) -> LoadResult:
    """Fill an unchanged result's rows, units and measures from the accepted figures in staging."""
    if result.status != "unchanged":
        return result
    rows, units, measures = con.execute(
        """SELECT count(*), count(DISTINCT o.unit_code) FILTER (WHERE o.unit_kind <> 'province'),
                  list(DISTINCT o.measure ORDER BY o.measure)
           FROM staging.observations o JOIN raw.deliveries d ON d.delivery_id = o.delivery_id AND d.status = 'loaded'
           WHERE o.source = ? AND o.period = ?""", [result.source, result.period]).fetchall()[0]
    result.rows, result.units, result.measures = int(rows), int(units), list(measures or [])
    return result


def held_version(con: duckdb.DuckDBPyConnection, source: str, periods: list[str]) -> str:
    """A data version of the source's months: the fingerprints of their last processing ('none' for a month
    without files)."""
    fingerprints = dict(con.execute(
        "SELECT DISTINCT ON (period) period, fingerprint FROM raw.deliveries WHERE source = ? "
        "AND period IN (SELECT unnest(?::VARCHAR[])) ORDER BY period, processed_at DESC",
        [source, periods]).fetchall())
    text = "|".join(f"{p}:{fingerprints.get(p, 'none')}" for p in sorted(periods))
    return hashlib.sha256(text.encode()).hexdigest()[:24]
