"""The dashboards leaders look at: the province's of each published month (`exports/<YYYY-MM>/dashboard.html`,
written with the month's other files by p06.documents.exports) and the nation's (`write_national`, from the
national warehouse `p06 national` builds).

Layers: `data` (province) and `national` read the published tables into a dict; `page` renders a Jinja2 template
of catalog/templates/ with it, the charting library and the page's script inlined; `config` reads
catalog/dashboard.yaml. The pages are tested in a real browser (tests/test_dashboard_browser.py).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from p06.documents.dashboard import data, page
from p06.publish import state

FILE_NAME = "dashboard.html"


def write_dashboard(con: duckdb.DuckDBPyConnection, period: str, path: Path) -> Path:
    """The month's dashboard at `path`."""
    return page.write(path, page.render("dashboard.html.j2", data.page_data(con, period), "dashboard.js"))


def digest(con: duckdb.DuckDBPyConnection, period: str) -> str:
    """What the month's dashboard shows of the other months (its trends, units over time, deliveries and the
    findings still open): a month is written again when one of them changes, even if its own rows did not."""
    months = data.window(period)
    first = min(months[0], data.periods.shift(period, -12))
    parts = []
    for table, volatile in (("marts.indicator_monthly", ""), ("marts.source_completeness", ""),
                            ("marts.findings_register", " EXCLUDE (last_seen)")):
        if not data._has(con, table):
            continue
        # rows hashed, not cast to text and sorted: that held 170 MB more in the run's process, never given back
        (d,) = con.execute(f"SELECT {state.ROWS_DIGEST} FROM (SELECT *{volatile} FROM {table} "
                           f"WHERE period BETWEEN ? AND ?) t", [first, period]).fetchone()
        parts.append(d)
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def write_national(national_db: Path, out: Path) -> Path:
    """The national dashboard at `out`, from the national warehouse (see docs: the national contract)."""
    from p06.documents.dashboard import national
    con = duckdb.connect(str(national_db), read_only=True)
    try:
        return page.write(out, page.render("national_dashboard.html.j2", national.page_data(con), "national.js"))
    finally:
        con.close()
