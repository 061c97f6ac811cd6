"""The national marts, rebuilt from the provinces' rows in use (`received.province_rows`) at every build.

- `marts.indicator_monthly`: a row per province and the nation per month and indicator. The nation's numerator and
  denominator are the sums of the provinces' (a province counts for an indicator when its numerator, and its
  denominator for a ratio, are there), the ratio recomputed × the indicator's factor (catalog/indicators.yaml),
  never a mean of ratios; `partial` naming the provinces missing of those the month expects
  (p06.national.provinces) and those whose own figure is partial.
- `marts.province_ranking`: the provinces ranked for each headline indicator (catalog/report_templates.yaml).
- `marts.national_build`: the last build.
Every table and column is commented from catalog/national_dictionary.yaml.
"""
from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl

from p06 import config
from p06.declared.base import read_yaml
from p06.national import provinces, texts
from p06.publish import comments
from p06.publish.indicator_catalog import load as indicator_catalog

DICTIONARY = config.CATALOG_DIR / "national_dictionary.yaml"     # the tables' and columns' comments
IN_USE = "marts.province_publications"


def headline() -> list[str]:
    """The headline indicators (catalog/report_templates.yaml `headline`)."""
    return list(read_yaml(config.CATALOG_DIR / "report_templates.yaml")["headline"])


def _indicator_frame() -> pl.DataFrame:
    cat = indicator_catalog()
    return pl.DataFrame([{"indicator_code": i.code, "indicator_name_vi": i.name_vi, "indicator_name_en": i.name_en,
                          "utility_group": i.group, "group_vi": cat.groups[i.group]["name_vi"], "factor": i.factor,
                          "decimals": i.decimals, "unit_vi": i.unit_vi, "is_ratio": i.is_ratio,
                          "indicator_order": n} for n, i in enumerate(cat.indicators.values())])


def _expected_frame(periods: list[str]) -> pl.DataFrame:
    rows = [{"period": p, "province_code": u.unit_code, "province_name": u.name_vi}
            for p in periods for u in provinces.expected(p)]
    return pl.DataFrame(rows, schema={"period": pl.Utf8, "province_code": pl.Utf8, "province_name": pl.Utf8})


_MONTHLY_SQL = """
CREATE OR REPLACE TABLE marts.indicator_monthly AS
WITH r AS (
    SELECT r.*, i.* EXCLUDE (indicator_code), coalesce(e.province_name, r.province_code) AS province_name,
           r.numerator IS NOT NULL AND (NOT i.is_ratio OR r.denominator IS NOT NULL) AS usable
    FROM received.province_rows r
    JOIN _national_indicators i USING (indicator_code)
    LEFT JOIN _national_expected e USING (period, province_code)
),
expected AS (SELECT period, count(*)::INTEGER AS n FROM _national_expected GROUP BY period),
province AS (
    SELECT period, as_of_date, 'province' AS unit_level, province_code AS unit_code, province_name AS unit_name,
           indicator_code AS indicator_id, indicator_code, indicator_name_vi, indicator_name_en, utility_group,
           group_vi, numerator, denominator, factor, value, decimals, unit_vi, target,
           CASE WHEN quality = 'partial' OR NOT usable THEN 'partial' ELSE 'complete' END AS quality,
           quality AS province_quality, NULL::INTEGER AS provinces_reporting, x.n AS provinces_expected,
           NULL::VARCHAR AS missing_provinces, NULL::VARCHAR AS partial_provinces, vintage, previous_value,
           indicator_order
    FROM r LEFT JOIN expected x USING (period)
),
sums AS (
    SELECT period, indicator_code, max(as_of_date) AS as_of_date,
           sum(numerator) AS numerator, CASE WHEN any_value(is_ratio) THEN sum(denominator) END AS denominator,
           CASE WHEN count(target) = count(*) THEN sum(target) END AS target,
           count(*)::INTEGER AS reporting, list(province_code ORDER BY province_code) AS codes,
           string_agg(province_name, ', ' ORDER BY province_code) FILTER (WHERE quality = 'partial') AS partial_provinces
    FROM r WHERE usable GROUP BY period, indicator_code
),
missing AS (
    SELECT s.period, s.indicator_code,
           coalesce(string_agg(e.province_name, ', ' ORDER BY e.province_code)
                    FILTER (WHERE NOT list_contains(s.codes, e.province_code)), '') AS names
    FROM sums s JOIN _national_expected e USING (period) GROUP BY s.period, s.indicator_code
),
nation AS (
    SELECT s.period, s.as_of_date, 'nation' AS unit_level, $nation_code AS unit_code, $nation_name AS unit_name,
           s.indicator_code AS indicator_id, s.indicator_code, i.indicator_name_vi, i.indicator_name_en,
           i.utility_group, i.group_vi, s.numerator, s.denominator, i.factor,
           CASE WHEN NOT i.is_ratio THEN s.numerator WHEN s.denominator <> 0 THEN s.numerator / s.denominator * i.factor
           END AS value,
           i.decimals, i.unit_vi, s.target,
           CASE WHEN m.names = '' AND s.partial_provinces IS NULL THEN 'complete' ELSE 'partial' END AS quality,
           NULL::VARCHAR AS province_quality, s.reporting AS provinces_reporting, x.n AS provinces_expected,
           m.names AS missing_provinces, coalesce(s.partial_provinces, '') AS partial_provinces,
           NULL::INTEGER AS vintage, s.codes, i.indicator_order
    FROM sums s JOIN _national_indicators i USING (indicator_code)
    JOIN missing m USING (period, indicator_code) JOIN expected x USING (period)
),
nation_previous AS (    -- last month's national value, when the same provinces reported both months
    SELECT n.*, p.value AS previous_value
    FROM nation n LEFT JOIN nation p
      ON p.indicator_code = n.indicator_code AND p.codes = n.codes
     AND p.period = strftime(CAST(n.period || '-01' AS DATE) - INTERVAL 1 MONTH, '%Y-%m')
)
SELECT * EXCLUDE (indicator_order) FROM (
    SELECT * EXCLUDE (codes) FROM nation_previous
    UNION ALL BY NAME SELECT * FROM province
)
ORDER BY period, indicator_order, unit_level <> 'nation', unit_code
"""

_RANKING_SQL = """
CREATE OR REPLACE TABLE marts.province_ranking AS
SELECT period, indicator_code AS indicator_id, indicator_code, indicator_name_vi, unit_code AS province_code,
       unit_name AS province_name, value, numerator, denominator, quality,
       rank() OVER (PARTITION BY period, indicator_code ORDER BY value {order})::INTEGER AS rank,
       count(*) OVER (PARTITION BY period, indicator_code)::INTEGER AS provinces_ranked
FROM marts.indicator_monthly
WHERE unit_level = 'province' AND value IS NOT NULL AND indicator_code IN (SELECT unnest(?::VARCHAR[]))
ORDER BY period, indicator_code, rank, province_code
"""


def build(con: duckdb.DuckDBPyConnection, files: list[str], refused: int, built_at: datetime) -> None:
    """Rebuild the marts from the rows in use (inside the caller's transaction); `files`: the copies of the call,
    `refused` of them."""
    t = texts.load()
    months = [p for (p,) in con.execute("SELECT DISTINCT period FROM received.province_rows ORDER BY 1").fetchall()]
    con.register("_national_indicators", _indicator_frame().to_arrow())
    con.register("_national_expected", _expected_frame(months).to_arrow())
    try:
        con.execute(_MONTHLY_SQL, {"nation_code": t.nation_code, "nation_name": t.nation_name})
    finally:
        con.unregister("_national_indicators")
        con.unregister("_national_expected")
    con.execute(_RANKING_SQL.format(order="DESC" if t.ranking_best == "highest" else "ASC"), [headline()])
    (held,) = con.execute(f"SELECT count(DISTINCT province_code)::INTEGER FROM {IN_USE}").fetchone()
    comments.apply_comments(con, DICTIONARY)
    con.execute("DELETE FROM marts.national_build")
    con.execute("INSERT INTO marts.national_build VALUES (?, ?, ?, ?, ?)",
                [built_at, held, ", ".join(files), len(files) - refused, refused])
