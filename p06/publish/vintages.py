"""Vintages: every publication of a month that changed what it says, kept and explained.

`record` runs inside `p06.publish.marts.publish_periods`' transaction, after the month's tables are rebuilt:
- when the month's published rows (`p06.publish.state.content_sha`) equal those of its latest vintage,
  nothing is written (a re-run without changes is no new vintage);
- otherwise a new vintage: a row of `marts.publications` (number 1, 2, ... per month, time, the content
  digest, the declarations' and the code's digests, and the sha256 of every delivery in use for the month
  and for the months its history rules compare with), a copy of the month's rows of every published table
  in its history table (`KEPT`: `marts.indicator_history`, `marts.public_services_history`,
  `marts.completeness_history`, `marts.findings_history`), and one `marts.errata` row per figure that
  differs from the previous vintage's (an indicator's value, numerator, denominator and last month's value; a
  service's dossier counts and ratio; a source's status and units; a reconciliation finding's severity, stated
  and computed figures: a finding that appeared or went, listed but not counted as a corrected figure,
  `counted`), naming the delivery that caused it (the
  delivery of that source-month that the previous vintage did not use: `delivery_restored` when an earlier
  vintage used it and the file that replaced it is gone, a correction withdrawn; or of a month before it:
  `earlier_month`) or, when the deliveries are the same, the declarations or the code.

"As published on date D" is the latest checked vintage of each month with `published_at <= D`
(docs/analysts.md); the analysts' copy serves each month from its last checked vintage (`serve_checked`).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

import duckdb

from p06 import config, landing
from p06.declared.base import Declared, shown, validate_file
from p06.publish import state
from p06.warehouse import DELIVERIES_WITH_REFUSED, has_table

PUBLICATIONS = "marts.publications"
HISTORY = "marts.indicator_history"
ERRATA = "marts.errata"
SOURCE_TABLE = "marts.indicator_monthly"
FINDINGS_TABLE = "marts.reconciliation_findings"


@dataclass(frozen=True)
class Kept:
    """A published table kept per vintage: its history table (every column of the table, and `vintage`), the
    columns that identify a row within a month, and what an erratum of it says: `errata` maps the errata's
    columns to SQL over the row ($province: the province's code, $services: the services' source), `numbers`
    and `texts` are the figures compared (none: kept for the analysts' copy only)."""
    table: str
    history: str
    keys: tuple[str, ...]
    errata: dict[str, str] = field(default_factory=dict)
    numbers: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()
    order: tuple[str, ...] = ()         # rows with the same keys pair in this order (a rule can find twice in a unit)
    counted: bool = True                # its errata are corrected figures (marts.publications.errata); else changes
    presence: str | None = None         # the text figure that alone says a row came or went (others: compared in both)

    @property
    def name(self) -> str:
        return self.table.split(".", 1)[1]


KEPT = (
    Kept(SOURCE_TABLE, HISTORY, ("unit_level", "unit_code", "indicator_code"),
         {"unit_level": "unit_level", "unit_code": "unit_code", "unit_name": "unit_name",
          "indicator_code": "indicator_code", "indicator_name_vi": "indicator_name_vi", "source": "source"},
         numbers=("value", "numerator", "denominator", "previous_value")),
    Kept("marts.public_services_monthly", "marts.public_services_history", ("service_code",),
         {"unit_level": "'province'", "unit_code": "$province", "unit_name": "NULL", "indicator_code": "service_code",
          "indicator_name_vi": "service_name", "source": "$services"},
         numbers=("dossiers_total", "dossiers_online", "online_ratio", "on_time", "overdue"), texts=("connected",)),
    Kept("marts.source_completeness", "marts.completeness_history", ("source",),
         {"unit_level": "'province'", "unit_code": "$province", "unit_name": "NULL", "indicator_code": "source",
          "indicator_name_vi": "department_vi", "source": "source"},
         numbers=("units_expected", "units_present", "rejected_deliveries"), texts=("status", "missing_units")),
    # A finding that appears, goes, changes severity or compares other figures (the stated and the computed, or a
    # month's value and its history's typical one) is listed with the errata but counted apart: the figures stand
    Kept(FINDINGS_TABLE, "marts.findings_history", ("source", "unit_kind", "unit_code", "rule_id", "measure"),
         {"unit_level": "unit_kind", "unit_code": "unit_code", "unit_name": "unit_name", "indicator_code": "rule_id",
          "indicator_name_vi": "message_vi", "source": "source"},
         numbers=("expected", "actual"), texts=("severity",), order=("file", "sheet", "cell"), counted=False,
         presence="severity"),
)
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
    errata            INTEGER NOT NULL,      -- figures corrected (changed findings are in marts.errata, not counted)
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
    indicator_code    VARCHAR NOT NULL,      -- the indicator; the service (public_services_monthly); the source (source_completeness)
    indicator_name_vi VARCHAR,
    source            VARCHAR,
    old_value         DOUBLE,                -- NULL: the previous vintage had no figure
    new_value         DOUBLE,                -- NULL: this vintage has none
    cause             VARCHAR NOT NULL,      -- delivery | delivery_withdrawn | delivery_restored | delivery_rejected | earlier_month | declarations | code | declarations_and_code | unexplained
    file              VARCHAR,               -- the delivery that caused it (cause = delivery; delivery_restored: the file in use again)
    sha256            VARCHAR,
    published_table   VARCHAR NOT NULL DEFAULT 'indicator_monthly',  -- the table of the figure (reconciliation_findings: not counted in publications.errata)
    figure            VARCHAR NOT NULL DEFAULT 'value',  -- its column: value, numerator, denominator, dossiers_total, status, ...
    old_text          VARCHAR,               -- a text figure (status, missing_units, connected, severity): old and new
    new_text          VARCHAR
);
"""
# Added to an errata table made by an earlier release (its rows are the indicators' values).
ERRATA_ADDED = {"published_table": "VARCHAR DEFAULT 'indicator_monthly'", "figure": "VARCHAR DEFAULT 'value'",
                "old_text": "VARCHAR", "new_text": "VARCHAR"}
CAUSES = ("delivery", "delivery_withdrawn", "delivery_restored", "delivery_rejected", "earlier_month", "declarations", "code",
          "declarations_and_code", "unexplained")


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


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return has_table(con, table)


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables; a history takes every column of its published table (added when a release adds one).
    A history made by this release for a table published before is filled with each month's rows of its latest
    vintage, when they are still those of that vintage (its content digest)."""
    con.execute(DDL)
    have_errata = _columns(con, ERRATA)
    for column, kind in ERRATA_ADDED.items():
        if column not in have_errata:
            con.execute(f"ALTER TABLE {ERRATA} ADD COLUMN {column} {kind}")
    for kept in KEPT:
        if not _exists(con, kept.table):
            continue
        if not _exists(con, kept.history):
            con.execute(f"CREATE TABLE {kept.history} AS SELECT period, CAST(NULL AS INTEGER) AS vintage, "
                        f"* EXCLUDE (period) FROM {kept.table} LIMIT 0")
            _fill_new_history(con, kept)
        have = _columns(con, kept.history)
        for column, kind in _columns(con, kept.table).items():
            if column not in have:
                con.execute(f'ALTER TABLE {kept.history} ADD COLUMN "{column}" {kind}')


def _fill_new_history(con: duckdb.DuckDBPyConnection, kept: Kept) -> None:
    if not _exists(con, PUBLICATIONS):
        return
    latest = con.execute(f"SELECT period, max(vintage), arg_max(content_sha, vintage) FROM {PUBLICATIONS} "
                         "GROUP BY period").fetchall()
    for period, vintage, digest in latest:
        if state.content_sha(con, period) == digest:
            con.execute(f"INSERT INTO {kept.history} BY NAME SELECT ? AS vintage, * FROM {kept.table} WHERE period = ?",
                        [vintage, period])


def _latest(con: duckdb.DuckDBPyConnection, period: str) -> tuple | None:
    return con.execute(f"SELECT vintage, content_sha, catalog_sha, code_sha FROM {PUBLICATIONS} WHERE period = ? "
                       "ORDER BY vintage DESC LIMIT 1", [period]).fetchone()


# The deliveries in use (status loaded) of a month and of the months before it that its rules compare with.
DELIVERIES_SQL = ("SELECT list(struct_pack(period := period, source := source, file := path, sha256 := sha256, "
                  "delivery_id := delivery_id) ORDER BY period, source, path) FROM raw.deliveries "
                  "WHERE status = 'loaded' AND period BETWEEN $first AND $period")


def _month_files(con: duckdb.DuckDBPyConnection, period: str, vintage: int,
                 earlier: bool = False, before: bool = False) -> dict[str, set[tuple[str, str]]]:
    """source -> {(file, sha256)} of the month's own deliveries in a vintage (`earlier`: of the months before it
    that the vintage compared with, its history window; `before`: in any vintage before it)."""
    rows = con.execute(f"SELECT d.source, d.file, d.sha256 FROM (SELECT unnest(deliveries) AS d FROM {PUBLICATIONS} "
                       f"WHERE period = ? AND vintage {'<' if before else '='} ?) WHERE d.period {'<' if earlier else '='} ?",
                       [period, vintage, period]).fetchall()
    out: dict[str, set[tuple[str, str]]] = {}
    for source, file, sha in rows:
        out.setdefault(source, set()).add((file, sha))
    return out


def _refused_files(con: duckdb.DuckDBPyConnection, period: str) -> dict[str, tuple[str, str]]:
    """source -> (file, sha256) of a file refused for its own content in the source-month's last processing (as
    marts.source_completeness.rejected_deliveries counts them)."""
    rows = con.execute(f"SELECT source, min((path, sha256)) FROM ({DELIVERIES_WITH_REFUSED}) WHERE refused GROUP BY source",
                       [period]).fetchall()
    return {source: tuple(file) for source, file in rows}


def _cause(source: str, new: dict, old: dict, release_changed: tuple[bool, bool],
           refused: dict, earlier: tuple[dict, dict], used_before: dict) -> tuple[str, str | None, str | None]:
    """(cause, file, sha256) of a changed figure of `source` (`earlier`: the source's files of the months before,
    in the new and the previous vintage; `used_before`: the month's files of the vintages before the previous)."""
    added = sorted(new.get(source, set()) - old.get(source, set()))
    removed = sorted(old.get(source, set()) - new.get(source, set()))
    if added and removed and set(added) <= used_before.get(source, set()):
        return "delivery_restored", *added[0]        # a correction withdrawn: the file it replaced is in use again
    if added:
        return "delivery", *added[0]
    if removed:              # its folder emptied, or a file of its delivery removed (p06.ingest.load)
        return "delivery_withdrawn", *removed[0]
    if source in refused:           # a re-send refused: its figures stay, the month's completeness says so
        return "delivery_rejected", *refused[source]
    was, now = earlier[1].get(source, set()), earlier[0].get(source, set())
    changed = sorted(now - was) or sorted(was - now)
    if changed:              # a month before it re-sent (the new file named) or withdrawn: its "last month" figures
        return "earlier_month", *changed[0]
    declarations, code = release_changed
    if declarations or code:
        return ("declarations_and_code" if declarations and code else "declarations" if declarations else "code"), None, None
    return "unexplained", None, None


def _errata_sql(con: duckdb.DuckDBPyConnection, kept: Kept) -> str:
    """INSERT of the errata of one kept table: its figures that differ between two vintages of a month."""
    columns = [c for c in _columns(con, kept.history) if c not in ("period", "vintage")]
    joined = ", ".join([f'coalesce(n."{c}", o."{c}") AS "{c}"' for c in columns]
                       + [f'n."{f}" AS "n_{f}", o."{f}" AS "o_{f}"' for f in (*kept.numbers, *kept.texts)])
    on = " AND ".join([f'n."{k}" IS NOT DISTINCT FROM o."{k}"' for k in kept.keys] + ["n._occurrence = o._occurrence"])
    quoted = lambda columns: ", ".join(f'"{c}"' for c in columns)  # noqa: E731
    numbered = (f"row_number() OVER (PARTITION BY {quoted(kept.keys)} ORDER BY {quoted((*kept.order, *kept.keys))}) "
                "AS _occurrence")
    described = ", ".join(f"{sql} AS {column}" for column, sql in kept.errata.items())
    head = (f"SELECT $period AS period, $new AS vintage, $old AS previous_vintage, $at AS published_at, "
            f"'{kept.name}' AS published_table, {described}, 'unexplained' AS cause")
    both = f'"n_{kept.presence}" IS NOT NULL AND "o_{kept.presence}" IS NOT NULL AND' if kept.presence else ""
    parts = [f"""{head}, '{f}' AS figure, "o_{f}" AS old_value, "n_{f}" AS new_value FROM j
                 WHERE {both} (("n_{f}" IS NULL) <> ("o_{f}" IS NULL)
                    OR abs("n_{f}" - "o_{f}") > {TOLERANCE} * greatest(1, abs("o_{f}")))""" for f in kept.numbers]
    parts += [f"""{head}, '{f}' AS figure, "o_{f}" AS old_text, "n_{f}" AS new_text FROM j
                  WHERE "n_{f}" IS DISTINCT FROM "o_{f}" """ for f in kept.texts]
    return f"""INSERT INTO {ERRATA} BY NAME
        WITH n AS (SELECT *, {numbered} FROM {kept.history} WHERE period = $period AND vintage = $new),
             o AS (SELECT *, {numbered} FROM {kept.history} WHERE period = $period AND vintage = $old),
             j AS (SELECT {joined} FROM n FULL JOIN o ON {on})
        {" UNION ALL BY NAME ".join(parts)}"""


def _write_errata(con: duckdb.DuckDBPyConnection, period: str, vintage: int, previous: tuple, parts: dict,
                  published_at: datetime) -> int:
    """One marts.errata row per figure of the month's published tables that differs from the previous vintage's,
    with its cause (the source's re-sent or withdrawn delivery, or the declarations or the code); returns how
    many are corrected figures (not findings)."""
    from p06.publish.indicator_catalog import load
    params = {"period": period, "new": vintage, "old": previous[0], "at": published_at,
              "province": config.province_code(), "services": load().public_services.source}
    for kept in KEPT:
        if (kept.numbers or kept.texts) and _exists(con, kept.history):
            sql = _errata_sql(con, kept)
            con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})
    new_files, old_files = _month_files(con, period, vintage), _month_files(con, period, previous[0])
    release_changed = (parts["catalog_sha"] != previous[2], parts["code_sha"] != previous[3])
    refused = _refused_files(con, period)
    earlier = (_month_files(con, period, vintage, earlier=True), _month_files(con, period, previous[0], earlier=True))
    used_before = _month_files(con, period, previous[0], before=True)
    sources = [s for (s,) in con.execute(f"SELECT DISTINCT source FROM {ERRATA} WHERE period = ? AND vintage = ? "
                                         "AND source IS NOT NULL", [period, vintage]).fetchall()]
    for source in sources:
        cause, file, sha = _cause(source, new_files, old_files, release_changed, refused, earlier, used_before)
        con.execute(f"UPDATE {ERRATA} SET cause = ?, file = ?, sha256 = ? WHERE period = ? AND vintage = ? AND source = ?",
                    [cause, file, sha, period, vintage, source])
    return _count(con, period, vintage, counted=True)


def _count(con: duckdb.DuckDBPyConnection, period: str, vintage: int, counted: bool) -> int:
    """A vintage's corrected figures (`counted`), or its changed findings."""
    tables = [k.name for k in KEPT if k.counted == counted]
    (count,) = con.execute(f"SELECT count(*) FROM {ERRATA} WHERE period = ? AND vintage = ? "
                           "AND list_contains(?, published_table)", [period, vintage, tables]).fetchone()
    return count


def record(con: duckdb.DuckDBPyConnection, periods: list[str], published_at: datetime | None = None) -> dict[str, int]:
    """Record a new vintage of each month whose published rows changed since its latest vintage (call inside the
    publishing transaction, after the month's tables are rebuilt); returns {period: new vintage number}."""
    ensure(con)
    published_at = published_at or datetime.now()
    parts = release_parts()
    window = landing.history_window()
    recorded = {}
    digests = state.content_shas(con, periods)
    kept_tables = [kept for kept in KEPT if _exists(con, kept.table)]
    for period in sorted(periods):
        digest = digests[period]
        previous = _latest(con, period)
        if previous is not None and previous[1] == digest:
            continue
        if previous is not None and state.is_legacy(previous[1]) and previous[1] == state.legacy_content_sha(con, period):
            con.execute(f"UPDATE {PUBLICATIONS} SET content_sha = ? WHERE period = ? AND content_sha = ?",
                        [digest, period, previous[1]])        # the same rows: their digest in today's form
            continue
        (rows,) = con.execute(f"SELECT count(*) FROM {SOURCE_TABLE} WHERE period = ?", [period]).fetchone()
        if previous is None and rows == 0:
            continue                                  # nothing was ever published for the month
        vintage = previous[0] + 1 if previous else 1
        (deliveries,) = con.execute(DELIVERIES_SQL,
                                    {"first": landing.month_before(period, window), "period": period}).fetchone()
        for kept in kept_tables:
            con.execute(f"INSERT INTO {kept.history} BY NAME SELECT ? AS vintage, * FROM {kept.table} WHERE period = ?",
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
    """The month's latest vintage: {vintage, published_at, previous_vintage, errata (corrected figures),
    findings (changed reconciliation findings)}, or None."""
    if not _exists(con, PUBLICATIONS):
        return None
    row = con.execute(f"SELECT vintage, published_at, previous_vintage, errata FROM {PUBLICATIONS} WHERE period = ? "
                      "ORDER BY vintage DESC LIMIT 1", [period]).fetchone()
    if not row:
        return None
    return {**dict(zip(("vintage", "published_at", "previous_vintage", "errata"), row)),
            "findings": _count(con, period, row[0], counted=False) if _exists(con, ERRATA) else 0}


def summary_line(con: duckdb.DuckDBPyConnection, period: str) -> str | None:
    """For `p06 run`'s summary: '  published: vintage 2 of 30/11/2026 09:07 (2 figures corrected, marts.errata)'."""
    info = current(con, period)
    if info is None:
        return None
    from p06.messages import say
    corrected = say("vintage_corrected", errata=info["errata"], findings=info["findings"],
                    previous=info["previous_vintage"]) \
        if info["previous_vintage"] else say("vintage_first")
    return say("vintage_line", vintage=info["vintage"], date=f"{info['published_at']:%d/%m/%Y %H:%M}", corrected=corrected)


def errata_rows(con: duckdb.DuckDBPyConnection, period: str, vintage: int) -> list[dict]:
    """The errata of a vintage (what changed since the previous one), province first, by indicator and unit."""
    order = ", ".join(f"'{k.name}'" for k in KEPT)
    cursor = con.execute(f"SELECT * FROM {ERRATA} WHERE period = ? AND vintage = ? "
                         f"ORDER BY list_position([{order}], published_table), unit_level <> 'province', indicator_code, "
                         "unit_level, unit_code, figure", [period, vintage])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


class VintageTexts(Declared):
    """What the report draft and the workbook say about the vintage (publication of the month) they show."""

    report_line: str
    """The draft's line: {vintage}, {date} (dd/mm/yyyy hh:mm), {previous} (the vintage it replaces: a phrase or '')."""
    replaces: str
    """The phrase naming the vintage replaced ({previous}); a first publication says none."""
    workbook_line: str
    """The line under the headline sheet's table (same fields as report_line, {errata}: how many figures changed,
    {findings}: how many reconciliation findings appeared, went or changed)."""
    errata_sheet: str
    """Title of the workbook sheet listing the errata of this vintage."""
    errata_none: str
    """Written on that sheet when the vintage changed no figure."""
    errata_first: str
    """Written on that sheet for the month's first publication."""
    causes: dict[str, str]
    """What caused a correction, by `marts.errata.cause`."""
    tables: dict[str, str] = {}
    """What the errata sheet calls each published table (`marts.errata.published_table`)."""
    figures: dict[str, str] = {}
    """What the errata sheet calls each figure (`marts.errata.figure`: value, numerator, dossiers_total, ...)."""


@cache
def texts(path: Path = TEXTS_FILE) -> VintageTexts:
    found = validate_file(VintageTexts, Path(path))
    missing = [c for c in CAUSES if c not in found.causes]
    missing += [f"tables: {k.name}" for k in KEPT if (k.numbers or k.texts) and k.name not in found.tables]
    missing += [f"figures: {f}" for k in KEPT for f in (*k.numbers, *k.texts) if f not in found.figures]
    if missing:
        raise ValueError(f"{shown(path)}: no text for {', '.join(missing)}")
    return found


def _fields(info: dict) -> dict:
    t = texts()
    previous = t.replaces.format(previous=info["previous_vintage"]) if info["previous_vintage"] else ""
    return {"vintage": info["vintage"], "date": info["published_at"].strftime("%d/%m/%Y %H:%M"),
            "previous": previous, "errata": info["errata"], "findings": info["findings"]}


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
    for table in (ERRATA, *(k.history for k in KEPT if _exists(con, k.history))):
        con.execute(f"DELETE FROM {table} t USING {PUBLICATIONS} v WHERE t.period = v.period AND t.vintage = v.vintage "
                    "AND NOT v.checked AND v.period IN (SELECT unnest(?::VARCHAR[]))", [sorted(periods)])
    con.execute(f"DELETE FROM {PUBLICATIONS} WHERE NOT checked AND period IN (SELECT unnest(?::VARCHAR[]))",
                [sorted(periods)])


# ------------------------------------------------------------------ what the analysts' copy serves

def unchecked(con: duckdb.DuckDBPyConnection) -> dict[str, int | None]:
    """Months whose published rows are not those of a publication that passed its checks (its last publication
    failed them, or its run was interrupted before they ran) -> the last checked vintage, which the analysts'
    copy serves instead (None: the month never passed, and the copy has none of it). Read-only."""
    if not _exists(con, PUBLICATIONS):
        return {}
    current = state.content_shas(con)
    recorded = dict(con.execute(f"SELECT period, content_sha FROM {state.TABLE}").fetchall()) \
        if _exists(con, state.TABLE) else {}
    checked = {p: (v, sha) for p, v, sha in con.execute(
        f"SELECT period, max(vintage), arg_max(content_sha, vintage) FROM {PUBLICATIONS} WHERE checked GROUP BY period"
    ).fetchall()}
    return {p: checked.get(p, (None,))[0] for p, digest in current.items()
            if digest != recorded.get(p) and digest != checked.get(p, (None, None))[1]}


def serve_checked(con: duckdb.DuckDBPyConnection) -> dict[str, int | None]:
    """On a copy of the warehouse (the analysts' copy, before it is put in place): each month whose published rows
    did not pass their checks gets back those of its last checked vintage (its history rows), or loses them when it
    never passed; its staging rows are kept only for the deliveries that vintage used, the longer periods
    containing it are added up again, and vintages not checked are dropped. Returns `unchecked(con)`."""
    from p06 import report_periods
    from p06.publish import period_marts
    if not _exists(con, PUBLICATIONS):
        return {}
    served = unchecked(con)
    if served:
        for period, vintage in sorted(served.items()):
            for kept in KEPT:
                if not _exists(con, kept.table):
                    continue
                con.execute(f"DELETE FROM {kept.table} WHERE period = ?", [period])
                if vintage is not None and _exists(con, kept.history):
                    con.execute(f"INSERT INTO {kept.table} BY NAME SELECT * EXCLUDE (vintage) FROM {kept.history} "
                                "WHERE period = ? AND vintage = ?", [period, vintage])
            if _exists(con, "staging.observations"):
                con.execute(f"""DELETE FROM staging.observations WHERE period = $period AND delivery_id NOT IN (
                                SELECT d.delivery_id FROM (SELECT unnest(deliveries) AS d FROM {PUBLICATIONS}
                                WHERE period = $period AND vintage = $vintage) WHERE d.delivery_id IS NOT NULL)""",
                            {"period": period, "vintage": vintage if vintage is not None else -1})
        if _exists(con, period_marts.TABLE):
            period_marts.ensure_periods(con, {p.label for m in served for p in report_periods.containing(m)})
    for table in (ERRATA, *(k.history for k in KEPT if _exists(con, k.history))):
        con.execute(f"DELETE FROM {table} t USING {PUBLICATIONS} v WHERE t.period = v.period AND t.vintage = v.vintage "
                    "AND NOT v.checked")
    con.execute(f"DELETE FROM {PUBLICATIONS} WHERE NOT checked")
    return served
