"""marts.source_completeness: per source expected in the month, was it delivered, and how complete.

A source-month is 'delivered' when it has an accepted delivery (raw.deliveries.status = 'loaded'), else
'withdrawn' when its delivery was withdrawn (its folder emptied), else 'missing' (rejected deliveries alone
leave it missing); a missing or withdrawn source has no figures in the month's
publication and nothing stands in for it. A source not expected in the month (before its expected_from,
after its expected_until) has no row unless something was delivered for it anyway. Units expected are the
reference units of the source's unit kind in that month valid on the as-of date (or the last day of the
month when unknown); units present are those with unit rows.
"""
from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from p06 import catalog, periods, reference
from p06.publish import inputs
from p06.warehouse import DELIVERIES_WITH_REFUSED

TABLE = "marts.source_completeness"
DDL = """
CREATE TABLE IF NOT EXISTS marts.source_completeness (
    period              VARCHAR NOT NULL,
    source              VARCHAR NOT NULL,
    department_vi       VARCHAR,
    unit_kind           VARCHAR NOT NULL,
    status              VARCHAR NOT NULL,
    file                VARCHAR,
    as_of_date          DATE,
    received_at         TIMESTAMP,
    units_expected      INTEGER NOT NULL,
    units_present       INTEGER NOT NULL,
    missing_units       VARCHAR,
    unexpected_units    VARCHAR,
    province_total_only BOOLEAN NOT NULL,
    rejected_deliveries INTEGER NOT NULL,
    rejection_messages  VARCHAR,
    error_count         INTEGER NOT NULL,
    warning_count       INTEGER NOT NULL
);
"""
COLUMNS = ["period", "source", "department_vi", "unit_kind", "status", "file", "as_of_date", "received_at",
           "units_expected", "units_present", "missing_units", "unexpected_units", "province_total_only",
           "rejected_deliveries", "rejection_messages", "error_count", "warning_count"]
SCHEMA = {"period": pl.String, "source": pl.String, "department_vi": pl.String, "unit_kind": pl.String,
          "status": pl.String, "file": pl.String, "as_of_date": pl.Date, "received_at": pl.Datetime("us"),
          "units_expected": pl.Int32, "units_present": pl.Int32, "missing_units": pl.String,
          "unexpected_units": pl.String, "province_total_only": pl.Boolean, "rejected_deliveries": pl.Int32,
          "rejection_messages": pl.String, "error_count": pl.Int32, "warning_count": pl.Int32}


def _by_source(con: duckdb.DuckDBPyConnection, sql: str, *params) -> dict[str, tuple]:
    return {row[0]: row[1:] for row in con.execute(sql, list(params)).fetchall()}


def _facts(con: duckdb.DuckDBPyConnection, period: str) -> dict[str, dict[str, tuple]]:
    accepted = inputs.ACCEPTED_OBSERVATIONS
    return {
        "deliveries": _by_source(con, f"""
            SELECT source,
                   string_agg(file_name, '; ' ORDER BY file_name) FILTER (WHERE status = 'loaded'),
                   max(as_of_date) FILTER (WHERE status = 'loaded'),
                   max(received_at) FILTER (WHERE status = 'loaded'),
                   count(*) FILTER (WHERE status = 'loaded'),
                   count(*) FILTER (WHERE refused),
                   string_agg(file_name || ': ' || coalesce(message, ''), '; ') FILTER (WHERE refused),
                   count(*) FILTER (WHERE status = 'withdrawn')
            FROM ({DELIVERIES_WITH_REFUSED}) GROUP BY source""", period),
        "units": _by_source(con, f"""
            SELECT source, list(DISTINCT unit_code) FILTER (WHERE unit_kind <> 'province' AND NOT stated),
                   count(*) FILTER (WHERE unit_kind = 'province')
            FROM ({accepted}) o WHERE period = ? GROUP BY source""", period),
        "findings": _by_source(con, f"""
            SELECT source, count(*) FILTER (WHERE severity = 'error'), count(*) FILTER (WHERE severity = 'warning')
            FROM ({inputs.findings_sql(con)}) f WHERE period = ? GROUP BY source""", period),
    }


def compute(con: duckdb.DuckDBPyConnection, period: str) -> pl.DataFrame:
    """The rows of marts.source_completeness for one period (not written), one per declared source."""
    facts = _facts(con, period)
    rows = []
    for source in catalog.sources().values():
        if not source.expected_in(period) and source.id not in facts["deliveries"]:
            continue                                       # an ended campaign is not missing
        file, as_of, received, loaded, rejected, messages, withdrawn = facts["deliveries"].get(
            source.id, (None, None, None, 0, 0, None, 0))
        unit_kind = source.unit_kind_in(period)
        present, province_rows = facts["units"].get(source.id, ([], 0))
        present = set(present or [])
        day: date = as_of or periods.period_end(period)
        expected = {u.unit_code for u in reference.expected_units(unit_kind, day)}
        errors, warnings = facts["findings"].get(source.id, (0, 0))
        rows.append({
            "period": period, "source": source.id, "department_vi": source.department_vi,
            "unit_kind": unit_kind, "status": "delivered" if loaded else "withdrawn" if withdrawn else "missing",
            "file": file, "as_of_date": as_of, "received_at": received,
            "units_expected": len(expected), "units_present": len(expected & present),
            "missing_units": (", ".join(sorted(expected - present)) or None) if loaded else None,
            "unexpected_units": ", ".join(sorted(present - expected)) or None,
            "province_total_only": bool(loaded and province_rows and not present),
            "rejected_deliveries": rejected, "rejection_messages": messages,
            "error_count": errors, "warning_count": warnings,
        })
    return pl.DataFrame(rows, schema=SCHEMA)

