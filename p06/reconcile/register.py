"""The findings register: each finding followed from month to month, until resolved or accepted.

A finding is known by a stable key: its period, source, rule, unit and measure, written as a short hash and
the parts (`3f9a1c2e:2023-09/bhxh/stock_not_falling/384/participants_verified`); on the command line the
hash alone is enough. `follow` runs after each reconciliation of a month (in its transaction):
- a finding seen for the first time is `open` (first_seen = last_seen = the reconciliation's time);
- one seen again keeps its status and first_seen (last_seen moves); a `resolved` one seen again is `open`
  again, and so is an `accepted` one whose stated figure is no longer the one accepted;
- an `open` or `accepted` finding of a reconciled month that the reconciliation no longer shows is `resolved`.
`accept` records that a person confirmed the figure (note, who, when): an accepted finding stays in the
register but leaves the discrepancies sent back to departments (the workbook's sheet, the draft's list).
"""
from __future__ import annotations

import getpass
import hashlib
from datetime import datetime
from typing import Iterable

import duckdb

from p06.warehouse import has_table

TABLE = "marts.findings_register"
FINDINGS = "marts.reconciliation_findings"
STATUSES = ("open", "resolved", "accepted")
TOLERANCE = 1e-9

DDL = f"""
CREATE SCHEMA IF NOT EXISTS marts;
CREATE TABLE IF NOT EXISTS {TABLE} (
    finding_key     VARCHAR NOT NULL,      -- short hash:period/source/rule/unit/measure (unique)
    period          VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    rule_id         VARCHAR NOT NULL,
    unit_code       VARCHAR,
    measure         VARCHAR,
    unit_name       VARCHAR,
    severity        VARCHAR NOT NULL,      -- of the last time seen
    message_vi      VARCHAR NOT NULL,
    message_en      VARCHAR NOT NULL,
    actual          DOUBLE,                -- the stated figure, the last time seen
    first_seen      TIMESTAMP NOT NULL,    -- reconciliation that first showed it
    last_seen       TIMESTAMP NOT NULL,    -- latest reconciliation that showed it
    status          VARCHAR NOT NULL,      -- open | resolved | accepted
    resolved_at     TIMESTAMP,             -- reconciliation that no longer showed it
    note            VARCHAR,               -- the confirmation's note
    accepted_by     VARCHAR,
    accepted_at     TIMESTAMP,
    accepted_actual DOUBLE                 -- the figure that was confirmed
);
"""


class UnknownFinding(LookupError):
    """No finding, or more than one, answers to the key given."""


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def _exists(con: duckdb.DuckDBPyConnection) -> bool:
    return has_table(con, TABLE)


def finding_key(period: str, source: str, rule_id: str, unit_code: str | None, measure: str | None) -> str:
    """'3f9a1c2e:2023-09/bhxh/stock_not_falling/384/participants_verified' ('-' for no unit or measure)."""
    parts = "/".join([period, source, rule_id, unit_code or "-", measure or "-"])
    return f"{hashlib.sha256(parts.encode()).hexdigest()[:8]}:{parts}"


# The reconciled months' findings, one row per key (the most severe instance when a key has two).
SEEN_SQL = f"""
CREATE OR REPLACE TEMP TABLE _register_seen AS
SELECT DISTINCT ON (finding_key) * FROM (
    SELECT left(sha256(parts), 8) || ':' || parts AS finding_key, *
    FROM (SELECT concat_ws('/', period, source, rule_id, coalesce(unit_code, '-'), coalesce(measure, '-')) AS parts,
                 period, source, rule_id, unit_code, measure, unit_name, severity, message_vi, message_en, actual
          FROM {FINDINGS} WHERE period IN (SELECT unnest($periods))))
ORDER BY finding_key, severity = 'warning', message_en
"""
REOPEN = (f"r.status = 'resolved' OR (r.status = 'accepted' AND ((s.actual IS NULL) <> (r.accepted_actual IS NULL) "
          f"OR abs(s.actual - r.accepted_actual) > {TOLERANCE} * greatest(1, abs(r.accepted_actual))))")


def follow(con: duckdb.DuckDBPyConnection, periods: Iterable[str], seen_at: datetime) -> dict[str, int]:
    """Bring the register up to date with the stored findings of the reconciled `periods` (call in the
    reconciliation's transaction, after marts.reconciliation_findings is written); returns how many
    findings are new, seen again, reopened and resolved."""
    ensure(con)
    periods = sorted(set(periods))
    con.execute(SEEN_SQL, {"periods": periods})
    try:
        (seen, reopened), = con.execute(f"SELECT count(*), count(*) FILTER ({REOPEN}) FROM {TABLE} r "
                                        "JOIN _register_seen s USING (finding_key)").fetchall()
        con.execute(f"""UPDATE {TABLE} r SET unit_name = s.unit_name, severity = s.severity, message_vi = s.message_vi,
                            message_en = s.message_en, actual = s.actual, last_seen = $at,
                            status = CASE WHEN {REOPEN} THEN 'open' ELSE r.status END,
                            resolved_at = CASE WHEN {REOPEN} THEN NULL ELSE r.resolved_at END
                        FROM _register_seen s WHERE r.finding_key = s.finding_key""", {"at": seen_at})
        (new,), = con.execute(f"""INSERT INTO {TABLE} (finding_key, period, source, rule_id, unit_code, measure, unit_name,
                                      severity, message_vi, message_en, actual, first_seen, last_seen, status)
                                  SELECT finding_key, period, source, rule_id, unit_code, measure, unit_name, severity,
                                         message_vi, message_en, actual, $at, $at, 'open' FROM _register_seen
                                  WHERE finding_key NOT IN (SELECT finding_key FROM {TABLE})""", {"at": seen_at}).fetchall()
        (resolved,), = con.execute(f"""UPDATE {TABLE} SET status = 'resolved', resolved_at = $at
                                       WHERE period IN (SELECT unnest($periods)) AND status <> 'resolved'
                                         AND finding_key NOT IN (SELECT finding_key FROM _register_seen)""",
                                   {"at": seen_at, "periods": periods}).fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS _register_seen")
    return {"new": new, "seen": seen - reopened, "reopened": reopened, "resolved": resolved}


def find(con: duckdb.DuckDBPyConnection, key: str) -> dict:
    """The register row a key names: the whole key, or its hash (or a prefix of at least 4 characters of it)."""
    ensure(con)
    key = key.strip()
    if ":" in key:
        cursor = con.execute(f"SELECT * FROM {TABLE} WHERE finding_key = ?", [key])
    else:
        cursor = con.execute(f"SELECT * FROM {TABLE} WHERE length(?) >= 4 AND starts_with(finding_key, ?)", [key, key])
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    if len(rows) != 1:
        found = "no finding" if not rows else f"{len(rows)} findings ({', '.join(r[0] for r in rows[:5])})"
        raise UnknownFinding(f"{found} with the key {key!r}: `p06 findings --all` lists the keys")
    return dict(zip(names, rows[0]))


def accept(con: duckdb.DuckDBPyConnection, key: str, note: str, by: str | None = None,
           at: datetime | None = None) -> dict:
    """Record that a person confirmed the finding's figure is right; returns the updated row.
    A resolved finding cannot be accepted (there is nothing left to confirm)."""
    row = find(con, key)
    if row["status"] == "resolved":
        raise UnknownFinding(f"{row['finding_key']} is resolved (the latest reconciliation of {row['period']} "
                             "no longer shows it): nothing to accept")
    if not note.strip():
        raise ValueError("say why the figure is right: --note \"...\"")
    by = by or getpass.getuser()
    con.execute(f"UPDATE {TABLE} SET status = 'accepted', note = ?, accepted_by = ?, accepted_at = ?, "
                "accepted_actual = actual WHERE finding_key = ?", [note.strip(), by, at or datetime.now(), row["finding_key"]])
    return find(con, row["finding_key"])


def listed(con: duckdb.DuckDBPyConnection, period: str | None = None, everything: bool = False) -> list[dict]:
    """Register rows, open ones only unless `everything`; by period, source, unit, rule."""
    if not _exists(con):
        return []
    where = ["TRUE" if everything else "status = 'open'"] + (["period = ?"] if period else [])
    cursor = con.execute(f"SELECT * FROM {TABLE} WHERE {' AND '.join(where)} "
                         "ORDER BY period, source, unit_code NULLS FIRST, rule_id, measure", [period] if period else [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


def with_status(con: duckdb.DuckDBPyConnection, findings: list[dict]) -> list[dict]:
    """Findings rows (marts.reconciliation_findings) with their register key, status and first_seen added
    (status 'open' and first_seen None for a finding the register does not hold)."""
    if not findings or not _exists(con):
        return [{**f, "finding_key": finding_key(f["period"], f["source"], f["rule_id"], f.get("unit_code"), f.get("measure")),
                 "status": "open", "first_seen": None} for f in findings]
    keys = [finding_key(f["period"], f["source"], f["rule_id"], f.get("unit_code"), f.get("measure")) for f in findings]
    known = {k: (s, first) for k, s, first in con.execute(
        f"SELECT finding_key, status, first_seen FROM {TABLE} WHERE finding_key IN (SELECT unnest(?))", [keys]).fetchall()}
    return [{**f, "finding_key": k, "status": known.get(k, ("open", None))[0], "first_seen": known.get(k, ("open", None))[1]}
            for f, k in zip(findings, keys)]


def outstanding(con: duckdb.DuckDBPyConnection, findings: list[dict]) -> list[dict]:
    """The findings to send back to departments: all but those a person accepted."""
    return [f for f in with_status(con, findings) if f["status"] != "accepted"]
