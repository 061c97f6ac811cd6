"""The findings to send back to departments, as the documents read them: the published findings of a month
with their status and first sighting from the findings register (`marts.findings_register`, written by the
reconciliation). Read by the natural key (period, source, rule, unit, measure): documents do not import
`p06.reconcile`."""
from __future__ import annotations

import duckdb

from p06.warehouse import has_table

REGISTER = "marts.findings_register"
_KEY = ("period", "source", "rule_id", "unit_code", "measure")


def _register(con: duckdb.DuckDBPyConnection, periods: list[str]) -> dict[tuple, tuple]:
    """The register's rows of these months (not of the whole history: a month's documents read it three times)."""
    if not has_table(con, "marts.findings_register"):
        return {}
    rows = con.execute(f"SELECT {', '.join(_KEY)}, finding_key, status, first_seen FROM {REGISTER} "
                       "WHERE period IN (SELECT unnest(?::VARCHAR[]))", [periods]).fetchall()
    return {tuple(r[:5]): r[5:] for r in rows}


def with_status(con: duckdb.DuckDBPyConnection, findings: list[dict]) -> list[dict]:
    """Findings rows with their register key, status and first_seen added (status 'open', key and first_seen
    None for a finding the register does not hold)."""
    known = _register(con, sorted({str(f.get('period')) for f in findings})) if findings else {}
    out = []
    for f in findings:
        key, status, first = known.get(tuple(f.get(k) for k in _KEY), (None, "open", None))
        out.append({**f, "finding_key": key, "status": status, "first_seen": first})
    return out


def outstanding(con: duckdb.DuckDBPyConnection, findings: list[dict]) -> list[dict]:
    """The findings to send back to departments: all but those a person accepted."""
    return [f for f in with_status(con, findings) if f["status"] != "accepted"]
