"""The national warehouse (`p06_national.duckdb`): the provinces' copies received, and the marts built from them.

`receive(con, copies)` files the copies of one call, in one transaction:
- a copy whose province is not one of today's (a pre-merger code), a copy that does not say its province, and two
  copies claiming one province in the same call are refused (naming the files), nothing of them is kept;
- each month of an accepted copy is compared with the month held for its province: a newer vintage (or a month not
  held yet) replaces the province's rows of that month; the same vintage is `unchanged`; an older vintage is
  ignored with a message (the held one stays); the same vintage number published at another time is refused
  (two warehouses of one province?).
Every month of every copy received is kept in `marts.province_publications_history` with what became of it;
`marts.province_publications` is the vintage in use per province and month, `received.province_rows` its rows.

Then `p06.national.marts.build` rebuilds the national marts from the rows in use, in the same transaction.
"""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

import duckdb
import polars as pl

from p06.lock import writer_lock
from p06.national import copies as copies_mod
from p06.national import marts, provinces
from p06.national.copies import ProvinceCopy
from p06.publish.atomic import durable_replace, temp_name
from p06.publish.indicator_catalog import load as indicator_catalog

DDL = """
CREATE SCHEMA IF NOT EXISTS received;
CREATE SCHEMA IF NOT EXISTS marts;
CREATE TABLE IF NOT EXISTS received.province_rows (
    province_code VARCHAR NOT NULL, period VARCHAR NOT NULL, vintage INTEGER NOT NULL, copy_sha256 VARCHAR NOT NULL,
    as_of_date DATE, indicator_code VARCHAR NOT NULL, numerator DOUBLE, denominator DOUBLE, target DOUBLE,
    value DOUBLE, previous_value DOUBLE, quality VARCHAR, units_reporting INTEGER, units_expected INTEGER
);
CREATE TABLE IF NOT EXISTS marts.province_publications (
    province_code VARCHAR NOT NULL, province_name VARCHAR NOT NULL, period VARCHAR NOT NULL,
    vintage INTEGER NOT NULL, published_at TIMESTAMP NOT NULL, copy_sha256 VARCHAR NOT NULL,
    copy_file VARCHAR NOT NULL, received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (province_code, period)
);
CREATE TABLE IF NOT EXISTS marts.province_publications_history (
    province_code VARCHAR, province_name VARCHAR, period VARCHAR, vintage INTEGER, published_at TIMESTAMP,
    copy_sha256 VARCHAR NOT NULL, copy_file VARCHAR NOT NULL, received_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,     -- in_use | replaced | unchanged | older_ignored | refused
    message VARCHAR
);
CREATE TABLE IF NOT EXISTS marts.national_build (
    built_at TIMESTAMP NOT NULL, provinces INTEGER NOT NULL, copies VARCHAR NOT NULL,
    accepted INTEGER NOT NULL, refused INTEGER NOT NULL
);
"""
FILE = "p06_national.duckdb"
HISTORY = "marts.province_publications_history"
IN_USE = "marts.province_publications"


@dataclass
class Outcome:
    """What became of one copy of the call."""
    path: Path
    province_code: str | None = None
    sha256: str | None = None
    refused: str | None = None                                   # why the whole copy was refused
    months: dict[str, str] = field(default_factory=dict)         # period -> in_use | unchanged | older_ignored | refused
    messages: list[str] = field(default_factory=list)


def connect(out_dir: Path) -> duckdb.DuckDBPyConnection:
    """The national warehouse `out_dir/p06_national.duckdb` itself, read-write, created on first use."""
    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(out_dir / FILE))
    con.execute(DDL)
    return con


@contextmanager
def updating(out_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the next version of the national warehouse: under the folder's writer lock
    (p06.lock, one build at a time), the current file is copied aside, updated, closed and renamed over it
    (p06.publish.atomic), so that readers (the dashboard) never wait and never see half a build; on an error the
    current file stays as it was."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with writer_lock(out_dir):
        dest = out_dir / FILE
        tmp = temp_name(dest)
        tmp.unlink(missing_ok=True)
        if dest.exists():
            shutil.copyfile(dest, tmp)
        try:
            con = duckdb.connect(str(tmp))
            try:
                con.execute(DDL)
                yield con
                con.execute("CHECKPOINT")
            finally:
                con.close()
            durable_replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
            tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)


def _refuse_duplicates(read: list[tuple[Outcome, ProvinceCopy]]) -> None:
    by_province: dict[str, list[tuple[Outcome, ProvinceCopy]]] = {}
    for outcome, copy in read:
        by_province.setdefault(copy.province_code, []).append((outcome, copy))
    for code, claims in by_province.items():
        if len(claims) > 1:
            files = " and ".join(str(o.path) for o, _ in claims)
            for outcome, _ in claims:
                outcome.refused = (f"{outcome.path}: {len(claims)} copies claim {provinces.name(code)} ({code}) in "
                                   f"one call: {files}; send one copy per province")


def _record(con, copy: ProvinceCopy, outcome: Outcome, period: str, status: str, message: str | None,
            received_at: datetime) -> None:
    vintage, published_at = copy.months.get(period, (None, None))
    con.execute(f"INSERT INTO {HISTORY} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [copy.province_code, provinces.name(copy.province_code) if copy.province_code else None, period,
                 vintage, published_at, copy.sha256, str(copy.path), received_at, status, message])
    outcome.months[period] = status
    if message:
        outcome.messages.append(message)


def _file_month(con, copy: ProvinceCopy, outcome: Outcome, period: str, received_at: datetime) -> None:
    code, (vintage, published_at) = copy.province_code, copy.months[period]
    held = con.execute(f"SELECT vintage, published_at, copy_file FROM {IN_USE} WHERE province_code = ? AND period = ?",
                       [code, period]).fetchone()
    name = provinces.name(code)
    if held is not None and vintage < held[0]:
        _record(con, copy, outcome, period, "older_ignored",
                f"{copy.path}: {name} {period}: vintage {vintage} is older than vintage {held[0]} held "
                f"(from {held[2]}); ignored, vintage {held[0]} stays in use", received_at)
        return
    if held is not None and vintage == held[0]:
        if published_at == held[1]:
            _record(con, copy, outcome, period, "unchanged", None, received_at)
        else:
            _record(con, copy, outcome, period, "refused",
                    f"{copy.path}: {name} {period}: vintage {vintage} published {published_at:%d/%m/%Y %H:%M}, but "
                    f"the vintage {vintage} held (from {held[2]}) was published {held[1]:%d/%m/%Y %H:%M}: two "
                    "warehouses of one province? refused, the held one stays in use", received_at)
        return
    con.execute("DELETE FROM received.province_rows WHERE province_code = ? AND period = ?", [code, period])
    rows = copy.rows.filter(pl.col("period") == period).with_columns(
        pl.lit(code).alias("province_code"), pl.lit(vintage).cast(pl.Int32).alias("vintage"),
        pl.lit(copy.sha256).alias("copy_sha256"))
    con.register("_national_rows", rows.to_arrow())
    try:
        con.execute("INSERT INTO received.province_rows BY NAME SELECT * FROM _national_rows")
    finally:
        con.unregister("_national_rows")
    con.execute(f"UPDATE {HISTORY} SET status = 'replaced' WHERE province_code = ? AND period = ? AND status = 'in_use'",
                [code, period])
    con.execute(f"INSERT OR REPLACE INTO {IN_USE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [code, name, period, vintage, published_at, copy.sha256, str(copy.path), received_at])
    message = (f"{copy.path}: {name} {period}: vintage {vintage} replaces vintage {held[0]}" if held is not None else None)
    _record(con, copy, outcome, period, "in_use", message, received_at)


def receive(con: duckdb.DuckDBPyConnection, paths: list[Path], received_at: datetime | None = None) -> list[Outcome]:
    """File the copies of one call (see the module's docstring); returns what became of each."""
    received_at = received_at or datetime.now()
    outcomes, read = [], []
    for path in paths:
        outcome = Outcome(path=Path(path))
        outcomes.append(outcome)
        try:
            copy = copies_mod.read(Path(path))
            outcome.province_code, outcome.sha256 = copy.province_code, copy.sha256
            provinces.check(copy.province_code, str(path))
        except (copies_mod.UnreadableCopy, provinces.RefusedProvince) as exc:
            outcome.refused = str(exc)
            continue
        read.append((outcome, copy))
    _refuse_duplicates(read)
    catalog_codes = set(indicator_catalog().indicators)
    con.execute("BEGIN TRANSACTION")
    try:
        for outcome in outcomes:
            if outcome.refused and outcome.sha256:
                con.execute(f"INSERT INTO {HISTORY} VALUES (?, ?, NULL, NULL, NULL, ?, ?, ?, 'refused', ?)",
                            [outcome.province_code, provinces.name(outcome.province_code) if outcome.province_code
                             else None, outcome.sha256, str(outcome.path), received_at, outcome.refused])
        for outcome, copy in read:
            if outcome.refused:
                continue
            unknown = sorted(set(copy.rows["indicator_code"].to_list()) - catalog_codes)
            if unknown:
                outcome.messages.append(f"{copy.path}: indicators not in catalog/indicators.yaml left aside: "
                                        f"{', '.join(unknown)}")
                copy = ProvinceCopy(copy.path, copy.sha256, copy.province_code, copy.months,
                                    copy.rows.filter(pl.col("indicator_code").is_in(sorted(catalog_codes))))
            for period in sorted(copy.months):
                _file_month(con, copy, outcome, period, received_at)
        marts.build(con, [str(o.path) for o in outcomes], sum(1 for o in outcomes if o.refused), received_at)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return outcomes
