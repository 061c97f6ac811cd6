"""What the published tables read: accepted observations, the month's findings, unit names, period arithmetic.

Only figures of an accepted delivery (raw.deliveries.status = 'loaded') are published; rows of rejected or
superseded deliveries that may linger in staging are ignored.
"""
from __future__ import annotations

import os
from datetime import date
from functools import lru_cache

import duckdb
import polars as pl

from p06 import reference
from p06.publish.files import sql_string
from p06.reconcile.rules import load_rules
from p06.warehouse import has_table

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
        SELECT period, source, unit_kind, unit_code, old_province, measure, count(*) AS n
        FROM ({ACCEPTED_OBSERVATIONS}) o
        WHERE period IN (SELECT unnest(?::VARCHAR[]))
        GROUP BY ALL HAVING count(*) > 1 ORDER BY ALL LIMIT 5
    """, [periods]).fetchall()
    if dupes:
        raise ValueError(f"staging.observations holds a figure more than once (period, source, unit_kind, unit, measure, n): {dupes}")


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return has_table(con, f"{schema}.{table}")


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
    date.max): a code may be reused by another unit later. A merged province's also holds its old provinces'
    units, and the old provinces themselves as unit_kind 'old_province'. Built once per province and settings
    (each month's tables read it)."""
    return _unit_names(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("P06_"))))


@lru_cache(maxsize=4)
def _unit_names(settings: tuple) -> pl.DataFrame:
    olds = reference.old_provinces()
    provinces = [None, *(p.unit_code for p in olds if p.unit_code != reference.province_code())]
    found = {u.key: u for p in provinces for kind in [*reference.ADMIN_KINDS, *sorted(reference.declared_kinds(p))]
             for u in reference.units(kind, p)}
    rows = [{"unit_kind": u.unit_kind, "unit_code": u.unit_code, "name_vi": u.name_vi, "group_vi": u.group_vi or None,
             "valid_from": u.valid_from or date.min, "valid_to": u.valid_to or date.max} for u in found.values()]
    rows += [{"unit_kind": "old_province", "unit_code": p.unit_code, "name_vi": p.name_vi, "group_vi": None,
              "valid_from": p.valid_from or date.min, "valid_to": p.valid_to or date.max} for p in olds]
    return pl.DataFrame(
        rows,
        schema={"unit_kind": pl.String, "unit_code": pl.String, "name_vi": pl.String, "group_vi": pl.String,
                "valid_from": pl.Date, "valid_to": pl.Date})


def valid_on(names: str, day: str) -> str:
    """SQL condition: the unit-name row `names` is valid on the day (SQL expression) `day`."""
    return f"{day} BETWEEN {names}.valid_from AND {names}.valid_to"


QUALITY = """CASE WHEN bool_or(f.severity = 'error') THEN 'error'
                  WHEN bool_or(f.severity = 'warning') THEN 'warning' ELSE 'ok' END"""


def old_province_units(months: list[str]) -> pl.DataFrame:
    """(period, unit_kind, old_province, n): how many units of each kind each old province of a merged
    province has at the end of each month before the merger (none for other months and provinces)."""
    from p06 import catalog, periods
    rows = []
    for month in months:
        day = periods.period_end(month)
        kinds = set()
        for source in catalog.sources().values():
            try:
                kinds.add(source.unit_kind_in(month))
            except ValueError:          # not delivered by units that month
                pass
        for p in reference.old_provinces(None, day):
            for kind in sorted(kinds):
                try:
                    n = len(reference.old_province_units(kind, p.unit_code, day))
                except reference.UndeclaredUnitKind:
                    n = 0
                rows.append({"period": month, "unit_kind": kind, "old_province": p.unit_code, "n": n})
    return pl.DataFrame(rows, schema={"period": pl.String, "unit_kind": pl.String, "old_province": pl.String,
                                      "n": pl.Int64})


def comparison_note(period: str, previous: str) -> dict[str, str | None]:
    """What a province figure's previous_value is when the month before was before the province's merger
    (catalog/report_templates.yaml `merged_comparison`, and `merged_comparison_partial` appended when that
    month's figure lacks units): {'comparison_note', 'comparison_partial'}, None otherwise."""
    import yaml

    from p06 import config, periods
    from p06.wording import say
    olds = reference.old_provinces(None, periods.period_end(previous))
    if not olds or reference.old_provinces(None, periods.period_end(period)):
        return {"comparison_note": None, "comparison_partial": None}
    names = ", ".join(reference.short_province_name(p.name_vi) for p in olds)
    templates = yaml.safe_load((config.CATALOG_DIR / "report_templates.yaml").read_text(encoding="utf-8"))
    return {"comparison_note": say(templates["merged_comparison"], previous=previous, names=names),
            "comparison_partial": say(templates["merged_comparison_partial"], previous=previous)}
