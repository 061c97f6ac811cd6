"""marts.indicator_period: the indicators of quarters, half-years, nine months and years, from the months.

Each indicator adds its months up as declared (catalog/indicators.yaml `time_aggregation`): `last` (a stock or a
level) takes the figures of the last month of the period that has them, `sum` (a flow) sums numerator and
denominator over the months that have them; a ratio is then recomputed from the period's numerator and
denominator (`unit_aggregation: sum` already made the monthly province rows sums over units). A row says which
months of the period it was made from; a row lacking some months is `partial` (unless a month's error makes it
`error`). Units are matched across months by level, code and validity (the reference unit valid in the month:
a reused code is another unit); province and old-province rows by level and code.

`publish_period_aggregates(con, months)` rebuilds the periods containing those months (a run's months);
`ensure_periods(con, labels)` builds given periods (the `p06 report` command).
"""
from __future__ import annotations

from typing import Iterable

import duckdb
import polars as pl

from p06 import report_periods
from p06.publish import inputs
from p06.publish.indicator_catalog import indicators
from p06.publish.marts import replace_rows
from p06.warehouse import has_table, transaction

TABLE = "marts.indicator_period"
DDL = f"""
CREATE SCHEMA IF NOT EXISTS marts;
CREATE TABLE IF NOT EXISTS {TABLE} (
    period            VARCHAR NOT NULL,
    period_kind       VARCHAR NOT NULL,
    first_month       VARCHAR NOT NULL,
    last_month        VARCHAR NOT NULL,
    months_expected   INTEGER NOT NULL,
    months_present    INTEGER NOT NULL,
    missing_months    VARCHAR,
    month_used        VARCHAR,
    as_of_date        DATE,
    unit_level        VARCHAR NOT NULL,
    unit_code         VARCHAR NOT NULL,
    unit_name         VARCHAR NOT NULL,
    indicator_code    VARCHAR NOT NULL,
    indicator_name_vi VARCHAR NOT NULL,
    utility_group     INTEGER NOT NULL,
    source            VARCHAR NOT NULL,
    time_aggregation  VARCHAR NOT NULL,
    numerator         DOUBLE,
    denominator       DOUBLE,
    factor            DOUBLE NOT NULL,
    value             DOUBLE,
    decimals          INTEGER NOT NULL,
    unit_vi           VARCHAR NOT NULL,
    target            DOUBLE,
    quality           VARCHAR NOT NULL
);
"""
COLUMNS = ["period", "period_kind", "first_month", "last_month", "months_expected", "months_present",
           "missing_months", "month_used", "as_of_date", "unit_level", "unit_code", "unit_name", "indicator_code",
           "indicator_name_vi", "utility_group", "source", "time_aggregation", "numerator", "denominator", "factor",
           "value", "decimals", "unit_vi", "target", "quality"]

# Worst first: an error anywhere stays an error; missing months or units make a figure partial.
_RANK = "CASE {q} WHEN 'error' THEN 3 WHEN 'partial' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END"
_UNRANK = "CASE {r} WHEN 3 THEN 'error' WHEN 2 THEN 'partial' WHEN 1 THEN 'warning' ELSE 'ok' END"

_SQL = f"""
WITH monthly AS (
    SELECT m.*, a.time_aggregation, a.is_ratio,
           m.numerator IS NOT NULL AND (NOT a.is_ratio OR m.denominator IS NOT NULL) AS complete,
           CASE WHEN m.unit_level NOT IN ('province', 'old_province') THEN (   -- a unit is its code AND validity
               SELECT max(n.valid_from) FROM _p06_units n WHERE n.unit_kind = m.unit_level AND n.unit_code = m.unit_code
                AND coalesce(m.as_of_date, last_day(strptime(m.period || '-01', '%Y-%m-%d'))::DATE)
                    BETWEEN n.valid_from AND n.valid_to) END AS unit_from
    FROM marts.indicator_monthly m JOIN _p06_aggregation a USING (indicator_code)
    WHERE m.period BETWEEN $first AND $last
),
grouped AS (
    SELECT unit_level, unit_code, unit_from, indicator_code,
        any_value(time_aggregation) AS time_aggregation, any_value(is_ratio) AS is_ratio,
        list(DISTINCT period ORDER BY period) FILTER (WHERE complete) AS present,
        max(period) FILTER (WHERE complete) AS month_used,
        arg_max(unit_name, period) AS unit_name, arg_max(indicator_name_vi, period) AS indicator_name_vi,
        any_value(utility_group) AS utility_group, any_value(source) AS source, any_value(factor) AS factor,
        any_value(decimals) AS decimals, any_value(unit_vi) AS unit_vi,
        arg_max(as_of_date, period) FILTER (WHERE complete) AS as_of_date,
        arg_max(numerator, period) FILTER (WHERE complete) AS last_numerator,
        arg_max(denominator, period) FILTER (WHERE complete) AS last_denominator,
        arg_max(target, period) FILTER (WHERE complete) AS last_target,
        arg_max({_RANK.format(q='quality')}, period) FILTER (WHERE complete) AS last_rank,
        sum(numerator) FILTER (WHERE complete) AS sum_numerator,
        sum(denominator) FILTER (WHERE complete) AS sum_denominator,
        max({_RANK.format(q='quality')}) AS worst_rank
    FROM monthly GROUP BY unit_level, unit_code, unit_from, indicator_code
),
figures AS (
    SELECT *,
        CASE WHEN time_aggregation = 'sum' THEN sum_numerator ELSE last_numerator END AS numerator,
        CASE WHEN time_aggregation = 'sum' THEN sum_denominator ELSE last_denominator END AS denominator,
        coalesce(len(present), 0)::INTEGER AS months_present,
        CASE WHEN time_aggregation = 'sum' THEN worst_rank ELSE last_rank END AS rank
    FROM grouped
)
SELECT $label AS period, $kind AS period_kind, $first AS first_month, $last AS last_month,
       len($months)::INTEGER AS months_expected, months_present,
       nullif(array_to_string(list_filter($months, lambda x: NOT list_contains(coalesce(present, []), x)), ', '), '')
           AS missing_months,
       month_used, as_of_date, unit_level, unit_code, unit_name, indicator_code, indicator_name_vi, utility_group,
       source, time_aggregation, numerator, denominator, factor,
       CASE WHEN NOT is_ratio THEN numerator WHEN denominator <> 0 THEN numerator / denominator * factor END AS value,
       decimals, unit_vi, last_target AS target,
       CASE WHEN coalesce(rank, 0) < 3 AND months_present < len($months) THEN 'partial'
            ELSE {_UNRANK.format(r='coalesce(rank, 0)')} END AS quality
FROM figures
ORDER BY utility_group, indicator_code, unit_level <> 'province', unit_code, unit_from
"""


def _aggregation_frame() -> pl.DataFrame:
    return pl.DataFrame([{"indicator_code": i.code, "time_aggregation": i.time_aggregation, "is_ratio": i.is_ratio}
                         for i in indicators().values()])


def compute(con: duckdb.DuckDBPyConnection, label: str) -> pl.DataFrame:
    """The rows of marts.indicator_period for one period (not written); none when no month of it is published."""
    period = report_periods.parse(label)
    con.register("_p06_aggregation", _aggregation_frame().to_arrow())
    con.register("_p06_units", inputs.unit_names().to_arrow())
    try:
        params = {"label": period.label, "kind": period.kind, "first": period.first_month, "last": period.last_month,
                  "months": period.months}
        return pl.from_arrow(con.sql(_SQL, params=params).to_arrow_table()).select(COLUMNS)
    finally:
        con.unregister("_p06_aggregation")
        con.unregister("_p06_units")


def _replace(con: duckdb.DuckDBPyConnection, label: str) -> int:
    return replace_rows(con, TABLE, COLUMNS, compute(con, label), label)


def _has_monthly(con: duckdb.DuckDBPyConnection) -> bool:
    return has_table(con, "marts.indicator_monthly")


def ensure_periods(con: duckdb.DuckDBPyConnection, labels: Iterable[str]) -> dict[str, int]:
    """Rebuild the given periods (labels such as '2023-Q3'; months are skipped: they are indicator_monthly's)
    in one transaction; returns rows written per label."""
    wanted = sorted({report_periods.parse(x).label for x in labels} - {None})
    wanted = [x for x in wanted if report_periods.parse(x).kind != "month"]
    if not wanted or not _has_monthly(con):
        return {}
    from p06.publish import comments
    with transaction(con):
        con.execute(DDL)
        counts = {label: _replace(con, label) for label in wanted}
        comments.apply_comments(con)
    return counts


def publish_period_aggregates(con: duckdb.DuckDBPyConnection, months: Iterable[str]) -> dict[str, int]:
    """Rebuild the quarters, half-years, nine months and years containing the months (after publish_periods)."""
    return ensure_periods(con, {p.label for m in months for p in report_periods.containing(m)})


def read_period(con: duckdb.DuckDBPyConnection, label: str) -> list[dict]:
    """The rows of one period ([] when it has none)."""
    if not has_table(con, TABLE):
        return []
    cursor = con.execute(f"SELECT * FROM {TABLE} WHERE period = ? ORDER BY ALL", [label])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]
