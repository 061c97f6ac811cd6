"""`p06 findings`: the findings register on the command line.

`p06 findings [--period P] [--all]` lists open findings (all statuses with --all) from the analysts' copy;
`p06 findings accept KEY --note "..." [--by NAME]` records that a person confirmed the figure: it writes the
warehouse, writes the month's workbook, report draft and tables again (the finding leaves the discrepancies
sent back to departments) and publishes the analysts' copy.
"""
from __future__ import annotations

import sys

from p06 import catalog, config, warehouse
from p06.messages import column, language, say
from p06.reconcile import register

LIST_COLUMNS = ("period", "source", "unit_code", "rule_id", "status", "first_seen")


def add_parser(sub) -> None:
    findings = sub.add_parser("findings", help="list open reconciliation findings; accept one (a person confirmed the figure)")
    findings.add_argument("--period", help="YYYY-MM: only this month")
    findings.add_argument("--all", action="store_true", help="every finding of the register: open, resolved, accepted")
    action = findings.add_subparsers(dest="action")
    accept = action.add_parser("accept", help="record that a person confirmed the finding's figure is right")
    accept.add_argument("key", help="the finding's key as `p06 findings` prints it, or its 8-character hash")
    accept.add_argument("--note", required=True, help="why the figure is right (who confirmed it, which document)")
    accept.add_argument("--by", help="who confirms (default: the operating-system user)")


def summary_lines(con, period: str) -> list[str]:
    """`p06 run`'s lines on the month's vintage and on its findings a person accepted (not sent back)."""
    from p06.publish import vintages
    lines = [line for line in [vintages.summary_line(con, period)] if line]
    accepted = [r for r in register.listed(con, period, everything=True) if r["status"] == "accepted"]
    if accepted:
        lines.append(say("accepted_count", count=len(accepted), period=period))
    return lines


def _shown(value) -> str:
    if value is None:
        return "-"
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _value(row: dict, col: str) -> str:
    """A register field as printed: in Vietnamese the sending department and the status in words."""
    value = row[col]
    if language() == "vi" and col == "source" and value in catalog.sources():
        return catalog.sources()[value].department_vi
    if col == "status" and value in ("open", "resolved", "accepted"):
        return say(f"finding_status.{value}")
    return _shown(value)


def cmd_findings(args) -> int:
    return _accept(args) if args.action == "accept" else _list(args)


def _list(args) -> int:
    path = config.analyst_copy_path()
    if not path.exists():
        print(f"no published copy at {path}: run `p06 run` first", file=sys.stderr)
        return 2
    with warehouse.connect(path, read_only=True) as con:
        rows = register.listed(con, args.period, everything=args.all)
    columns = [c for c in LIST_COLUMNS if args.all or c != "status"]
    of = say("findings_of", period=args.period) if args.period else ""
    print(say("findings_header_all" if args.all else "findings_header_open", count=len(rows), of=of))
    for row in rows:
        head = ", ".join(f"{say(f'findings_columns.{c}')} {_value(row, c)}" for c in columns)
        print(f"\n{row['finding_key']}\n  {head}\n  {column(row, 'message_vi', 'message_en')}")
        if row["status"] == "accepted" or row["note"]:
            print(say("findings_accepted_by", by=row["accepted_by"], at=_shown(row["accepted_at"]), note=row["note"]))
    if rows and not args.all:
        print(say("findings_how_to_accept"))
    return 0


def _accept(args) -> int:
    from p06.documents import exports
    from p06.lock import writer_lock
    from p06.publish import snapshot, state
    if not config.warehouse_path().exists():
        print(f"no warehouse at {config.warehouse_path()}: run `p06 run` first", file=sys.stderr)
        return 2
    with writer_lock(config.warehouse_dir()):      # one writer at a time (p06/lock.py)
        with warehouse.connect() as con:
            unchecked = state.unchecked_months(con)
            if unchecked:                  # the analysts' copy made below would publish them
                print(f"error: the warehouse holds months whose last publication failed its checks or did not end "
                      f"({', '.join(unchecked)}): run `p06 run` until it passes, then accept", file=sys.stderr)
                return 2
            try:
                with warehouse.transaction(con):
                    row = register.accept(con, args.key, args.note, args.by)
            except (register.UnknownFinding, ValueError) as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            period = row["period"]
            out = exports.export_dir(config.warehouse_dir(), period)
            if (out / f"DA06_{period}.xlsx").exists():     # the month's files without the accepted finding
                exports.write_month(con, period, config.warehouse_dir())
                exports.settle_month(config.warehouse_dir(), period)
            snapshot.publish_copy(config.warehouse_path(), config.analyst_copy_path(), con=con)
    print(say("findings_accepted", key=row["finding_key"], by=row["accepted_by"], at=_shown(row["accepted_at"]),
              note=row["note"], period=period))
    return 0
