"""Load a source-month from the landing zone into the warehouse, all or nothing.

raw/<YYYY-MM>/<source>/ may hold several files: parts of one delivery (one per table, per group of
units) and re-sends, which supersede what older files supplied per table and unit (p06.ingest.parts).
The figures of the files in use replace the source-month in staging in one transaction; any problem
rejects the whole source-month and leaves the previous good load in place. Files already processed with
the same declarations are skipped as unchanged. A folder emptied withdraws its delivery (its figures
leave staging, its records say 'withdrawn'); a file removed withdraws what it supplied.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from p06 import catalog, staging
from p06.catalog import Source
from p06.ingest.first_seen import first_seen
from p06.ingest.parts import Part, assemble, describe
from p06.ingest.problems import Problem, summarize
from p06.ingest.reader import FileRead, read_file
from p06.ingest.schema import schema_problems
from p06.ingest.workbook import cell_ref

# The landing zone (files, fingerprints) lives in p06.landing, light to import; re-exported here.
from p06.landing import PERIOD, READER_VERSION, DeliveryFile, delivery_files, fingerprint, is_delivery_file, landing_periods  # noqa: F401
from p06.warehouse import HELD_BACK, transaction

log = logging.getLogger(__name__)
STAGING_COLUMNS = staging.NAMES


@dataclass
class LoadResult:
    source: str
    period: str
    status: str                      # loaded | unchanged | rejected | withdrawn | missing | not_expected
    message: str = ""
    files: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)     # files removed from the folder since the last load
    parts: dict[str, str] = field(default_factory=dict)    # file -> what it supplies (several files in use)
    rows: int = 0
    units: int = 0
    measures: list[str] = field(default_factory=list)
    as_of_date: date | None = None
    problems: list[Problem] = field(default_factory=list)
    preview: pl.DataFrame | None = None

    @property
    def rejected(self) -> bool:
        return self.status == "rejected" or (self.status == "unchanged" and bool(self.problems or self.message.startswith("rejected")))

    def line(self) -> str:
        files = ", ".join(self.files) or "-"
        head = f"{self.period} {self.source:<14} {self.status:<9} {files}"
        if self.status == "loaded":
            head += f": {self.rows} figures, {self.units} units, {len(self.measures)} measures"
        if self.superseded:
            head += f" (superseded: {', '.join(self.superseded)})"
        if self.withdrawn:
            head += f" (withdrawn: {', '.join(self.withdrawn)})"
        if self.parts:
            head += "\n    parts: " + "; ".join(f"{f}: {what}" for f, what in self.parts.items())
        if self.message and self.status != "loaded":
            head += "\n    " + self.message.replace("\n", "\n    ")
        return head


def _last_processing(con: duckdb.DuckDBPyConnection, source: str, period: str) -> list[tuple]:
    return con.execute(
        """SELECT file_name, status, message, fingerprint, as_of_date FROM raw.deliveries
           WHERE source = ? AND period = ? AND processed_at = (
               SELECT max(processed_at) FROM raw.deliveries WHERE source = ? AND period = ?)""",
        [source, period, source, period]).fetchall()


def read_delivery(files: list[Path], source: Source, period: str | None, seen: list[datetime] | None = None,
                  ) -> tuple[list[FileRead], list[FileRead], pl.DataFrame, list[Problem], list[Part]]:
    """Read a source-month's files (newest first; `seen`: when each was first seen) as one delivery
    (`p06.ingest.parts`): (reads in use, reads wholly superseded, observations, problems, parts).

    A re-send supersedes what an older file supplied per table and unit, so two versions of one table are
    never mixed for a unit; the older file's other tables and units stay in use.
    """
    reads = [_read_safely(p, source, period) for p in files]
    active, superseded, parts, conflicts = assemble(reads, seen)
    problems = conflicts + [p for r in active for p in r.problems]
    # A sheet left blank (its header, no rows) counts when no table in use delivers its measures.
    delivered = {m for r in active for m in r.measures}
    blank = [(t, p) for r in active if r.tables for t, p in r.empty if t.measures - delivered]
    problems += [p for _, p in blank]
    if not any(r.unreadable for r in active):
        problems += _missing_required(active, source, skip={m for t, _ in blank for m in t.measures})
    frame = _observation_frame([o for r in active for o in r.observations], source.id, period)
    if not problems:
        problems = schema_problems(frame, source)
    if not frame.is_empty() and len({r.as_of_date for r in active if r.as_of_date}) > 1:
        problems.append(Problem(", ".join(r.file for r in active), "files of the same month give different as-of dates",
                                expected="one cut-off date for the source-month"))
    return active, superseded, frame, problems, parts


def _read_safely(path: Path, source: Source, period: str | None) -> FileRead:
    """read_file, with an unexpected failure turned into a rejection of this file only. The reader refuses
    bad files with problems of its own, so an exception here is a bug in our code, and says so: it is not
    the department's file that is at fault (the traceback goes to the log)."""
    try:
        return read_file(path, source, period)
    except Exception as exc:  # noqa: BLE001 (the other sources of the month must carry on)
        log.exception("internal error reading %s", path)
        return FileRead(path.name, unreadable=True, problems=[Problem(
            path.name, f"internal error reading {path.name}: {type(exc).__name__}: {exc}; this is a bug in the "
                       f"pipeline, please report it with the file attached")])


def _missing_required(active: list[FileRead], source: Source, skip: set[str] = frozenset()) -> list[Problem]:
    """A required measure no table of the delivery has, named with the header row where it belongs:
    the table holding the measures it forms a ratio with, or the only table; else every table searched.
    Measures of `skip` (their table is reported otherwise) are left out."""
    tables = [(r.file, t) for r in active for t in r.tables]
    found = {m for _, t in tables for m in t.measures} | skip
    problems = []
    for m in source.measures:
        if not m.required or m.id in found:
            continue
        expected = f"a column headed '{' > '.join(m.headers[0])}' (or another declared header of {m.id})"
        related = {part for r in source.measures if r.ratio_of and m.id in r.ratio_of for part in (r.id, *r.ratio_of)}
        home = [(f, t) for f, t in tables if t.measures & related] or (tables if len(tables) == 1 else [])
        if len(home) == 1:
            (file, table), = home
            problems.append(Problem(file, f"required column '{m.label_vi}' not found in the header", sheet=table.sheet,
                                    row=table.header_row, expected=expected))
        elif tables:
            searched = ", ".join(f"{f} '{t.sheet}' (header row {t.header_row})" for f, t in tables)
            problems.append(Problem(tables[0][0], f"required column '{m.label_vi}' not found in any table: {searched}",
                                    expected=expected))
    return problems


def _observation_frame(rows: list[dict], source_id: str, period: str | None) -> pl.DataFrame:
    schema = staging.read_schema()
    frame = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
    return frame.with_columns(pl.lit(period, pl.Utf8).alias("period"), pl.lit(source_id).alias("source"))


def _cells_frame(read: FileRead, delivery_id: int) -> pl.DataFrame:
    records = [
        (delivery_id, grid.sheet, cell_ref(r, c), r + 1, c + 1, str(v))
        for grid in read.grids for r, row in enumerate(grid.rows) for c, v in enumerate(row) if v is not None
    ]
    return pl.DataFrame(records, schema=["delivery_id", "sheet", "cell", "row_number", "column_number", "value"], orient="row")


def _record(con, file: DeliveryFile, source: str, period: str, status: str, message: str | None,
            as_of: date | None, fp: str, now: datetime) -> int:
    return con.execute(
        """INSERT INTO raw.deliveries (period, source, path, file_name, sha256, size_bytes, received_at, processed_at,
                                       as_of_date, status, message, fingerprint, first_seen_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING delivery_id""",
        [period, source, file.relative, file.path.name, file.sha256, file.size, file.received_at, now, as_of, status,
         message, fp, file.first_seen_at or now]).fetchone()[0]


def ingest_source_month(con: duckdb.DuckDBPyConnection, raw_dir: Path, source: Source, period: str, *, force: bool = False) -> LoadResult:
    """Load one source-month: skipped when unchanged; else its files are read and either replace the
    source-month in staging or are recorded as rejected (the last good load stays), in one transaction."""
    return ingest_source_months(con, raw_dir, source, [period], force=force)[0]


def ingest_source_months(con: duckdb.DuckDBPyConnection, raw_dir: Path, source: Source, periods: list[str], *,
                         force: bool = False) -> list[LoadResult]:
    """`ingest_source_month` of each month, in order; the files of several months are read two at a time
    (`p06.pool`), each month still loaded in its own transaction in this process."""
    from p06 import pool
    plans = [_plan(con, raw_dir, source, period, force) for period in periods]
    jobs = [([f.path for f in plan[0]], source, period, [f.first_seen_at for f in plan[0]])
            for period, plan in zip(periods, plans) if not isinstance(plan, LoadResult)]
    reads = pool.in_pairs("p06.ingest.load:read_delivery", jobs)
    return [plan if isinstance(plan, LoadResult) else _load(con, source, period, *plan, next(reads))
            for period, plan in zip(periods, plans)]


def _plan(con: duckdb.DuckDBPyConnection, raw_dir: Path, source: Source, period: str,
          force: bool) -> LoadResult | tuple[list[DeliveryFile], str]:
    """What a source-month needs: its result when there is nothing to read (missing, unchanged), else its
    files and their fingerprint."""
    files = delivery_files(raw_dir, source.id, period)
    last = _last_processing(con, source.id, period)
    if not files:
        if last and all(row[1] == "withdrawn" for row in last):
            return LoadResult(source.id, period, "withdrawn", message=f"no file in raw/{period}/{source.id}/ since its "
                              f"delivery was withdrawn ({', '.join(sorted({r[0] for r in last}))})")
        if last:
            return _withdraw(con, source, period)
        if not source.expected_in(period):
            return LoadResult(source.id, period, "not_expected", message=f"not expected in {period} "
                              f"(expected from {source.expected_from or 'the start'} until {source.expected_until or 'now'})")
        return LoadResult(source.id, period, "missing", message=f"no file in raw/{period}/{source.id}/")
    fp = fingerprint(files, source)
    if not force and last and all(row[3] == fp for row in last):
        rejected = [row for row in last if row[1] == "rejected"]
        message = ("rejected, unchanged since: " + "; ".join(row[2] or "" for row in rejected)) if rejected else "unchanged since the last load"
        return LoadResult(source.id, period, "unchanged", message=message,
                          files=[r[0] for r in last if r[1] not in ("superseded", "withdrawn")],
                          superseded=[r[0] for r in last if r[1] == "superseded"], as_of_date=last[0][4])
    return first_seen(con, files, datetime.now()), fp      # newest first by when each file was first seen


WITHDRAWN = "removed from the landing zone: what it supplied is withdrawn"


def _withdraw(con: duckdb.DuckDBPyConnection, source: Source, period: str) -> LoadResult:
    """The source-month's folder is empty (or gone): its delivery is withdrawn. Its figures leave staging,
    the files of its last processing are recorded again as 'withdrawn' (the run's line and completeness say
    so), and the records that were in use say 'withdrawn' too; in one transaction."""
    now, fp = datetime.now(), fingerprint([], source)
    with transaction(con):
        files = [f for (f,) in con.execute(
            "SELECT file_name FROM raw.deliveries WHERE source = ? AND period = ? AND status = 'loaded' ORDER BY ALL",
            [source.id, period]).fetchall()]
        con.execute("UPDATE raw.deliveries SET status = 'withdrawn' WHERE source = ? AND period = ? AND status = 'loaded'",
                    [source.id, period])
        con.execute("""
            INSERT INTO raw.deliveries (period, source, path, file_name, sha256, size_bytes, received_at, processed_at,
                                        as_of_date, status, message, fingerprint, first_seen_at)
            SELECT DISTINCT ON (path) period, source, path, file_name, sha256, size_bytes, received_at, ?, as_of_date,
                   'withdrawn', ?, ?, first_seen_at
            FROM raw.deliveries d WHERE source = ? AND period = ? AND processed_at = (
                SELECT max(processed_at) FROM raw.deliveries WHERE source = d.source AND period = d.period)
            ORDER BY path""", [now, WITHDRAWN, fp, source.id, period])
        con.execute("DELETE FROM staging.observations WHERE source = ? AND period = ?", [source.id, period])
    return LoadResult(source.id, period, "withdrawn", withdrawn=files,
                      message=f"no file in raw/{period}/{source.id}/: the delivery is withdrawn "
                              f"({', '.join(files) or 'nothing was in use'}); its figures leave the publication")


def _load(con: duckdb.DuckDBPyConnection, source: Source, period: str, files: list[DeliveryFile], fp: str,
          read: tuple) -> LoadResult:
    """Record a read source-month (`read_delivery`'s answer): staged, or rejected, in one transaction."""
    now = datetime.now()
    by_name = {f.path.name: f for f in files}
    active, superseded, frame, problems, parts = read
    as_of = next((r.as_of_date for r in active if r.as_of_date), None)
    result = LoadResult(source.id, period, "rejected" if problems else "loaded", files=[r.file for r in active],
                        superseded=[r.file for r in superseded], as_of_date=as_of, problems=problems)
    if len(active) > 1 or any(p.superseded for p in parts):
        result.parts = {r.file: describe(parts, r.file) or "-" for r in active}
    with transaction(con):
        if problems:
            result.message = summarize(problems)
            for read in active:
                own = [p for p in problems if read.file in p.file.split(", ")]
                message = summarize(own) if own else HELD_BACK
                delivery_id = _record(con, by_name[read.file], source.id, period, "rejected", message, read.as_of_date, fp, now)
                _insert_cells(con, read, delivery_id)
            for read in superseded:
                _record(con, by_name[read.file], source.id, period, "superseded", "newer files cover all it supplied", read.as_of_date, fp, now)
            return result
        result.withdrawn = _withdraw_removed(con, source.id, period, [f.relative for f in files], fp, now)
        con.execute("UPDATE raw.deliveries SET status = 'superseded' WHERE source = ? AND period = ? AND status = 'loaded'",
                    [source.id, period])
        ids = {}
        for read in active:
            notes = "\n".join(read.all_notes()) or None        # what was seen and not read, for the record
            ids[read.file] = _record(con, by_name[read.file], source.id, period, "loaded", notes, read.as_of_date, fp, now)
            _insert_cells(con, read, ids[read.file])
        for read in superseded:
            _record(con, by_name[read.file], source.id, period, "superseded", "newer files cover all it supplied", read.as_of_date, fp, now)
        _insert_parts(con, parts, ids)
        staged = frame.with_columns(pl.col("file").replace_strict(ids, return_dtype=pl.Int64).alias("delivery_id")).select(STAGING_COLUMNS)
        con.execute("DELETE FROM staging.observations WHERE source = ? AND period = ?", [source.id, period])
        con.register("staged_observations", staged.to_arrow())
        con.execute(f"INSERT INTO staging.observations ({', '.join(STAGING_COLUMNS)}) "
                    f"SELECT {', '.join(STAGING_COLUMNS)} FROM staged_observations")
        con.unregister("staged_observations")
    result.rows = frame.height
    result.units = frame.filter(~pl.col("unit_kind").is_in(["province", "subtotal"]))["unit_code"].n_unique()
    result.measures = sorted(frame["measure"].unique().to_list())
    result.preview = frame.filter(pl.col("unit_kind") == "province").select("unit_name", "measure", "value", "cell").head(10)
    return result


def _withdraw_removed(con, source: str, period: str, present: list[str], fp: str, now: datetime) -> list[str]:
    """Files in use until now that are no longer in the folder: what they supplied is withdrawn. Their records
    say 'withdrawn', and one more record each (this processing) says so for the run's line."""
    gone = con.execute("SELECT DISTINCT file_name, path FROM raw.deliveries WHERE source = ? AND period = ? AND status = 'loaded' "
                       "AND path NOT IN (SELECT unnest(?::VARCHAR[])) ORDER BY ALL", [source, period, present]).fetchall()
    if not gone:
        return []
    paths = [p for _, p in gone]
    con.execute("""
        INSERT INTO raw.deliveries (period, source, path, file_name, sha256, size_bytes, received_at, processed_at,
                                    as_of_date, status, message, fingerprint, first_seen_at)
        SELECT period, source, path, file_name, sha256, size_bytes, received_at, ?, as_of_date, 'withdrawn', ?, ?, first_seen_at
        FROM raw.deliveries WHERE source = ? AND period = ? AND status = 'loaded' AND path IN (SELECT unnest(?::VARCHAR[]))""",
                [now, WITHDRAWN, fp, source, period, paths])
    con.execute("UPDATE raw.deliveries SET status = 'withdrawn' WHERE source = ? AND period = ? AND status = 'loaded' "
                "AND path IN (SELECT unnest(?::VARCHAR[]))", [source, period, paths])
    return [f for f, _ in gone]


def _insert_parts(con, parts: list[Part], ids: dict[str, int]) -> None:
    """raw.delivery_parts: what each file in use supplies, per table."""
    rows = [(ids[p.file], p.sheet, sorted(p.measures), len(p.in_use), len(p.superseded),
             ", ".join(sorted(p.superseded_by)) or None) for p in parts if p.file in ids]
    if rows:
        con.executemany("INSERT INTO raw.delivery_parts VALUES (?, ?, ?, ?, ?, ?)", rows)


def _insert_cells(con, read: FileRead, delivery_id: int) -> None:
    cells = _cells_frame(read, delivery_id)
    if cells.is_empty():
        return
    con.register("delivered_cells", cells.to_arrow())
    con.execute("INSERT INTO raw.cells (delivery_id, sheet, cell, row_number, column_number, value) "
                "SELECT delivery_id, sheet, cell, row_number, column_number, value FROM delivered_cells")
    con.unregister("delivered_cells")


def ingest_period(con: duckdb.DuckDBPyConnection, raw_dir: Path, period: str, sources: list[str] | None = None) -> list[LoadResult]:
    """Load every declared source of a month; a bad delivery never stops the others."""
    declared = catalog.sources()
    return [ingest_source_month(con, Path(raw_dir), declared[s], period) for s in (sources or declared)]
