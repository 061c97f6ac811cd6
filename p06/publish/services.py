"""marts.public_services_monthly: appendices II and III of the report in the report's shape.

One row per service delivered in the month's accepted dvc delivery: connection status, dossiers in total and
online, the online ratio (computed from the two counts as declared by the catalog's indicator, never the
delivered ratio column), dossiers handled on time and overdue, difficulties. Counts are the month's (flows);
a blank cell stays NULL. Quality is the worst finding of the month on the service's row.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from p06 import catalog, periods
from p06.publish import inputs
from p06.publish.indicator_catalog import CATALOG_FILE, PublicServices, load

TABLE = "marts.public_services_monthly"
DDL = """
CREATE TABLE IF NOT EXISTS marts.public_services_monthly (
    period           VARCHAR NOT NULL,
    as_of_date       DATE,
    appendix         VARCHAR,
    appendix_name_vi VARCHAR,
    service_no       INTEGER,
    service_code     VARCHAR NOT NULL,
    service_name     VARCHAR NOT NULL,
    group_label      VARCHAR,
    connected        VARCHAR,
    dossiers_total   DOUBLE,
    dossiers_online  DOUBLE,
    online_ratio     DOUBLE,
    on_time          DOUBLE,
    overdue          DOUBLE,
    difficulties     VARCHAR,
    quality          VARCHAR NOT NULL
);
"""
COLUMNS = ["period", "as_of_date", "appendix", "appendix_name_vi", "service_no", "service_code", "service_name",
           "group_label", "connected", "dossiers_total", "dossiers_online", "online_ratio", "on_time", "overdue",
           "difficulties", "quality"]


def _pivot(layout: PublicServices, source: catalog.Source) -> str:
    """One column per declared table column (text measures from value_text), then the online ratio."""
    kinds = {m.id: m.kind for m in source.measures}
    cols = []
    for column, measure in layout.columns.items():
        field = "value_text" if kinds[measure] == "text" else "value"
        cols.append(f"max({field}) FILTER (WHERE measure = '{measure}') AS {column}")

    def total(ms):  # NULL unless every measure is delivered
        listed = ", ".join(f"'{m}'" for m in ms)
        return (f"CASE WHEN count(value) FILTER (WHERE measure IN ({listed})) = {len(ms)} "
                f"THEN sum(value) FILTER (WHERE measure IN ({listed})) END")
    ratio = layout.online_ratio
    cols.append(f"{total(ratio.numerator)} / nullif({total(ratio.denominator)}, 0) * {ratio.factor} AS online_ratio")
    return ",\n       ".join(cols)


def compute(con: duckdb.DuckDBPyConnection, period: str, path: Path = CATALOG_FILE) -> pl.DataFrame:
    """The rows of marts.public_services_monthly for one period (not written)."""
    return compute_months(con, [period], path)


def compute_months(con: duckdb.DuckDBPyConnection, months: list[str], path: Path = CATALOG_FILE) -> pl.DataFrame:
    """The rows of marts.public_services_monthly for the months (not written), by period, in one query."""
    layout = load(path).public_services
    source = catalog.sources()[layout.source]
    appendices = pl.DataFrame([{"prefix": a.prefix, "appendix": a.numeral, "name_vi": a.name_vi}
                               for a in layout.appendices])
    sql = f"""
    WITH services AS (
        SELECT period, unit_code, max(as_of_date) AS as_of_date, any_value(unit_name) AS delivered_name,
               any_value(group_label) AS delivered_group,
               {_pivot(layout, source)}
        FROM (  -- one figure per service and measure: a merged province's old provinces' files added up
            SELECT period, unit_code, measure, max(as_of_date) AS as_of_date, any_value(unit_name) AS unit_name,
                   any_value(group_label) AS group_label, CASE WHEN count(value) = count(*) THEN sum(value) END AS value,
                   string_agg(DISTINCT value_text, '; ' ORDER BY value_text) AS value_text
            FROM ({inputs.ACCEPTED_OBSERVATIONS}) o
            WHERE period IN (SELECT period FROM _p06_months) AND source = $source AND unit_kind = 'service' AND NOT stated
            GROUP BY period, unit_code, measure) o
        GROUP BY period, unit_code
    ),
    quality AS (
        SELECT s.period, s.unit_code, {inputs.QUALITY} AS quality
        FROM services s LEFT JOIN ({inputs.findings_sql(con)}) f
          ON f.period = s.period AND f.source = $source AND f.unit_code = s.unit_code
        GROUP BY s.period, s.unit_code
    )
    SELECT s.period, s.as_of_date, a.appendix, a.name_vi AS appendix_name_vi,
           TRY_CAST(regexp_extract(s.unit_code, '(\\d+)$', 1) AS INTEGER) AS service_no,
           s.unit_code AS service_code, coalesce(u.name_vi, s.delivered_name) AS service_name,
           coalesce(u.group_vi, s.delivered_group) AS group_label,
           s.* EXCLUDE (period, unit_code, as_of_date, delivered_name, delivered_group), q.quality
    FROM services s
    JOIN quality q USING (period, unit_code)
    JOIN _p06_months m USING (period)
    LEFT JOIN _p06_units u ON u.unit_kind = 'service' AND u.unit_code = s.unit_code
     AND {inputs.valid_on("u", "coalesce(s.as_of_date, m.period_end)")}
    LEFT JOIN _p06_appendices a ON starts_with(s.unit_code, a.prefix)
    ORDER BY s.period, a.appendix, service_no, s.unit_code
    """
    months = sorted(set(months))
    per_month = pl.DataFrame({"period": months, "period_end": [periods.period_end(m) for m in months]},
                             schema={"period": pl.String, "period_end": pl.Date})
    frames = {"_p06_units": inputs.unit_names(), "_p06_appendices": appendices, "_p06_months": per_month}
    for name, frame in frames.items():
        con.register(name, frame.to_arrow())
    try:
        rows = pl.from_arrow(con.sql(sql, params={"source": source.id}).to_arrow_table())
    finally:
        for name in frames:
            con.unregister(name)
    return rows.select(COLUMNS)
