"""Vintages: every publication of a month that changed what it says, kept and explained.

`record` runs inside `p06.publish.marts.publish_periods`' transaction, after the month's tables are rebuilt:
- when the month's published rows (`p06.publish.state.content_sha`) equal those of its latest vintage,
  nothing is written (a re-run without changes is no new vintage);
- otherwise a new vintage: a row of `marts.publications` (number 1, 2, ... per month, time, the content
  digest, the declarations' and the code's digests, and the sha256 of every delivery in use for the month
  and for the months its history rules compare with), a copy of the month's `marts.indicator_monthly`
  rows in `marts.indicator_history`, and one `marts.errata` row per indicator figure that differs from
  the previous vintage's, naming the delivery that caused it (the delivery of that source-month that the
  previous vintage did not use) or, when the deliveries are the same, the declarations or the code.

"As published on date D" is the latest vintage of each month with `published_at <= D` (docs/analysts.md).
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from functools import cache
from pathlib import Path

import duckdb

from p06 import config, landing
from p06.declared.base import Declared, shown, validate_file
from p06.publish import state

PUBLICATIONS = "marts.publications"
HISTORY = "marts.indicator_history"
ERRATA = "marts.errata"
SOURCE_TABLE = "marts.indicator_monthly"
TEXTS_FILE = config.CATALOG_DIR / "publication_texts.yaml"
TOLERANCE = 1e-9                     # relative: a figure recomputed the same way is the same figure

DDL = f"""
CREATE SCHEMA IF NOT EXISTS marts;
CREATE TABLE IF NOT EXISTS {PUBLICATIONS} (
    period            VARCHAR NOT NULL,
    vintage           INTEGER NOT NULL,      -- 1, 2, ... per month
    published_at      TIMESTAMP NOT NULL,
    previous_vintage  INTEGER,
    content_sha       VARCHAR NOT NULL,      -- p06.publish.state.content_sha of the month's published rows
    catalog_sha       VARCHAR NOT NULL,      -- catalog/ and checks/rules.yaml
    code_sha          VARCHAR NOT NULL,      -- the Python code (p06, assets, pipelines, checks)
    reader_version    VARCHAR NOT NULL,
    deliveries        STRUCT(period VARCHAR, source VARCHAR, file VARCHAR, sha256 VARCHAR, delivery_id BIGINT)[],
    indicator_rows    INTEGER NOT NULL,
    errata            INTEGER NOT NULL,
    checked           BOOLEAN NOT NULL DEFAULT false,   -- its publication passed the checks (checks/publication.yaml)
    PRIMARY KEY (period, vintage)
);
CREATE TABLE IF NOT EXISTS {ERRATA} (
    period            VARCHAR NOT NULL,
    vintage           INTEGER NOT NULL,
    previous_vintage  INTEGER NOT NULL,
    published_at      TIMESTAMP NOT NULL,
    unit_level        VARCHAR NOT NULL,
    unit_code         VARCHAR NOT NULL,
    unit_name         VARCHAR,
    indicator_code    VARCHAR NOT NULL,
    indicator_name_vi VARCHAR,
    source            VARCHAR,
    old_value         DOUBLE,                -- NULL: the previous vintage had no figure
    new_value         DOUBLE,                -- NULL: this vintage has none
    cause             VARCHAR NOT NULL,      -- delivery | delivery_withdrawn | declarations | code | declarations_and_code | unexplained
    file              VARCHAR,               -- the delivery that caused it (cause = delivery)
    sha256            VARCHAR
);
"""
CAUSES = ("delivery", "delivery_withdrawn", "declarations", "code", "declarations_and_code", "unexplained")


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(f"{p.relative_to(config.REPO_DIR).as_posix()}:".encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def release_parts() -> dict[str, str]:
    """The declarations' and the code's digests, apart (their union is `p06.landing.release_sha`)."""
    declarations = [p for p in sorted(config.CATALOG_DIR.rglob("*")) if p.is_file()] + [config.CHECKS_DIR / "rules.yaml"]
    code = [p for d in landing.CODE_DIRS for p in sorted((config.REPO_DIR / d).rglob("*.py"))]
    return {"catalog_sha": _digest(declarations), "code_sha": _digest(code)}


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    schema, name = table.split(".")
    return dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
                            "ORDER BY column_index", [schema, name]).fetchall())


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables; the history takes every column of marts.indicator_monthly (added when a release adds one)."""
    con.execute(DDL)
    if not _columns(con, HISTORY):
        con.execute(f"CREATE TABLE {HISTORY} AS SELECT period, CAST(NULL AS INTEGER) AS vintage, * EXCLUDE (period) "
                    f"FROM {SOURCE_TABLE} LIMIT 0")
    have = _columns(con, HISTORY)
    for column, kind in _columns(con, SOURCE_TABLE).items():
        if column not in have:
            con.execute(f'ALTER TABLE {HISTORY} ADD COLUMN "{column}" {kind}')


def _latest(con: duckdb.DuckDBPyConnection, period: str) -> tuple | None:
    return con.execute(f"SELECT vintage, content_sha, catalog_sha, code_sha FROM {PUBLICATIONS} WHERE period = ? "
                       "ORDER BY vintage DESC LIMIT 1", [period]).fetchone()


# The deliveries in use (status loaded) of a month and of the months before it that its rules compare with.
DELIVERIES_SQL = ("SELECT list(struct_pack(period := period, source := source, file := path, sha256 := sha256, "
                  "delivery_id := delivery_id) ORDER BY period, source, path) FROM raw.deliveries "
                  "WHERE status = 'loaded' AND period BETWEEN $first AND $period")


def _month_files(con: duckdb.DuckDBPyConnection, period: str, vintage: int) -> dict[str, set[tuple[str, str]]]:
    """source -> {(file, sha256)} of the month's own deliveries in a vintage."""
    rows = con.execute(f"SELECT d.source, d.file, d.sha256 FROM (SELECT unnest(deliveries) AS d FROM {PUBLICATIONS} "
                       "WHERE period = ? AND vintage = ?) WHERE d.period = ?", [period, vintage, period]).fetchall()
    out: dict[str, set[tuple[str, str]]] = {}
    for source, file, sha in rows:
        out.setdefault(source, set()).add((file, sha))
    return out


def _cause(source: str, new: dict, old: dict, release_changed: tuple[bool, bool]) -> tuple[str, str | None, str | None]:
    """(cause, file, sha256) of a changed figure of `source`."""
    added = sorted(new.get(source, set()) - old.get(source, set()))
    if added:
        return "delivery", *added[0]
    if old.get(source) and not new.get(source):
        return "delivery_withdrawn", None, None
    declarations, code = release_changed
    if declarations or code:
        return ("declarations_and_code" if declarations and code else "declarations" if declarations else "code"), None, None
    return "unexplained", None, None


def _write_errata(con: duckdb.DuckDBPyConnection, period: str, vintage: int, previous: tuple, parts: dict,
                  published_at: datetime) -> int:
    """One marts.errata row per indicator figure of the month that differs from the previous vintage's."""
    new_files, old_files = _month_files(con, period, vintage), _month_files(con, period, previous[0])
    release_changed = (parts["catalog_sha"] != previous[2], parts["code_sha"] != previous[3])
    sources = [s for (s,) in con.execute(f"SELECT DISTINCT source FROM {HISTORY} WHERE period = ? AND vintage IN (?, ?)",
                                         [period, vintage, previous[0]]).fetchall()]
    con.execute("CREATE OR REPLACE TEMP TABLE _errata_causes (source VARCHAR, cause VARCHAR, file VARCHAR, sha256 VARCHAR)")
    try:
        if sources:
            con.executemany("INSERT INTO _errata_causes VALUES (?, ?, ?, ?)",
                            [[s, *_cause(s, new_files, old_files, release_changed)] for s in sources])
        (count,), = con.execute(f"""
            INSERT INTO {ERRATA}
            WITH n AS (SELECT * FROM {HISTORY} WHERE period = $period AND vintage = $new),
                 o AS (SELECT * FROM {HISTORY} WHERE period = $period AND vintage = $old)
            SELECT $period, $new, $old, $at, coalesce(n.unit_level, o.unit_level), coalesce(n.unit_code, o.unit_code),
                   coalesce(n.unit_name, o.unit_name), coalesce(n.indicator_code, o.indicator_code),
                   coalesce(n.indicator_name_vi, o.indicator_name_vi), coalesce(n.source, o.source), o.value, n.value,
                   coalesce(c.cause, 'unexplained'), c.file, c.sha256
            FROM n FULL JOIN o ON n.unit_level = o.unit_level AND n.unit_code = o.unit_code
                              AND n.indicator_code = o.indicator_code
            LEFT JOIN _errata_causes c ON c.source = coalesce(n.source, o.source)
            WHERE (n.value IS NULL) <> (o.value IS NULL)
               OR abs(n.value - o.value) > {TOLERANCE} * greatest(1, abs(o.value))""",
                                {"period": period, "new": vintage, "old": previous[0], "at": published_at}).fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS _errata_causes")
    return count


def record(con: duckdb.DuckDBPyConnection, periods: list[str], published_at: datetime | None = None) -> dict[str, int]:
    """Record a new vintage of each month whose published rows changed since its latest vintage (call inside the
    publishing transaction, after the month's tables are rebuilt); returns {period: new vintage number}."""
    ensure(con)
    published_at = published_at or datetime.now()
    parts = release_parts()
    window = landing.history_window()
    recorded = {}
    for period in sorted(periods):
        digest = state.content_sha(con, period)
        previous = _latest(con, period)
        if previous is not None and previous[1] == digest:
            continue
        (rows,) = con.execute(f"SELECT count(*) FROM {SOURCE_TABLE} WHERE period = ?", [period]).fetchone()
        if previous is None and rows == 0:
            continue                                  # nothing was ever published for the month
        vintage = previous[0] + 1 if previous else 1
        (deliveries,) = con.execute(DELIVERIES_SQL,
                                    {"first": landing.month_before(period, window), "period": period}).fetchone()
        con.execute(f"INSERT INTO {HISTORY} BY NAME SELECT ? AS vintage, * FROM {SOURCE_TABLE} WHERE period = ?",
                    [vintage, period])
        con.execute(f"INSERT INTO {PUBLICATIONS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, false)",
                    [period, vintage, published_at, previous[0] if previous else None, digest, parts["catalog_sha"],
                     parts["code_sha"], landing.READER_VERSION, deliveries, rows])
        if previous is not None:
            errata = _write_errata(con, period, vintage, previous, parts, published_at)
            con.execute(f"UPDATE {PUBLICATIONS} SET errata = ? WHERE period = ? AND vintage = ?", [errata, period, vintage])
        recorded[period] = vintage
    return recorded


# ------------------------------------------------------------------ what the workbook and the draft say

def current(con: duckdb.DuckDBPyConnection, period: str) -> dict | None:
    """The month's latest vintage: {vintage, published_at, previous_vintage, errata}, or None."""
    if not _columns(con, PUBLICATIONS):
        return None
    row = con.execute(f"SELECT vintage, published_at, previous_vintage, errata FROM {PUBLICATIONS} WHERE period = ? "
                      "ORDER BY vintage DESC LIMIT 1", [period]).fetchone()
    return dict(zip(("vintage", "published_at", "previous_vintage", "errata"), row)) if row else None


def summary_line(con: duckdb.DuckDBPyConnection, period: str) -> str | None:
    """For `p06 run`'s summary: '  published: vintage 2 of 30/11/2026 09:07 (2 figures corrected, marts.errata)'."""
    info = current(con, period)
    if info is None:
        return None
    from p06.messages import say
    corrected = say("vintage_corrected", errata=info["errata"], previous=info["previous_vintage"]) \
        if info["previous_vintage"] else say("vintage_first")
    return say("vintage_line", vintage=info["vintage"], date=f"{info['published_at']:%d/%m/%Y %H:%M}", corrected=corrected)


def errata_rows(con: duckdb.DuckDBPyConnection, period: str, vintage: int) -> list[dict]:
    """The errata of a vintage (what changed since the previous one), province first, by indicator and unit."""
    cursor = con.execute(f"SELECT * FROM {ERRATA} WHERE period = ? AND vintage = ? "
                         "ORDER BY unit_level <> 'province', indicator_code, unit_level, unit_code", [period, vintage])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


class VintageTexts(Declared):
    """What the report draft and the workbook say about the vintage (publication of the month) they show."""

    report_line: str
    """The draft's line: {vintage}, {date} (dd/mm/yyyy hh:mm), {previous} (the vintage it replaces: a phrase or '')."""
    replaces: str
    """The phrase naming the vintage replaced ({previous}); a first publication says none."""
    workbook_line: str
    """The line under the headline sheet's table (same fields as report_line, and {errata}: how many figures changed)."""
    errata_sheet: str
    """Title of the workbook sheet listing the errata of this vintage."""
    errata_none: str
    """Written on that sheet when the vintage changed no figure."""
    errata_first: str
    """Written on that sheet for the month's first publication."""
    causes: dict[str, str]
    """What caused a correction, by `marts.errata.cause`."""


@cache
def texts(path: Path = TEXTS_FILE) -> VintageTexts:
    found = validate_file(VintageTexts, Path(path))
    missing = [c for c in CAUSES if c not in found.causes]
    if missing:
        raise ValueError(f"{shown(path)}: causes: no text for {', '.join(missing)}")
    return found


def _fields(info: dict) -> dict:
    t = texts()
    previous = t.replaces.format(previous=info["previous_vintage"]) if info["previous_vintage"] else ""
    return {"vintage": info["vintage"], "date": info["published_at"].strftime("%d/%m/%Y %H:%M"),
            "previous": previous, "errata": info["errata"]}


def report_line(con: duckdb.DuckDBPyConnection, period: str) -> str:
    """The draft's line stating its vintage ('' before any vintage), starting with a blank line."""
    info = current(con, period)
    return f"\n{texts().report_line.format(**_fields(info))}\n" if info else ""


def plain_line(con: duckdb.DuckDBPyConnection, period: str) -> str | None:
    """The vintage sentence without Markdown (the Word report), or None before any vintage."""
    info = current(con, period)
    return texts().report_line.format(**_fields(info)).strip("_") if info else None


def workbook_line(con: duckdb.DuckDBPyConnection, period: str) -> str | None:
    info = current(con, period)
    return texts().workbook_line.format(**_fields(info)) if info else None



def mark_checked(con: duckdb.DuckDBPyConnection, periods: list[str]) -> None:
    """The months' latest vintages passed the checks of their publication."""
    ensure(con)
    con.execute(f"UPDATE {PUBLICATIONS} SET checked = true WHERE NOT checked AND period IN (SELECT unnest(?::VARCHAR[]))",
                [sorted(periods)])


def withdraw_unchecked(con: duckdb.DuckDBPyConnection, periods: list[str]) -> None:
    """Remove the months' vintages whose publication did not pass its checks: a publication that failed its
    checks is no vintage (its errata and history rows go with it)."""
    ensure(con)
    for table in (ERRATA, HISTORY):
        con.execute(f"DELETE FROM {table} t USING {PUBLICATIONS} v WHERE t.period = v.period AND t.vintage = v.vintage "
                    "AND NOT v.checked AND v.period IN (SELECT unnest(?::VARCHAR[]))", [sorted(periods)])
    con.execute(f"DELETE FROM {PUBLICATIONS} WHERE NOT checked AND period IN (SELECT unnest(?::VARCHAR[]))",
                [sorted(periods)])
