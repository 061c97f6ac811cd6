"""`p06`: run the monthly pipeline, check a delivery before filing it, query the published warehouse."""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

from p06 import catalog, config, warehouse
from p06.messages import language, say
from pipelines import findings_cmd, national_cmd

# The CLI prints its own summary; Dagster's console log shows only errors (the UI keeps everything).
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}

USAGE = """p06 run [--period YYYY-MM ...]     load, reconcile and publish months of the landing zone
p06 check PATH [--source S] [--period YYYY-MM]   read one delivery as the pipeline would; load nothing
p06 sql "SELECT ..." [--csv]        query the analysts' copy of the warehouse
p06 docs                            regenerate docs/data_dictionary.md (warehouse comments) and docs/declarations.md
p06 findings [--period YYYY-MM] [--all]           open reconciliation findings (the findings register)
p06 findings accept KEY --note "..." [--by NAME]  a person confirmed the figure: no longer sent back
p06 report --period P               the Word report of 2023-09, 2023-Q3, 2023-H1, 2023-9M or 2023 (exports/<P>/)
p06 national --out DIR COPY...      roll up provinces' published copies into DIR/p06_national.duckdb"""


INSTANCE_DIR = config.REPO_DIR / ".dagster"   # the project's Dagster instance (git-ignored); its dagster.yaml links to ../dagster.yaml


def _instance():
    """DAGSTER_HOME's instance when set; else, for the project's own warehouse, the project's instance
    (.dagster/, what `scripts/dagster-dev` shows); else (a warehouse elsewhere: tests, the benchmark) a
    throwaway one, so that their runs do not fill the project's history."""
    import dagster as dg
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    if "P06_WAREHOUSE_DIR" in os.environ or not (config.REPO_DIR / "dagster.yaml").is_file():
        return dg.DagsterInstance.ephemeral()
    from dagster._core.instance.ref import InstanceRef
    link = INSTANCE_DIR / "dagster.yaml"            # made here and by scripts/dagster-dev: nothing generated is tracked
    if not link.is_file():
        INSTANCE_DIR.mkdir(exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(Path("..") / "dagster.yaml")
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(INSTANCE_DIR)))


def _connect_read_only(wait_seconds: float = 120.0):
    """The warehouse, read-only (waiting while another process writes it), or None when there is none yet."""
    path = config.warehouse_path()
    return warehouse.open_connection(path, read_only=True, wait_seconds=wait_seconds) if path.exists() else None


def _has(con, schema: str, table: str) -> bool:
    return warehouse.has_table(con, f"{schema}.{table}")


def stale_months(raw: Path, landing: list[str], requested: list[str],
                 named: frozenset[str] = frozenset()) -> tuple[list[str], set[str]]:
    """Months to run: a requested month, or a later one, whose inputs (deliveries of the month and of the months
    its rules compare with, declarations, code) differ from those its publication was made from, or whose
    files differ from those last loaded (a publication that failed its checks, then a file withdrawn); and the
    sources with a source-month to load again (files or declarations changed since its last processing).
    A month folder without any file is run only when `named` (`--period`): it has nothing to publish."""
    from p06 import landing as lz
    months = sorted(set(landing) | set(requested))
    fingerprints = lz.source_month_fingerprints(raw, months)
    inputs = lz.month_inputs(raw, months, fingerprints=fingerprints)
    con = _connect_read_only()
    stored, processed = {}, {}
    if con is not None:
        try:
            warehouse.check_province(con, config.warehouse_path())
            if _has(con, "raw", "publication_state"):
                stored = dict(con.execute("SELECT period, inputs_sha FROM raw.publication_state").fetchall())
            if _has(con, "raw", "deliveries"):
                processed = {(p, s): (fp, status) for p, s, fp, status in con.execute(
                    "SELECT DISTINCT ON (period, source) period, source, fingerprint, status FROM raw.deliveries "
                    "ORDER BY period, source, processed_at DESC").fetchall()}
        finally:
            con.close()
    first = min(requested)
    # a folder emptied whose delivery is not yet withdrawn has a withdrawal to record
    withdraw = {(p, s) for (p, s), fp in fingerprints.items() if fp is None and (p, s) in processed
                and processed[(p, s)][1] != "withdrawn"}
    changed = {p for (p, s), fp in fingerprints.items() if fp is not None and processed.get((p, s), (None,))[0] != fp}
    changed |= {p for p, _ in withdraw}
    delivered = {p for (p, s), fp in fingerprints.items() if fp is not None} | {p for p, _ in withdraw}
    stale = [p for p in sorted(inputs) if (p in requested or p > first) and (p in delivered or p in named)
             and (stored.get(p) != inputs[p] or p in changed)]
    reload = {s for (p, s), fp in fingerprints.items() if p in stale and (
        (fp is not None and processed.get((p, s), (None,))[0] != fp) or (p, s) in withdraw)}
    return stale, reload


def _valid_month(period: str) -> bool:
    """A partition of pipelines/partitions.py: from the first month to the current one (Dagster not imported)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from p06.landing import PERIOD, first_month
    now = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m")
    return bool(PERIOD.match(period)) and first_month() <= period <= now


def cmd_run(args) -> int:
    """`p06 run`, the only writer of the warehouse from before it plans until its summary (p06/lock.py): a
    second `p06 run` started meanwhile waits, then plans again and finds nothing (or less) to do."""
    from p06.lock import writer_lock
    with writer_lock(config.warehouse_dir()):
        return _run(args)


def _run(args) -> int:
    """Find the months whose inputs changed (fingerprints against the warehouse, before importing Dagster),
    run them in one Dagster run over their range, then print what every month holds."""
    from datetime import datetime

    from p06.landing import landing_periods

    started, t0 = datetime.now(), time.perf_counter()
    raw = config.raw_dir()
    landing = landing_periods(raw)
    periods = args.period or landing
    if not periods:
        print(f"no month folder (YYYY-MM) in {raw}", file=sys.stderr)
        return 2
    exit_code = 0
    for period in [p for p in periods if not _valid_month(p)]:
        print(f"{period}: not a report month (the first month of the landing zone to the current month)", file=sys.stderr)
        exit_code = 2
    periods = sorted(p for p in periods if _valid_month(p))
    try:
        stale, reload = stale_months(raw, landing, periods, frozenset(args.period or ())) if periods else ([], set())
    except warehouse.WarehouseOfAnotherProvince as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    timings = {"plan": time.perf_counter() - t0}
    print(say("where", raw=raw, warehouse=config.warehouse_path()))
    if stale:
        from p06.publish import gx_worker
        # Great Expectations imported in its own process meanwhile, never beside the reader process: when each
        # Dagster run starts it, `_run_dagster` says (`gx_worker.run_months`)
        gx_worker.want()
        try:
            exit_code = max(exit_code, _run_dagster(stale, reload, timings))
        finally:
            gx_worker.want(False)
            gx_worker.stop()
    t1 = time.perf_counter()
    exit_code = max(exit_code, _print_summary(sorted(set(periods) | set(stale)), started, stale))
    timings["summary"] = time.perf_counter() - t1
    print(f"\n{say('ran', span=_span(stale)) if stale else say('nothing_changed')}; "
          f"{time.perf_counter() - t0:.1f} s: " + ", ".join(f"{_timing_label(k)} {v:.1f} s" for k, v in timings.items() if v >= 0.05))
    return exit_code


def _timing_label(key: str) -> str:
    try:
        return say(f"timing.{key}")
    except KeyError:                 # a step of no declared layer: its own name
        return key


def _span(months: list[str]) -> str:
    return months[0] if len(months) == 1 else say("span_months", first=months[0], last=months[-1], count=len(months))


def _layer(step_key: str) -> str:
    if step_key.startswith("staging__"):
        return "ingest"
    if "_rules_" in step_key or step_key.endswith(("_schema", "_delivery_accepted")):
        return "asset_checks"
    return {"marts__reconciliation_findings": "reconcile", "published_marts": "publish",
            "exports__monthly_report": "exports", "exports__analyst_copy": "analyst_copy"}.get(step_key, step_key)


def _run_dagster(months: list[str], sources: set[str], timings: dict) -> int:
    """One Dagster run per stretch of consecutive months (a single-run range: each asset does every month of it
    in one step, and records each month's own materialization and check results): the staging assets of the
    sources with something to load, then everything downstream. A month between two stretches has nothing to
    do (no delivery, or nothing changed): no run covers it, so Dagster records nothing for it."""
    t0 = time.perf_counter()
    import dagster as dg

    from p06.publish import gx_worker
    from pipelines.definitions import defs
    from pipelines.jobs import DOWNSTREAM_KEYS
    from pipelines.partitions import consecutive_blocks, delivered_months
    job = defs.resolve_job_def("monthly_job")
    instance = _instance()
    _fail_killed_cli_runs(instance)
    _record_as_code_location_runs(instance, job.name)
    timings["imports"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    empty = sorted(set(months) - set(delivered_months(config.raw_dir(), months)))
    if empty:                        # a month folder without any file: Dagster records nothing for it
        print(say("not_run_empty", months=", ".join(empty)))
    blocks = consecutive_blocks([m for m in months if m not in empty])
    if len(blocks) > 1:
        print(say("runs_blocks", blocks="; ".join(_span(b) for b in blocks)))
    steps: dict[str, float] = {}
    failures = []
    for block in blocks:
        gx_worker.run_months(len(block))
        if len(block) == 1:          # a single month runs every source: it says what each has (loaded, unchanged, missing)
            result = job.execute_in_process(partition_key=block[0], instance=instance, raise_on_error=False,
                                            run_config=QUIET, tags=_cli_tags())
        else:
            selection = [*(dg.AssetKey(["staging", s]) for s in sorted(sources)), *DOWNSTREAM_KEYS]
            result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=QUIET, asset_selection=selection,
                                            tags={"dagster/asset_partition_range_start": block[0],
                                                  "dagster/asset_partition_range_end": block[-1], **_cli_tags()})
        gx_worker.stop()             # one this run did not use (nothing exported) must not sit beside the next run's reader
        for event in result.all_events:
            if event.event_type_value == "STEP_SUCCESS":
                layer = _layer(event.step_key)
                steps[layer] = steps.get(layer, 0.0) + event.event_specific_data.duration_ms / 1000
            elif event.is_step_failure:
                failures.append(f"  step failed: {event.step_key}: {event.event_specific_data.error.message.strip()}")
            elif event.event_type_value == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed \
                    and event.event_specific_data.blocking:       # a check of the publication: name it and its rows
                data = event.event_specific_data
                failures.insert(0, f"  check failed: {data.description or data.check_name}")
        if not result.success:
            break                    # the later months compare with these: they wait for the next run
    run_wall = time.perf_counter() - t1
    timings.update(steps)
    timings["dagster_overhead"] = max(0.0, run_wall - sum(steps.values()))
    for line in failures:
        print(line, file=sys.stderr)
    return 1 if failures or (blocks and not result.success) else 0


def _record_as_code_location_runs(instance, job_name: str) -> None:
    """Runs of `p06 run` recorded as runs of the project's code location (what `dagster dev` loads from
    pyproject.toml), so that the UI's Overview timeline and the job's page list them beside the runs it launched.

    `execute_in_process` records no origin, and Dagster 1.13 has no public way to give one: the instance's
    `create_run_for_job` (which takes `remote_job_origin`) is given it for this process's runs. Internal names,
    pinned by dagster<1.14 and tested in tests/test_dagster_partitions.py."""
    import functools
    import tomllib

    from dagster._core.definitions.repository_definition import SINGLETON_REPOSITORY_NAME
    from dagster._core.remote_origin import ManagedGrpcPythonEnvCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    declared = tomllib.loads((config.REPO_DIR / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["dagster"]
    location = ManagedGrpcPythonEnvCodeLocationOrigin(
        loadable_target_origin=LoadableTargetOrigin(executable_path=sys.executable, module_name=declared["module_name"],
                                                    working_directory=str(config.REPO_DIR)),
        location_name=declared["code_location_name"])
    origin = RemoteJobOrigin(repository_origin=RemoteRepositoryOrigin(location, SINGLETON_REPOSITORY_NAME), job_name=job_name)
    instance.create_run_for_job = functools.partial(instance.create_run_for_job, remote_job_origin=origin)


def _cli_tags() -> dict[str, str]:
    """Tags of a run started by `p06 run`: who ran it, so that a run killed midway can be closed later."""
    return {"p06/launched_by": "p06 run", "p06/pid": str(os.getpid())}


def _fail_killed_cli_runs(instance) -> None:
    """Mark as failed the runs of `p06 run` processes that died (kill -9, a power cut) while their run was
    STARTED, and free the pool slots they held: left so, they would count as in progress for ever, hold the
    instance's one-run queue, and the next run's steps would wait for the slot for ever. Called
    while holding the writer lock, so no other `p06 run` of this warehouse is alive; the pid is checked anyway."""
    import dagster as dg
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED],
                                                     tags={"p06/launched_by": "p06 run"})):
        try:
            pid = int(run.tags.get("p06/pid", "0"))
            os.kill(pid, 0)
            alive = pid != os.getpid()
        except (ValueError, ProcessLookupError):
            alive = False
        except PermissionError:
            alive = True
        if not alive:
            instance.report_run_failed(run, "the p06 run process ended without finishing this run (killed?)")
            # and give back the pool slot ("duckdb_writer") its step held: else the next run's steps wait for ever
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)


def _source_lines(con, period: str, started) -> tuple[list[str], bool, bool]:
    """A line per declared source of the month: loaded or rejected by this run, unchanged, missing."""
    rows = con.execute("""
        SELECT source, file_name, status, message, processed_at, delivery_id FROM raw.deliveries d
        WHERE period = ? AND processed_at = (SELECT max(processed_at) FROM raw.deliveries e
                                             WHERE e.source = d.source AND e.period = d.period)
        ORDER BY source, file_name""", [period]).fetchall() if _has(con, "raw", "deliveries") else []
    by_source: dict[str, list] = {}
    for row in rows:
        by_source.setdefault(row[0], []).append(row)
    lines, rejected_any, fresh_any = [], False, False
    for source in catalog.sources().values():
        last = by_source.get(source.id)
        if not last:
            if source.expected_in(period):
                lines.append(say("source_line", source=source.id, status=say("source_status.missing"), files="-")
                             + "\n" + say("source_no_file", period=period, source=source.id))
            else:
                lines.append(say("source_line", source=source.id, status=say("source_status.not_expected"), files="-"))
            continue
        fresh = last[0][4] >= started
        rejected = [r for r in last if r[2] == "rejected"]
        used = ", ".join(r[1] for r in last if r[2] not in ("superseded", "withdrawn")) or "-"
        superseded = ", ".join(r[1] for r in last if r[2] == "superseded")
        withdrawn = ", ".join(r[1] for r in last if r[2] == "withdrawn")
        status = ("rejected" if rejected else "loaded") if fresh else "unchanged"
        fresh_any = fresh_any or fresh
        if all(r[2] == "withdrawn" for r in last):
            status, withdrawn = "withdrawn", ""
            used = say("source_removed_now" if fresh else "source_removed", files=", ".join(r[1] for r in last))
        text = say("source_line", source=source.id, status=say(f"source_status.{status}"), files=used)
        if status == "loaded":
            figures, units = con.execute(
                "SELECT count(*), count(DISTINCT unit_code) FILTER (WHERE unit_kind NOT IN ('province', 'subtotal')) "
                "FROM staging.observations WHERE period = ? AND source = ?", [period, source.id]).fetchone()
            text += say("source_figures", figures=figures, units=units)
        if rejected:                 # a refused file leaves the last good load published: say which files
            kept = _kept_files(con, period, source.id)
            text += say("source_kept", files=kept) if kept else ""
        elif superseded:
            text += say("source_superseded", files=superseded)
        if withdrawn:
            text += say("source_withdrawn", files=withdrawn)
        if status == "loaded":
            text += _parts_line(con, [r[5] for r in last if r[2] == "loaded"])
        if rejected:
            rejected_any = True
            # the refused files' own reasons; a sound file held back with them is said only when alone
            message = "; ".join(r[3] or "" for r in rejected if r[3] != warehouse.HELD_BACK) or warehouse.HELD_BACK
            message = message if fresh else say("source_rejected_unchanged", message=message)
            text += "\n      " + message.replace("\n", "\n      ")
        lines.append(text)
    return lines, rejected_any, fresh_any


def _kept_files(con, period: str, source: str) -> str:
    """The files whose figures the warehouse holds for the source-month (after a refused re-send)."""
    rows = con.execute("""
        SELECT DISTINCT d.file_name FROM staging.observations o JOIN raw.deliveries d USING (delivery_id)
        WHERE o.period = ? AND o.source = ? ORDER BY 1""", [period, source]).fetchall()
    return ", ".join(name for name, in rows)


def _parts_line(con, delivery_ids: list[int]) -> str:
    """Which file supplies which part, when several files are in use or a file was re-sent in part."""
    if not _has(con, "raw", "delivery_parts"):
        return ""
    rows = con.execute("""SELECT d.file_name, p.sheet, p.units_supplied, p.units_superseded, p.superseded_by
                          FROM raw.delivery_parts p JOIN raw.deliveries d USING (delivery_id)
                          WHERE p.delivery_id IN (SELECT unnest(?::BIGINT[])) ORDER BY d.file_name, p.sheet""",
                       [delivery_ids]).fetchall()
    if len({r[0] for r in rows}) < 2 and not any(r[3] for r in rows):
        return ""
    parts = [say("part", file=f, sheet=sheet, units=n) + (say("part_resent", units=gone, by=by) if gone else "")
             for f, sheet, n, gone, by in rows]
    return say("parts", parts="; ".join(parts))


def _print_summary(periods: list[str], started, ran: list[str]) -> int:
    """What every month holds now, from the warehouse: the same whether this run did the work or found
    nothing changed. Exit code 1 when a delivery of these months stands rejected."""
    con = _connect_read_only()
    if con is None:
        from p06 import warehouse
        with warehouse.connect() as writable:
            return _summary_lines(writable, periods, started, ran)
    try:
        return _summary_lines(con, periods, started, ran)
    finally:
        con.close()


def _summary_lines(con, periods: list[str], started, ran: list[str]) -> int:
    exit_code = 0
    outputs = []
    changed = None                   # the first month of this run with a new delivery
    from p06.publish import vintages
    served = vintages.unchecked(con)     # months whose last publication did not pass its checks
    for period in periods:
        lines, rejected, fresh = _source_lines(con, period, started)
        changed = changed or (period if period in ran and fresh else None)
        if period in ran and not fresh and changed:
            print("\n" + say("run_republished", period=period, changed=changed))
        else:
            print("\n" + say("run_month", period=period))
        print("\n".join(lines))
        if not _delivered(con, period):
            print(say("no_delivery", period=period))
            continue
        print("\n".join(_findings_summary(con, period)))
        print("\n".join(findings_cmd.summary_lines(con, period)))          # vintage, findings accepted
        if period in served:
            print(say("not_checked", served=say("served_vintage", vintage=served[period]) if served[period]
                      else say("served_nothing")))
        exit_code = max(exit_code, 1 if rejected else 0)
        exported = config.warehouse_dir() / "exports" / period
        if (exported / f"DA06_{period}.xlsx").exists():
            outputs.append((period, exported))
    for period, folder in outputs:
        print("\n" + say("outputs", period=period, folder=folder))
    if outputs:
        print("\n" + say("analysts_copy", path=config.analyst_copy_path()))
        docs = config.warehouse_dir() / "gx" / "data_docs" / "index.html"
        if docs.exists():
            print(say("data_docs", path=docs))
    return exit_code


def _delivered(con, period: str) -> bool:
    """The month has at least one delivery on record (loaded, rejected or superseded)."""
    return _has(con, "raw", "deliveries") and bool(
        con.execute("SELECT count(*) FROM raw.deliveries WHERE period = ?", [period]).fetchall()[0][0])


def _findings_summary(con, period: str) -> list[str]:
    if not _has(con, "marts", "reconciliation_findings"):
        return []
    rows = con.execute("""SELECT severity, source, unit_code, rule_id, message_en, message_vi, unit_name
                          FROM marts.reconciliation_findings
                          WHERE period = ? ORDER BY severity, source, rule_id, unit_code""", [period]).fetchall()
    errors = [r for r in rows if r[0] == "error"]
    warnings = [r for r in rows if r[0] == "warning"]
    out = [say("findings_count", errors=len(errors), warnings=len(warnings))]
    sources = catalog.sources()
    for sev, source, unit, rule, message_en, message_vi, unit_name in errors + warnings[:15]:
        department = sources[source].department_vi if source in sources else source
        out.append(say("finding_line", severity=say(f"severity.{sev}") if sev in ("error", "warning") else sev,
                       source=source, department=department, unit=unit if language() == "en" else (unit_name or unit),
                       rule=rule, message=message_en if language() == "en" else message_vi))
    if len(warnings) > 15:
        out.append(say("findings_more", count=len(warnings) - 15, period=period))
    return out


def _guess_source(path: Path) -> str | None:
    return path.parent.name if path.parent.name in catalog.sources() else None


class HistoryUnavailable(RuntimeError):
    """The month-over-month rules cannot run on this delivery: the message names them and says why."""


def _history_rules(source_id: str) -> list[str]:
    from p06.reconcile.rules import HISTORY_KINDS, load_rules
    return [r.id for r in load_rules() if r.kind in HISTORY_KINDS and source_id in r.sources]


def _history(source_id: str, period: str):
    """Earlier months of a source from the analysts' copy (so stock rules can run before filing): a frame, or None
    when there is no copy yet (nothing to compare with: the rules are skipped, and `p06 check` says so). A copy
    that cannot be read (another province's, locked, damaged) raises HistoryUnavailable naming the rules."""
    path = config.analyst_copy_path()
    if not path.exists():
        return None
    try:
        with warehouse.connect(path, read_only=True, wait_seconds=0) as con:
            warehouse.check_province(con, path)           # another province's history compares nothing
            return warehouse.frame(con, "SELECT * FROM staging.observations WHERE source = ? AND period < ?", [source_id, period])
    except Exception as exc:  # noqa: BLE001 (any failure is reported, naming the rules it stops)
        raise HistoryUnavailable(f"the month-over-month rules ({', '.join(_history_rules(source_id)) or 'none'}) cannot "
                                 f"run: the earlier months could not be read from {path}: {exc}") from exc


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
    active, _, frame, problems, _ = read_delivery([path], source, period)
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
    try:
        history = _history(source_id, period)
    except HistoryUnavailable as exc:
        print(f"  error: {exc}", file=sys.stderr)
        return 2
    if history is None and _history_rules(source_id):
        print(f"  not run (no analysts' copy with earlier months yet): {', '.join(_history_rules(source_id))}")
    result = check_delivery(frame, history=history)
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
    from p06.lock import writer_lock
    from p06.publish.comments import (
        apply_comments,
        missing_comments,
        write_data_dictionary,
    )
    with writer_lock(config.warehouse_dir()), warehouse.connect() as con:
        apply_comments(con)
        missing = missing_comments(con)
        path = write_data_dictionary(con, config.REPO_DIR / "docs")
    print(f"wrote {path}")
    print(f"wrote {write_declarations_doc(config.REPO_DIR / 'docs')}")
    if missing:
        print("no comment yet (add them to catalog/dictionary.yaml): " + ", ".join(missing), file=sys.stderr)
        return 1
    return 0


def cmd_report(args) -> int:
    """The Word report (and Markdown draft) of a month, quarter, half-year, nine months or year."""
    from p06 import report_periods
    from p06.documents.period_report import NothingPublished, write_period_report
    try:
        label = report_periods.parse(args.period).label
    except report_periods.PeriodLabelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not config.warehouse_path().exists():
        print(f"error: no warehouse at {config.warehouse_path()}: run `p06 run` first", file=sys.stderr)
        return 1
    from p06.lock import writer_lock
    with writer_lock(config.warehouse_dir()), warehouse.connect() as con:    # it writes marts.indicator_period
        try:
            out = write_period_report(con, label, config.warehouse_dir())
        except NothingPublished as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    print(f"{label}: {out['word']}")
    print(f"{label}: {out['report']}")
    if "workbook" in out:
        print(f"{label}: {out['workbook']}")
    if out["months_missing"]:
        print(f"{label}: partial, months without figures: {', '.join(out['months_missing'])}")
    return 0


def _show(value) -> str:
    return "" if value is None else str(value)


def main(argv: list[str] | None = None) -> int:
    import warnings
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")    # nothing leaves the machine unless a person asks
    warnings.filterwarnings("ignore", message=".*(preview|beta|experimental).*", category=Warning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    parser = argparse.ArgumentParser(prog="p06", description="Project 06 monthly indicators pipeline", epilog=USAGE,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
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
    findings_cmd.add_parser(sub)
    report = sub.add_parser("report", help="write the Word report of a month, quarter, half-year, nine months or year")
    report.add_argument("--period", required=True, help="2023-09, 2023-Q3, 2023-H1, 2023-9M or 2023")
    national_cmd.add_parser(sub)
    args = parser.parse_args(argv)
    command = {"run": cmd_run, "check": cmd_check, "sql": cmd_sql, "docs": cmd_docs, "report": cmd_report,
               "findings": findings_cmd.cmd_findings, "national": national_cmd.cmd_national}[args.command]
    try:
        return command(args)
    except BrokenPipeError:              # `p06 findings | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())     # no second error when Python flushes
        return 0


if __name__ == "__main__":
    sys.exit(main())
