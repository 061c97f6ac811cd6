"""marts.indicator_monthly: the indicators of catalog/indicators.yaml, by period and unit.

Published numbers come from unit rows: a unit's figure is its own delivered row, the province figure is the
sum over units of numerator and denominator (a ratio of sums). A delivery's total row is used only when the
delivery has no unit rows at all (a province-level-only delivery); the row then says basis = 'total_row'.
Stated ratios are never used. previous_value is the previous calendar month's figure for the same unit,
computed the same way: the same level and code naming the same unit of the reference (p06.reference) in both
months, so a unit that did not exist the month before (a commune in 2025-07, whose code an older commune
may have carried) has none; the province series continues across changes of units. A month without an
accepted delivery has no figure, nothing stands in for it.
A monthly row is the month's figure whatever the indicator's time_aggregation (last for stocks, sum for
flows): that declaration says how months add up into longer periods. Unit names are the reference names
valid on the as-of date.

A province row sums only the units whose numerator, denominator and target are all delivered (never a
numerator of some units over a denominator or target of others); `units_reporting` of `units_expected` did, and a row with fewer is
marked `partial` (unless an error finding makes it `error`).

Quality: the worst severity of the month's reconciliation findings for the figures involved. A finding
counts for an indicator when the measures it bears on (p06.publish.inputs.findings_sql) meet the indicator's
(numerator, denominator, target, `related`, and the stated ratio columns of those); a finding naming no
measure counts for all. A unit row takes findings on that unit; a province row takes findings on the
province total row and on any unit row, because the province figure is built from all of them (and a stated
total that disagrees with its units casts doubt on the units).
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from p06 import catalog, periods, reference
from p06.publish import inputs
from p06.publish.indicator_catalog import CATALOG_FILE, Indicator, indicators

TABLE = "marts.indicator_monthly"
DDL = """
CREATE TABLE IF NOT EXISTS marts.indicator_monthly (
    period            VARCHAR NOT NULL,
    as_of_date        DATE,
    unit_level        VARCHAR NOT NULL,
    unit_code         VARCHAR NOT NULL,
    unit_name         VARCHAR NOT NULL,
    indicator_code    VARCHAR NOT NULL,
    indicator_name_vi VARCHAR NOT NULL,
    indicator_name_en VARCHAR NOT NULL,
    utility_group     INTEGER NOT NULL,
    source            VARCHAR NOT NULL,
    numerator         DOUBLE,
    denominator       DOUBLE,
    factor            DOUBLE NOT NULL,
    value             DOUBLE,
    decimals          INTEGER NOT NULL,
    unit_vi           VARCHAR NOT NULL,
    target            DOUBLE,
    previous_value    DOUBLE,
    change            DOUBLE,
    basis             VARCHAR NOT NULL,
    units_reporting   INTEGER,
    units_expected    INTEGER,
    quality           VARCHAR NOT NULL,
    comparison_note   VARCHAR
);
ALTER TABLE marts.indicator_monthly ADD COLUMN IF NOT EXISTS comparison_note VARCHAR;
"""
COLUMNS = ["period", "as_of_date", "unit_level", "unit_code", "unit_name", "indicator_code", "indicator_name_vi",
           "indicator_name_en", "utility_group", "source", "numerator", "denominator", "factor", "value",
           "decimals", "unit_vi", "target", "previous_value", "change", "basis", "units_reporting", "units_expected",
           "quality", "comparison_note"]


def _frames(inds: dict[str, Indicator]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The catalog as two frames: one row per (indicator, role, measure); one row per indicator."""
    sources = catalog.sources()
    parts = [
        {"indicator_code": i.code, "source": i.source, "role": role, "measure": m}
        for i in inds.values()
        for role, ms in (("numerator", i.numerator), ("denominator", i.denominator), ("target", (i.target,) if i.target else ()))
        for m in ms
    ]
    info = [{
        "indicator_code": i.code, "indicator_name_vi": i.name_vi, "indicator_name_en": i.name_en,
        "utility_group": i.group, "source": i.source, "factor": i.factor, "decimals": i.decimals, "unit_vi": i.unit_vi,
        "is_ratio": i.is_ratio, "has_target": i.target is not None, "n_num": len(i.numerator), "n_den": len(i.denominator),
        "levels": list(i.levels), "involved": list(i.involved_measures(sources[i.source])),
    } for i in inds.values()]
    return pl.DataFrame(parts), pl.DataFrame(info)


# Figures per (period, source, unit) and indicator; `obs` is accepted observations of both periods.
_FIGURES_SQL = """
WITH obs AS (
    SELECT * FROM ({accepted}) o WHERE period IN (SELECT unnest($periods))
),
unit_obs  AS (SELECT * FROM obs WHERE NOT stated AND unit_kind <> 'province'),
total_obs AS (SELECT * FROM obs t WHERE stated AND unit_kind = 'province'
              AND NOT EXISTS (SELECT 1 FROM unit_obs u WHERE u.period = t.period AND u.source = t.source)),
expected_units AS (      -- reference units of the delivered kind valid at the month's end, or those listed
    SELECT r.period, r.source, greatest(count(DISTINCT n.unit_code), any_value(r.listed))::INTEGER AS n
    FROM (SELECT period, source, any_value(unit_kind) AS unit_kind, count(DISTINCT unit_code) AS listed
          FROM unit_obs GROUP BY period, source) r
    LEFT JOIN _p06_units n ON n.unit_kind = r.unit_kind
     AND last_day(strptime(r.period || '-01', '%Y-%m-%d'))::DATE BETWEEN n.valid_from AND n.valid_to
    GROUP BY r.period, r.source
),
rows_of AS (
    SELECT DISTINCT period, source, unit_kind, unit_code, old_province, 'unit_row' AS basis FROM unit_obs
    UNION ALL
    SELECT DISTINCT period, source, unit_kind, unit_code, old_province, 'total_row' FROM total_obs
),
parts_valued AS (
    SELECT r.period, r.source, r.unit_kind, r.unit_code, r.old_province, r.basis, p.indicator_code, p.role, o.value
    FROM rows_of r
    JOIN _p06_parts p ON p.source = r.source
    LEFT JOIN (SELECT * FROM unit_obs UNION ALL SELECT * FROM total_obs) o
      ON o.period = r.period AND o.source = r.source AND o.unit_kind = r.unit_kind
     AND o.unit_code = r.unit_code AND o.old_province IS NOT DISTINCT FROM r.old_province AND o.measure = p.measure
),
row_figures AS (         -- a row's figures: one unit (or total row) of one file (of one old province's file)
    SELECT v.period, v.source, v.unit_kind, v.unit_code, v.old_province, v.basis, v.indicator_code, i.is_ratio,
        i.has_target,
        CASE WHEN count(v.value) FILTER (WHERE v.role = 'numerator') = any_value(i.n_num)
             THEN sum(v.value) FILTER (WHERE v.role = 'numerator') END AS numerator,
        CASE WHEN i.is_ratio AND count(v.value) FILTER (WHERE v.role = 'denominator') = any_value(i.n_den)
             THEN sum(v.value) FILTER (WHERE v.role = 'denominator') END AS denominator,
        max(v.value) FILTER (WHERE v.role = 'target') AS target
    FROM parts_valued v JOIN _p06_info i USING (indicator_code)
    GROUP BY v.period, v.source, v.unit_kind, v.unit_code, v.old_province, v.basis, v.indicator_code, i.is_ratio,
             i.has_target
),
complete_rows AS (
    SELECT *, numerator IS NOT NULL AND (NOT is_ratio OR denominator IS NOT NULL)
              AND (NOT has_target OR target IS NOT NULL) AS complete
    FROM row_figures
),
unit_figures AS (        -- a unit listed by several old provinces' files (a public service) sums them
    SELECT period, source, unit_kind AS unit_level, unit_code, indicator_code,
           CASE WHEN count(numerator) = count(*) THEN sum(numerator) END AS numerator,
           CASE WHEN count(denominator) = count(*) THEN sum(denominator) END AS denominator,
           CASE WHEN count(target) = count(*) THEN sum(target) END AS target,
           'unit_row' AS basis, NULL::INTEGER AS units_reporting, NULL::INTEGER AS units_expected
    FROM row_figures WHERE basis = 'unit_row'
    GROUP BY period, source, unit_kind, unit_code, indicator_code
),
old_expected AS (        -- a merged province's month before the merger: units each old province's file lists
    SELECT r.period, r.source, x.old_province, greatest(x.n, coalesce(l.listed, 0))::INTEGER AS n
    FROM (SELECT period, source, any_value(unit_kind) AS unit_kind FROM unit_obs GROUP BY period, source) r
    JOIN _p06_old_expected x ON x.period = r.period AND x.unit_kind = r.unit_kind
    LEFT JOIN (SELECT period, source, old_province, count(DISTINCT unit_code) AS listed FROM unit_obs GROUP BY ALL) l
      ON l.period = r.period AND l.source = r.source AND l.old_province = x.old_province
),
province_from_units AS ( -- every old province's expected units count, so a missing file makes it partial
    SELECT u.period, u.source, 'province' AS unit_level, $province AS unit_code, indicator_code,
        sum(numerator) FILTER (WHERE complete) AS numerator,
        CASE WHEN any_value(is_ratio) THEN sum(denominator) FILTER (WHERE complete) END AS denominator,
        sum(target) FILTER (WHERE complete) AS target, 'units' AS basis,
        count(*) FILTER (WHERE complete)::INTEGER AS units_reporting,
        coalesce(any_value(o.n), any_value(e.n))::INTEGER AS units_expected
    FROM (SELECT * FROM complete_rows WHERE basis = 'unit_row') u
    LEFT JOIN expected_units e USING (period, source)
    LEFT JOIN (SELECT period, source, sum(n) AS n FROM old_expected GROUP BY ALL) o USING (period, source)
    GROUP BY u.period, u.source, indicator_code
),
old_province_figures AS (
    SELECT u.period, u.source, 'old_province' AS unit_level, u.old_province AS unit_code, indicator_code,
        sum(numerator) FILTER (WHERE complete) AS numerator,
        CASE WHEN any_value(is_ratio) THEN sum(denominator) FILTER (WHERE complete) END AS denominator,
        sum(target) FILTER (WHERE complete) AS target, 'units' AS basis,
        count(*) FILTER (WHERE complete)::INTEGER AS units_reporting, any_value(o.n)::INTEGER AS units_expected
    FROM (SELECT * FROM complete_rows WHERE basis = 'unit_row' AND old_province IS NOT NULL) u
    LEFT JOIN old_expected o USING (period, source, old_province)
    GROUP BY u.period, u.source, u.old_province, indicator_code
),
province_from_total AS (
    SELECT period, source, 'province' AS unit_level, $province AS unit_code, indicator_code,
           CASE WHEN count(numerator) = count(*) THEN sum(numerator) END AS numerator,
           CASE WHEN count(denominator) = count(*) THEN sum(denominator) END AS denominator,
           CASE WHEN count(target) = count(*) THEN sum(target) END AS target, 'total_row' AS basis,
           NULL::INTEGER AS units_reporting, NULL::INTEGER AS units_expected
    FROM row_figures WHERE basis = 'total_row'
    GROUP BY period, source, indicator_code
)
SELECT f.*, (SELECT max(as_of_date) FROM obs WHERE obs.period = f.period AND obs.source = f.source) AS as_of_date
FROM (SELECT * FROM unit_figures UNION ALL SELECT * FROM province_from_units
      UNION ALL SELECT * FROM old_province_figures UNION ALL SELECT * FROM province_from_total) f
"""

_PUBLISH_SQL = """
WITH figures AS (
    SELECT f.*, i.indicator_name_vi, i.indicator_name_en, i.utility_group, i.factor, i.decimals, i.unit_vi, i.involved,
        CASE WHEN NOT i.is_ratio THEN f.numerator
             WHEN f.denominator <> 0 THEN f.numerator / f.denominator * i.factor END AS value
    FROM _p06_figures f JOIN _p06_info i USING (indicator_code)
    WHERE list_contains(i.levels, f.unit_level) OR (f.unit_level = 'old_province' AND list_contains(i.levels, 'province'))
),
current AS (SELECT f.*, m.previous, m.province_name, m.period_end, m.previous_end, m.note, m.note_partial
            FROM figures f JOIN _p06_months m USING (period)),
quality AS (
    SELECT c.period, c.indicator_code, c.unit_level, c.unit_code, {quality} AS quality
    FROM current c
    LEFT JOIN ({findings}) f
      ON f.period = c.period AND f.source = c.source
     AND (c.unit_level = 'province' OR f.unit_code = c.unit_code)
     AND (f.measures IS NULL OR list_has_any(f.measures, c.involved))
    GROUP BY c.period, c.indicator_code, c.unit_level, c.unit_code
)
SELECT c.period, c.as_of_date, c.unit_level, c.unit_code,
       coalesce(n.name_vi, CASE WHEN c.unit_level = 'province' THEN c.province_name END, d.unit_name, c.unit_code) AS unit_name,
       c.indicator_code, c.indicator_name_vi, c.indicator_name_en, c.utility_group, c.source,
       c.numerator, c.denominator, c.factor, c.value, c.decimals, c.unit_vi, c.target,
       p.value AS previous_value, c.value - p.value AS change,
       c.basis, c.units_reporting, c.units_expected,
       CASE WHEN q.quality <> 'error' AND c.units_reporting < c.units_expected THEN 'partial' ELSE q.quality END AS quality,
       CASE WHEN c.unit_level NOT IN ('district', 'commune') AND p.value IS NOT NULL THEN c.note
            || CASE WHEN p.units_reporting < p.units_expected THEN c.note_partial ELSE '' END END AS comparison_note
FROM current c
JOIN quality q USING (period, indicator_code, unit_level, unit_code)
LEFT JOIN _p06_units n ON n.unit_kind = c.unit_level AND n.unit_code = c.unit_code
 AND {valid}
LEFT JOIN _p06_units pn ON pn.unit_kind = c.unit_level AND pn.unit_code = c.unit_code
 AND {previous_valid}
LEFT JOIN figures p
  ON p.period = c.previous AND p.indicator_code = c.indicator_code
 AND p.unit_level = c.unit_level AND p.unit_code = c.unit_code
 AND (c.unit_level = 'province' OR n.valid_from = pn.valid_from OR (n.unit_code IS NULL AND pn.unit_code IS NULL))
LEFT JOIN (SELECT period, source, unit_code, any_value(unit_name) AS unit_name
           FROM staging.observations WHERE period IN (SELECT period FROM _p06_months) GROUP BY ALL) d
  ON d.period = c.period AND d.source = c.source AND d.unit_code = c.unit_code
ORDER BY c.period, c.utility_group, c.indicator_code, c.unit_level <> 'province', c.unit_code
"""


def compute(con: duckdb.DuckDBPyConnection, period: str, path: Path = CATALOG_FILE) -> pl.DataFrame:
    """The rows of marts.indicator_monthly for one period (not written)."""
    return compute_months(con, [period], path)


def compute_months(con: duckdb.DuckDBPyConnection, months: list[str], path: Path = CATALOG_FILE) -> pl.DataFrame:
    """The rows of marts.indicator_monthly for the months (not written), by period: each month with the month
    before it, in two queries for all of them."""
    months = sorted(set(months))
    previous = {m: periods.previous_period(m) for m in months}
    read = sorted(set(months) | set(previous.values()))
    inputs.check_unique_figures(con, read)
    parts, info = _frames(indicators(path))
    per_month = pl.DataFrame([{"period": m, "previous": previous[m],
                               "province_name": reference.province_name(on=periods.period_end(m)),
                               "period_end": periods.period_end(m), "previous_end": periods.period_end(previous[m]),
                               **dict(zip(("note", "note_partial"), inputs.comparison_note(m, previous[m]).values()))}
                              for m in months],
                             schema={"period": pl.String, "previous": pl.String, "province_name": pl.String,
                                     "period_end": pl.Date, "previous_end": pl.Date, "note": pl.String,
                                     "note_partial": pl.String})
    frames = {"_p06_parts": parts, "_p06_info": info, "_p06_units": inputs.unit_names(),
              "_p06_old_expected": inputs.old_province_units(read), "_p06_months": per_month}
    for name, frame in frames.items():
        con.register(name, frame.to_arrow())
    try:
        figures = con.sql(_FIGURES_SQL.format(accepted=inputs.ACCEPTED_OBSERVATIONS),
                          params={"periods": read, "province": reference.province_code()}).to_arrow_table()
        con.register("_p06_figures", figures)
        sql = _PUBLISH_SQL.format(quality=inputs.QUALITY, findings=inputs.findings_sql(con),
                                  valid=inputs.valid_on("n", "coalesce(c.as_of_date, c.period_end)"),
                                  previous_valid=inputs.valid_on("pn", "c.previous_end"))
        result = pl.from_arrow(con.sql(sql).to_arrow_table())
    finally:
        for name in [*frames, "_p06_figures"]:
            con.unregister(name)
    return result.select(COLUMNS)
