"""What the published tables read: accepted observations, the month's findings, period arithmetic.

Only figures of an accepted delivery (raw.deliveries.status = 'loaded') are published; rows of rejected or
superseded deliveries that may linger in staging are ignored.
"""
from __future__ import annotations

import calendar
from datetime import date

import duckdb

FINDINGS_TABLE = ("marts", "reconciliation_findings")


def previous_period(period: str) -> str:
    """'2023-09' -> '2023-08'; '2024-01' -> '2023-12'."""
    year, month = int(period[:4]), int(period[5:7])
    year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return f"{year:04d}-{month:02d}"


def period_end(period: str) -> date:
    year, month = int(period[:4]), int(period[5:7])
    return date(year, month, calendar.monthrange(year, month)[1])


ACCEPTED_OBSERVATIONS = """
    SELECT o.*
    FROM staging.observations o
    JOIN raw.deliveries d
      ON d.delivery_id = o.delivery_id AND d.period = o.period AND d.source = o.source AND d.status = 'loaded'
"""


def check_unique_figures(con: duckdb.DuckDBPyConnection, periods: list[str]) -> None:
    """The staging contract is one row per delivered figure: a unit's measure twice would be summed twice."""
    dupes = con.execute(f"""
        SELECT period, source, unit_kind, unit_code, measure, count(*) AS n
        FROM ({ACCEPTED_OBSERVATIONS}) o
        WHERE period IN (SELECT unnest(?::VARCHAR[]))
        GROUP BY ALL HAVING count(*) > 1 ORDER BY ALL LIMIT 5
    """, [periods]).fetchall()
    if dupes:
        raise ValueError(f"staging.observations holds a figure more than once (period, source, unit_kind, unit, measure, n): {dupes}")


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
        [schema, table]).fetchall()
    return dict(rows)


def findings_sql(con: duckdb.DuckDBPyConnection) -> str:
    """A query of the findings as (period, source, unit_code, severity, measures VARCHAR[]).

    Empty when marts.reconciliation_findings does not exist yet. `measures` comes from a `measures` column
    (a list, or text 'a,b'), else from a single `measure` column; it is NULL when the table has neither (or
    the finding names no measure): such a finding concerns every measure of its row.
    """
    cols = _columns(con, *FINDINGS_TABLE)
    empty = ("SELECT NULL::VARCHAR AS period, NULL::VARCHAR AS source, NULL::VARCHAR AS unit_code, "
             "NULL::VARCHAR AS severity, NULL::VARCHAR[] AS measures WHERE false")
    if not {"period", "source", "unit_code", "severity"} <= cols.keys():
        return empty
    if "measures" in cols and cols["measures"].endswith("[]"):
        measures = "CAST(measures AS VARCHAR[])"
    elif "measures" in cols:  # text such as 'a,b' or 'a, b'
        measures = "list_transform(string_split(CAST(measures AS VARCHAR), ','), x -> trim(x))"
    elif "measure" in cols:
        measures = "CASE WHEN measure IS NOT NULL THEN [CAST(measure AS VARCHAR)] END"
    else:
        measures = "NULL::VARCHAR[]"
    return (f"SELECT CAST(period AS VARCHAR) AS period, source, CAST(unit_code AS VARCHAR) AS unit_code, "
            f"lower(severity) AS severity, nullif({measures}, []) AS measures FROM {'.'.join(FINDINGS_TABLE)}")


QUALITY = """CASE WHEN bool_or(f.severity = 'error') THEN 'error'
                  WHEN bool_or(f.severity = 'warning') THEN 'warning' ELSE 'ok' END"""
