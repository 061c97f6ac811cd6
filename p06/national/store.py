"""The national warehouse (`p06_national.duckdb`): the provinces' copies received, and the marts built from them.

`receive(con, copies)` files the copies of one call, in one transaction:
- a copy whose province is not one of today's (a pre-merger code), a copy that does not say its province, and two
  copies claiming one province in the same call are refused (naming the files), nothing of them is kept;
- each month of an accepted copy is compared with the month held for its province: a newer vintage (or a month not
  held yet) replaces the province's rows of that month; the same vintage is `unchanged`; an older vintage is
  ignored with a message (the held one stays); the same vintage number published at another time is refused
  (two warehouses of one province?).
Every month of every copy received is kept in `marts.province_publications_history` with what became of it;
`marts.province_publications` is the vintage in use per province and month, `received.province_rows` its rows.

`build(con, ...)` then rebuilds `marts.indicator_monthly` (a row per province and the nation per month and
indicator: the nation's numerator and denominator are sums of the provinces', the ratio recomputed × the
indicator's factor, never a mean of ratios; `partial` naming the provinces missing of those the month expects,
p06.national.provinces), `marts.province_ranking` (headline indicators) and `marts.national_build`.
"""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

import duckdb
import polars as pl

from p06 import config
from p06.declared.base import read_yaml
from p06.lock import writer_lock
from p06.national import copies as copies_mod
from p06.national import provinces, texts
from p06.national.copies import ProvinceCopy
from p06.publish import comments
from p06.publish.atomic import durable_replace, temp_name
from p06.publish.indicator_catalog import load as indicator_catalog

DDL = """
CREATE SCHEMA IF NOT EXISTS received;
CREATE SCHEMA IF NOT EXISTS marts;
CREATE TABLE IF NOT EXISTS received.province_rows (
    province_code VARCHAR NOT NULL, period VARCHAR NOT NULL, vintage INTEGER NOT NULL, copy_sha256 VARCHAR NOT NULL,
    as_of_date DATE, indicator_code VARCHAR NOT NULL, numerator DOUBLE, denominator DOUBLE, target DOUBLE,
    value DOUBLE, previous_value DOUBLE, quality VARCHAR, units_reporting INTEGER, units_expected INTEGER
);
CREATE TABLE IF NOT EXISTS marts.province_publications (
    province_code VARCHAR NOT NULL, province_name VARCHAR NOT NULL, period VARCHAR NOT NULL,
    vintage INTEGER NOT NULL, published_at TIMESTAMP NOT NULL, copy_sha256 VARCHAR NOT NULL,
    copy_file VARCHAR NOT NULL, received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (province_code, period)
);
CREATE TABLE IF NOT EXISTS marts.province_publications_history (
    province_code VARCHAR, province_name VARCHAR, period VARCHAR, vintage INTEGER, published_at TIMESTAMP,
    copy_sha256 VARCHAR NOT NULL, copy_file VARCHAR NOT NULL, received_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,     -- in_use | replaced | unchanged | older_ignored | refused
    message VARCHAR
);
CREATE TABLE IF NOT EXISTS marts.national_build (
    built_at TIMESTAMP NOT NULL, provinces INTEGER NOT NULL, copies VARCHAR NOT NULL,
    accepted INTEGER NOT NULL, refused INTEGER NOT NULL
);
"""
FILE = "p06_national.duckdb"
DICTIONARY = config.CATALOG_DIR / "national_dictionary.yaml"     # the tables' and columns' comments
HISTORY = "marts.province_publications_history"
IN_USE = "marts.province_publications"


@dataclass
class Outcome:
    """What became of one copy of the call."""
    path: Path
    province_code: str | None = None
    sha256: str | None = None
    refused: str | None = None                                   # why the whole copy was refused
    months: dict[str, str] = field(default_factory=dict)         # period -> in_use | unchanged | older_ignored | refused
    messages: list[str] = field(default_factory=list)


def connect(out_dir: Path) -> duckdb.DuckDBPyConnection:
    """The national warehouse `out_dir/p06_national.duckdb` itself, read-write, created on first use."""
    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(out_dir / FILE))
    con.execute(DDL)
    return con


@contextmanager
def updating(out_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the next version of the national warehouse: under the folder's writer lock
    (p06.lock, one build at a time), the current file is copied aside, updated, closed and renamed over it
    (p06.publish.atomic), so that readers (the dashboard) never wait and never see half a build; on an error the
    current file stays as it was."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with writer_lock(out_dir):
        dest = out_dir / FILE
        tmp = temp_name(dest)
        tmp.unlink(missing_ok=True)
        if dest.exists():
            shutil.copyfile(dest, tmp)
        try:
            con = duckdb.connect(str(tmp))
            try:
                con.execute(DDL)
                yield con
                con.execute("CHECKPOINT")
            finally:
                con.close()
            durable_replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
            tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)


def _refuse_duplicates(read: list[tuple[Outcome, ProvinceCopy]]) -> None:
    by_province: dict[str, list[tuple[Outcome, ProvinceCopy]]] = {}
    for outcome, copy in read:
        by_province.setdefault(copy.province_code, []).append((outcome, copy))
    for code, claims in by_province.items():
        if len(claims) > 1:
            files = " and ".join(str(o.path) for o, _ in claims)
            for outcome, _ in claims:
                outcome.refused = (f"{outcome.path}: {len(claims)} copies claim {provinces.name(code)} ({code}) in "
                                   f"one call: {files}; send one copy per province")


def _record(con, copy: ProvinceCopy, outcome: Outcome, period: str, status: str, message: str | None,
            received_at: datetime) -> None:
    vintage, published_at = copy.months.get(period, (None, None))
    con.execute(f"INSERT INTO {HISTORY} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [copy.province_code, provinces.name(copy.province_code) if copy.province_code else None, period,
                 vintage, published_at, copy.sha256, str(copy.path), received_at, status, message])
    outcome.months[period] = status
    if message:
        outcome.messages.append(message)


def _file_month(con, copy: ProvinceCopy, outcome: Outcome, period: str, received_at: datetime) -> None:
    code, (vintage, published_at) = copy.province_code, copy.months[period]
    held = con.execute(f"SELECT vintage, published_at, copy_file FROM {IN_USE} WHERE province_code = ? AND period = ?",
                       [code, period]).fetchone()
    name = provinces.name(code)
    if held is not None and vintage < held[0]:
        _record(con, copy, outcome, period, "older_ignored",
                f"{copy.path}: {name} {period}: vintage {vintage} is older than vintage {held[0]} held "
                f"(from {held[2]}); ignored, vintage {held[0]} stays in use", received_at)
        return
    if held is not None and vintage == held[0]:
        if published_at == held[1]:
            _record(con, copy, outcome, period, "unchanged", None, received_at)
        else:
            _record(con, copy, outcome, period, "refused",
                    f"{copy.path}: {name} {period}: vintage {vintage} published {published_at:%d/%m/%Y %H:%M}, but "
                    f"the vintage {vintage} held (from {held[2]}) was published {held[1]:%d/%m/%Y %H:%M}: two "
                    "warehouses of one province? refused, the held one stays in use", received_at)
        return
    con.execute("DELETE FROM received.province_rows WHERE province_code = ? AND period = ?", [code, period])
    rows = copy.rows.filter(pl.col("period") == period).with_columns(
        pl.lit(code).alias("province_code"), pl.lit(vintage).cast(pl.Int32).alias("vintage"),
        pl.lit(copy.sha256).alias("copy_sha256"))
    con.register("_national_rows", rows.to_arrow())
    try:
        con.execute("INSERT INTO received.province_rows BY NAME SELECT * FROM _national_rows")
    finally:
        con.unregister("_national_rows")
    con.execute(f"UPDATE {HISTORY} SET status = 'replaced' WHERE province_code = ? AND period = ? AND status = 'in_use'",
                [code, period])
    con.execute(f"INSERT OR REPLACE INTO {IN_USE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [code, name, period, vintage, published_at, copy.sha256, str(copy.path), received_at])
    message = (f"{copy.path}: {name} {period}: vintage {vintage} replaces vintage {held[0]}" if held is not None else None)
    _record(con, copy, outcome, period, "in_use", message, received_at)


def receive(con: duckdb.DuckDBPyConnection, paths: list[Path], received_at: datetime | None = None) -> list[Outcome]:
    """File the copies of one call (see the module's docstring); returns what became of each."""
    received_at = received_at or datetime.now()
    outcomes, read = [], []
    for path in paths:
        outcome = Outcome(path=Path(path))
        outcomes.append(outcome)
        try:
            copy = copies_mod.read(Path(path))
            outcome.province_code, outcome.sha256 = copy.province_code, copy.sha256
            provinces.check(copy.province_code, str(path))
        except (copies_mod.UnreadableCopy, provinces.RefusedProvince) as exc:
            outcome.refused = str(exc)
            continue
        read.append((outcome, copy))
    _refuse_duplicates(read)
    catalog_codes = set(indicator_catalog().indicators)
    con.execute("BEGIN TRANSACTION")
    try:
        for outcome in outcomes:
            if outcome.refused and outcome.sha256:
                con.execute(f"INSERT INTO {HISTORY} VALUES (?, ?, NULL, NULL, NULL, ?, ?, ?, 'refused', ?)",
                            [outcome.province_code, provinces.name(outcome.province_code) if outcome.province_code
                             else None, outcome.sha256, str(outcome.path), received_at, outcome.refused])
        for outcome, copy in read:
            if outcome.refused:
                continue
            unknown = sorted(set(copy.rows["indicator_code"].to_list()) - catalog_codes)
            if unknown:
                outcome.messages.append(f"{copy.path}: indicators not in catalog/indicators.yaml left aside: "
                                        f"{', '.join(unknown)}")
                copy = ProvinceCopy(copy.path, copy.sha256, copy.province_code, copy.months,
                                    copy.rows.filter(pl.col("indicator_code").is_in(sorted(catalog_codes))))
            for period in sorted(copy.months):
                _file_month(con, copy, outcome, period, received_at)
        build(con, [o for o in outcomes], received_at)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return outcomes


# ------------------------------------------------------------------ the marts

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


def build(con: duckdb.DuckDBPyConnection, outcomes: list[Outcome], built_at: datetime) -> None:
    """Rebuild the marts from the rows in use (inside the caller's transaction)."""
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
                [built_at, held, ", ".join(str(o.path) for o in outcomes),
                 sum(1 for o in outcomes if not o.refused), sum(1 for o in outcomes if o.refused)])
