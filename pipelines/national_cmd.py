"""`p06 national --out DIR COPY...`: the national roll-up of provinces' published copies.

Each COPY is a province's `p06_published.duckdb` (the file a province sends up). They are filed into
`DIR/p06_national.duckdb` (p06.national.store: vintages, refusals, the national marts) and each month held gets
its national workbook and Word report under `DIR/exports/<YYYY-MM>/` (written again when a copy of the call
changed the month, or when they are missing), and the nation's dashboard `DIR/exports/dashboard.html` is
written from the national warehouse once it is in place. Exit 0 when every copy was taken (months of an older
vintage than held are ignored with a message), 1 when a copy was refused, 2 on a usage error.
"""
from __future__ import annotations

import sys
from pathlib import Path


def add_parser(sub) -> None:
    national = sub.add_parser("national", help="roll up provinces' published copies into the national warehouse")
    national.add_argument("--out", required=True, help="folder of the national warehouse (p06_national.duckdb)")
    national.add_argument("copies", nargs="+", metavar="COPY", help="a province's p06_published.duckdb")


def cmd_national(args) -> int:
    from p06.national import report, store, workbook
    out = Path(args.out).resolve()
    with store.updating(out) as con:
        outcomes = store.receive(con, [Path(c) for c in args.copies])
        for o in outcomes:
            if o.refused:
                print(f"REFUSED {o.refused}", file=sys.stderr)
                continue
            counts: dict[str, int] = {}
            for status in o.months.values():
                counts[status] = counts.get(status, 0) + 1
            print(f"{o.path}: province {o.province_code}, " + ", ".join(f"{n} month(s) {s}" for s, n in sorted(counts.items())))
            for message in o.messages:
                print(f"  {message}")
        months = [p for (p,) in con.execute("SELECT DISTINCT period FROM marts.indicator_monthly ORDER BY 1").fetchall()]
        changed = {p for o in outcomes for p, status in o.months.items() if status == "in_use"}
        for period in months:
            if period not in changed and workbook.path(out, period).exists() and report.path(out, period).exists():
                continue                  # its figures are those its documents were written from
            (reporting, expected, missing) = con.execute(
                "SELECT max(provinces_reporting), max(provinces_expected), count(*) FILTER (WHERE quality = 'partial') "
                "FROM marts.indicator_monthly WHERE period = ? AND unit_level = 'nation'", [period]).fetchone()
            path, word = workbook.write(con, period, out), report.write(con, period, out)
            state = f"partial ({missing} indicator(s) lack provinces)" if missing else "complete"
            print(f"{period}: {reporting}/{expected} provinces, {state}: {path.parent}/ ({path.name}, {word.name})")
    from p06.documents import dashboard
    page = dashboard.write_national(out / "p06_national.duckdb", out / "exports" / "dashboard.html")
    print(f"national warehouse: {out / 'p06_national.duckdb'}")
    print(f"national dashboard: {page}")
    return 1 if any(o.refused for o in outcomes) else 0
