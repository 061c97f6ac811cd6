"""`p06`: run the monthly pipeline, check a delivery before filing it, query the published warehouse."""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

from p06 import catalog, config

# The CLI prints its own summary; Dagster's console log shows only errors (the UI keeps everything).
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}

USAGE = """p06 run [--period YYYY-MM ...]     load, reconcile and publish months of the landing zone
p06 check PATH [--source S] [--period YYYY-MM]   read one delivery as the pipeline would; load nothing
p06 sql "SELECT ..." [--csv]        query the analysts' copy of the warehouse
p06 docs                            regenerate docs/data_dictionary.md (warehouse comments) and docs/declarations.md"""


def _instance():
    import dagster as dg
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


def _staging_lines(result) -> list[tuple[str, str]]:
    lines = []
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        if mat.asset_key.path[0] != "staging":
            continue
        meta = {k: v.value for k, v in mat.metadata.items()}
        source = mat.asset_key.path[1]
        text = f"  {source:<14} {meta.get('status', '?'):<9} {meta.get('files') or '-'}"
        if meta.get("status") == "loaded":
            text += f": {meta.get('rows')} figures, {meta.get('units')} units"
        if meta.get("superseded"):
            text += f" (superseded: {meta['superseded']})"
        message = str(meta.get("message") or "")
        rejected = meta.get("status") == "rejected" or message.startswith("rejected")
        if message and (rejected or meta.get("status") == "missing"):
            text += "\n      " + message.replace("\n", "\n      ")
        lines.append(("rejected" if rejected else meta.get("status", "?"), text))
    return lines


def _findings_summary(period: str) -> list[str]:
    from p06 import warehouse
    with warehouse.connect() as con:
        if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema='marts' "
                           "AND table_name='reconciliation_findings'").fetchone()[0]:
            return []
        rows = con.execute("""SELECT severity, source, unit_code, rule_id, message_en FROM marts.reconciliation_findings
                              WHERE period = ? ORDER BY severity, source, rule_id, unit_code""", [period]).fetchall()
    errors = [r for r in rows if r[0] == "error"]
    warnings = [r for r in rows if r[0] == "warning"]
    out = [f"  findings: {len(errors)} error(s), {len(warnings)} warning(s)"]
    for sev, source, unit, rule, message in errors + warnings[:15]:
        out.append(f"    {sev:<7} {source:<13} {unit:<7} {rule}: {message}")
    if len(warnings) > 15:
        out.append(f"    ... {len(warnings) - 15} more warning(s): SELECT * FROM marts.reconciliation_findings WHERE period = '{period}'")
    return out


def cmd_run(args) -> int:
    from p06.ingest.load import landing_periods
    from pipelines.definitions import defs
    from pipelines.partitions import monthly_partitions

    raw = config.raw_dir()
    periods = args.period or landing_periods(raw)
    if not periods:
        print(f"no month folder (YYYY-MM) in {raw}", file=sys.stderr)
        return 2
    valid = set(monthly_partitions.get_partition_keys())
    job = defs.resolve_job_def("monthly_job")
    instance = _instance()
    exit_code = 0
    outputs: dict[str, dict] = {}
    changed: list[str] = []
    print(f"landing zone {raw}\nwarehouse    {config.warehouse_path()}")
    for period in periods:
        if period not in valid:
            print(f"{period}: not a report month ({min(valid)} to {max(valid)})", file=sys.stderr)
            exit_code = 2
            continue
        started = time.perf_counter()
        result = job.execute_in_process(partition_key=period, instance=instance, raise_on_error=False, run_config=QUIET)
        print(f"\n{period}  ({time.perf_counter() - started:.1f} s)")
        lines = _staging_lines(result)
        for _, text in lines:
            print(text)
        if any(status == "loaded" for status, _ in lines):
            changed.append(period)
        if any(status == "rejected" for status, _ in lines):
            exit_code = max(exit_code, 1)
        print("\n".join(_findings_summary(period)))
        exported = _exports_of(result)
        if exported:
            outputs[period] = exported
        if not result.success:
            exit_code = 1
            for event in result.all_events:
                if event.is_step_failure:
                    print(f"  step failed: {event.step_key}: {event.event_specific_data.error.message.strip()}", file=sys.stderr)
    exit_code = max(exit_code, _republish_later_months(job, instance, changed, periods, outputs))
    for period, paths in outputs.items():
        print(f"\n{period} outputs:")
        for name, path in paths.items():
            print(f"  {name:<12} {path}")
    if outputs:
        print(f"\nanalysts' copy: {config.analyst_copy_path()}  (p06 sql \"SELECT ...\")")
    return exit_code


def _exports_of(result) -> dict | None:
    for event in result.get_asset_materialization_events():
        if event.materialization.asset_key.path == ["exports", "monthly_report"]:
            return {k: v.value for k, v in event.materialization.metadata.items()}
    return None


def _republish_later_months(job, instance, changed: list[str], ran: list[str], outputs: dict) -> int:
    """Months after a changed one compare with it (last month's values, stocks): publish them again."""
    from p06 import warehouse
    from pipelines.jobs import DOWNSTREAM_KEYS
    if not changed:
        return 0
    with warehouse.connect() as con:
        staged = [r[0] for r in con.execute("SELECT DISTINCT period FROM staging.observations ORDER BY 1").fetchall()]
    exit_code = 0
    for later in (p for p in staged if p > min(changed) and p not in ran):
        result = job.execute_in_process(partition_key=later, instance=instance, raise_on_error=False,
                                        asset_selection=DOWNSTREAM_KEYS, run_config=QUIET)
        print(f"\n{later}  republished: it compares with {min(changed)}, which changed")
        print("\n".join(_findings_summary(later)))
        outputs[later] = _exports_of(result) or {}
        exit_code = max(exit_code, 0 if result.success else 1)
    return exit_code


def _guess_source(path: Path) -> str | None:
    return path.parent.name if path.parent.name in catalog.sources() else None


def _history(source_id: str, period: str):
    """Earlier months of a source from the analysts' copy (so stock rules can run before filing)."""
    from p06 import warehouse
    path = config.analyst_copy_path()
    if not path.exists():
        return None
    try:
        with warehouse.connect(path, read_only=True, wait_seconds=0) as con:
            return warehouse.frame(con, "SELECT * FROM staging.observations WHERE source = ? AND period < ?", [source_id, period])
    except Exception:  # noqa: BLE001 (no history is fine: the month-over-month rules are skipped)
        return None


PROBLEMS_SHOWN = 12


def _ranges(rows: list[int]) -> str:
    """[7, 8, 9, 12] -> '7-9, 12'."""
    out, start = [], None
    for i, r in enumerate(rows):
        if start is None:
            start = r
        if i + 1 == len(rows) or rows[i + 1] != r + 1:
            out.append(f"{start}-{r}" if r != start else str(r))
            start = None
    return ", ".join(out)


def _how_read(active) -> list[str]:
    """How each table was read: header cells per measure, what each row was taken for, number styles."""
    lines = []
    for read in active:
        for t in read.readings:
            first, last = t.header_rows
            lines.append(f"  sheet '{t.sheet}': header row{'s' if last > first else ''} "
                         f"{first}{f'-{last}' if last > first else ''}; units in {t.unit_column or '(none)'}")
            for measure, where in t.measures.items():
                style = t.styles.get(measure)
                lines.append(f"    {measure:<30} <- {where}" + (f"; {style}" if style else ""))
            kinds = ", ".join(f"{kind} {_ranges(rows)}" for kind, rows in t.rows.items())
            lines.append(f"    rows: {kinds or 'none'}")
            lines += [f"    note: {n}" for n in t.notes]
        lines += [f"  note: {n}" for n in read.notes]
    return lines


def cmd_check(args) -> int:
    import polars as pl

    from p06.ingest.load import PERIOD, read_delivery
    from p06.reconcile.engine import check_delivery

    path = Path(args.path)
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 2
    source_id = args.source or _guess_source(path)
    if source_id not in catalog.sources():
        print(f"{path}: say which source it is: --source {{{','.join(catalog.sources())}}}", file=sys.stderr)
        return 2
    source = catalog.sources()[source_id]
    period = args.period or (path.parent.parent.name if PERIOD.match(path.parent.parent.name) else None)
    active, _, frame, problems = read_delivery([path], source, period)
    as_of = next((r.as_of_date for r in active if r.as_of_date), None)
    period = period or (as_of.strftime("%Y-%m") if as_of else None)
    print(f"{path.name}: source {source_id}, period {period or '(unknown: give --period)'}, "
          f"as of {as_of.strftime('%d/%m/%Y') if as_of else '(no date in the title)'}")
    print("\n".join(_how_read(active)))
    if not frame.is_empty():
        units = frame.filter(~pl.col("unit_kind").is_in(["province", "subtotal"]))
        print(f"  {units['unit_code'].n_unique()} units; total row: {'yes' if (frame['unit_kind'] == 'province').any() else 'no'}; "
              f"{frame.height} figures")
        print("  measures: " + ", ".join(sorted(frame["measure"].unique().to_list())))
    missing = [m.id for m in source.measures if m.id not in set(frame["measure"].to_list())]
    if missing:
        print("  not found: " + ", ".join(missing))
    if problems:
        print(f"  REJECTED: {len(problems)} problem(s)")
        for p in problems[:PROBLEMS_SHOWN]:
            print(f"    - {p}")
        if len(problems) > PROBLEMS_SHOWN:
            print(f"    ... and {len(problems) - PROBLEMS_SHOWN} more problem(s) of the same file")
        return 1
    if period is None:
        print("  accepted; give --period to run the reconciliation rules")
        return 0
    frame = frame.with_columns(pl.lit(period).alias("period"))
    result = check_delivery(frame, history=_history(source_id, period))
    if result.findings.is_empty():
        print("  accepted; no reconciliation finding")
    else:
        print(f"  accepted; {result.errors} error(s), {result.warnings} warning(s):")
        for row in result.findings.head(PROBLEMS_SHOWN).iter_rows(named=True):
            print(f"    {row['severity']:<7} {row['unit_code']:<7} {row['rule_id']}: {row['message_en']}")
        if result.findings.height > PROBLEMS_SHOWN:
            rest = result.findings.slice(PROBLEMS_SHOWN)["rule_id"].value_counts(sort=True).iter_rows()
            print(f"    ... and {result.findings.height - PROBLEMS_SHOWN} more: " + ", ".join(f"{n} {rule}" for rule, n in rest))
    return 0


def cmd_sql(args) -> int:
    from p06.publish.snapshot import query
    try:
        columns, rows = query(args.query)
    except Exception as exc:  # noqa: BLE001 (show any database error plainly)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
        return 0
    widths = [max([len(str(c))] + [len(_show(r[i])) for r in rows]) for i, c in enumerate(columns)]
    print("  ".join(str(c).ljust(w) for c, w in zip(columns, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(_show(v).ljust(w) for v, w in zip(r, widths)))
    print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return 0


def cmd_docs(args) -> int:
    """Regenerate docs/data_dictionary.md from the comments of the warehouse's tables, and
    docs/declarations.md from the declaration models."""
    from p06 import warehouse
    from p06.declared.docs import write_declarations_doc
    from p06.publish.comments import (
        apply_comments,
        missing_comments,
        write_data_dictionary,
    )
    with warehouse.connect() as con:
        apply_comments(con)
        missing = missing_comments(con)
        path = write_data_dictionary(con, config.REPO_DIR / "docs")
    print(f"wrote {path}")
    print(f"wrote {write_declarations_doc(config.REPO_DIR / 'docs')}")
    if missing:
        print("no comment yet (add them to catalog/dictionary.yaml): " + ", ".join(missing), file=sys.stderr)
        return 1
    return 0


def _show(value) -> str:
    return "" if value is None else str(value)


def main(argv: list[str] | None = None) -> int:
    import warnings
    warnings.filterwarnings("ignore", message=".*(preview|beta|experimental).*", category=Warning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    parser = argparse.ArgumentParser(prog="p06", description="Project 06 monthly indicators pipeline", usage=USAGE)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="load, reconcile and publish months of the landing zone")
    run.add_argument("--period", action="append", help="YYYY-MM (repeatable); default: every month folder in raw/")
    check = sub.add_parser("check", help="read one delivery as the pipeline would, loading nothing")
    check.add_argument("path")
    check.add_argument("--source", choices=sorted(catalog.sources()))
    check.add_argument("--period")
    sql = sub.add_parser("sql", help="query the analysts' copy of the warehouse")
    sql.add_argument("query")
    sql.add_argument("--csv", action="store_true", help="print CSV")
    sub.add_parser("docs", help="regenerate docs/data_dictionary.md (warehouse comments) and docs/declarations.md (models)")
    args = parser.parse_args(argv)
    return {"run": cmd_run, "check": cmd_check, "sql": cmd_sql, "docs": cmd_docs}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
