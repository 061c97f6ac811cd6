"""What the published tables read: accepted observations, the month's findings, unit names, period arithmetic.

Only figures of an accepted delivery (raw.deliveries.status = 'loaded') are published; rows of rejected or
superseded deliveries that may linger in staging are ignored.
"""
from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from p06 import reference
from p06.publish.files import sql_string
from p06.reconcile.rules import load_rules

FINDINGS_TABLE = ("marts", "reconciliation_findings")


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


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                            [schema, table]).fetchall()[0][0])


def _sql_list(items) -> str:
    return "[" + ", ".join(sql_string(i) for i in items) + "]::VARCHAR[]"


def findings_sql(con: duckdb.DuckDBPyConnection) -> str:
    """A query of the findings as (period, source, unit_code, severity, measures VARCHAR[]).

    `measures` are the figures a finding bears on: every measure its rule compares (a `compare` rule of
    checks/rules.yaml: "remaining == to review - cleaned" casts doubt on all three), else its own measure;
    NULL when it names none (a missing unit): it then bears on every figure of its row.
    Empty when marts.reconciliation_findings does not exist yet.
    """
    if not _has_table(con, *FINDINGS_TABLE):
        return ("SELECT NULL::VARCHAR AS period, NULL::VARCHAR AS source, NULL::VARCHAR AS unit_code, "
                "NULL::VARCHAR AS severity, NULL::VARCHAR[] AS measures WHERE false")
    compared = {r.id: sorted({*r.left.measures, *r.right.measures}) for r in load_rules() if r.kind == "compare"}
    cases = " ".join(f"WHEN {sql_string(rule_id)} THEN {_sql_list(ms)}" for rule_id, ms in sorted(compared.items()))
    rule_measures = f"CASE rule_id {cases} END" if cases else "NULL::VARCHAR[]"
    return (f"SELECT period, source, unit_code, lower(severity) AS severity, "
            f"coalesce({rule_measures}, CASE WHEN measure IS NOT NULL THEN [measure] END) AS measures "
            f"FROM {'.'.join(FINDINGS_TABLE)}")


def unit_names() -> pl.DataFrame:
    """Reference names of the configured province's units with their validity (open ends as date.min and
    date.max): a code may be reused by another unit later."""
    kinds = [*reference.ADMIN_KINDS, *sorted(reference.declared_kinds())]
    return pl.DataFrame(
        [{"unit_kind": u.unit_kind, "unit_code": u.unit_code, "name_vi": u.name_vi, "group_vi": u.group_vi or None,
          "valid_from": u.valid_from or date.min, "valid_to": u.valid_to or date.max}
         for kind in kinds for u in reference.units(kind)],
        schema={"unit_kind": pl.String, "unit_code": pl.String, "name_vi": pl.String, "group_vi": pl.String,
                "valid_from": pl.Date, "valid_to": pl.Date})


def valid_on(names: str, day: str) -> str:
    """SQL condition: the unit-name row `names` is valid on the day (SQL expression) `day`."""
    return f"{day} BETWEEN {names}.valid_from AND {names}.valid_to"


QUALITY = """CASE WHEN bool_or(f.severity = 'error') THEN 'error'
                  WHEN bool_or(f.severity = 'warning') THEN 'warning' ELSE 'ok' END"""
