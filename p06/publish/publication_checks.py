"""The checks of a publication declared in checks/publication.yaml: each a query over the warehouse whose rows
one Great Expectations expectation judges (see the file's header for its fields).

`check_frames` runs the queries for the months validated (in the run's process, on its connection);
`expectations` turns each check into its expectation. Light on imports: Great Expectations is imported only
by `expectations`, which runs where the validation runs (possibly the gx_worker process).
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Iterator, Literal

import duckdb
import pandas as pd
import polars as pl
from pydantic import Field, model_validator

from p06 import catalog, config, periods, reference
from p06.declared.base import Declared, read_yaml, shown, validate
from p06.publish.indicator_catalog import indicators
from p06.warehouse import has_table

CHECKS_FILE = config.CHECKS_DIR / "publication.yaml"
PREFIX = "check_"


class Expect(Declared):
    """What the rows of a check must satisfy: a column within bounds, or no row at all."""

    column: str | None = None
    """The column judged (a gap, an excess or a defect: 0 when right)."""
    min: float | Literal["tolerance"] | None = None
    """Smallest value allowed; `tolerance`: the file's tolerance."""
    max: float | Literal["tolerance"] | None = None
    """Largest value allowed; `tolerance`: the file's tolerance."""
    rows: Literal[0] | None = None
    """0: the query lists offending rows and must return none."""

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.column is None) == (self.rows is None):
            raise ValueError("give either `column` (with min/max) or `rows: 0`")
        return self


class Check(Declared):
    """One check of a publication."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """Stable identifier."""
    table: str
    """The published table it vouches for."""
    description: str = Field(min_length=1)
    """What it checks."""
    sql: str = Field(min_length=1)
    """A DuckDB query, one row per thing checked; $periods: the months validated."""
    expect: Expect
    """What its rows must satisfy."""
    show: tuple[str, ...] = Field(min_length=1)
    """Columns shown in the failing cases."""


class PublicationChecks(Declared):
    """checks/publication.yaml."""

    tolerance: float = Field(ge=0)
    """Relative difference allowed between two computations of one figure."""
    checks: tuple[Check, ...]
    """The checks, in file order."""


@cache
def _load(path: Path, mtime_ns: int) -> PublicationChecks:
    return validate(PublicationChecks, read_yaml(path), shown(path))


def load(path: Path | None = None) -> PublicationChecks:
    """The declared checks (P06_PUBLICATION_CHECKS names another file, e.g. in a test)."""
    path = Path(path or os.environ.get("P06_PUBLICATION_CHECKS") or CHECKS_FILE)
    return _load(path, path.stat().st_mtime_ns)


def bound(value, declared: PublicationChecks):
    return declared.tolerance if value == "tolerance" else value


# ------------------------------------------------------------------ frames of the declarations

def _declared_frames(con: duckdb.DuckDBPyConnection, months: list[str]) -> dict[str, pl.DataFrame]:
    sources = catalog.sources()
    kinds = {s.id: {m.id: m.kind for m in s.measures} for s in sources.values()}
    inds = indicators()
    parts = [{"indicator_code": i.code, "role": role, "measure": m}
             for i in inds.values()
             for role, ms in (("numerator", i.numerator), ("denominator", i.denominator),
                              ("target", (i.target,) if i.target else ()))
             for m in ms]
    info = [{"indicator_code": i.code, "source": i.source, "is_ratio": i.is_ratio, "factor": i.factor,
             "lower": 0.0, "upper": (i.factor if i.is_ratio and not i.may_exceed_factor else None),
             "n_numerator": len(i.numerator), "n_denominator": len(i.denominator), "n_target": int(i.target is not None),
             "counts": all(kinds[i.source].get(m) == "count" for m in (*i.numerator, *i.denominator)),
             "at_province": "province" in i.levels}
            for i in inds.values()]
    as_of = dict(((p, s), d) for p, s, d in con.execute(
        "SELECT period, source, max(as_of_date) FROM raw.deliveries WHERE status = 'loaded' AND period IN "
        "(SELECT unnest(?::VARCHAR[])) GROUP BY ALL", [months]).fetchall())
    expected = []
    for month in months:
        for source in sources.values():
            if not source.expected_in(month):
                continue
            expected.append({"period": month, "source": source.id, "unit_kind": None, "unit_code": None, "measure": None})
            day: date = as_of.get((month, source.id)) or periods.period_end(month)
            kind = source.unit_kind_in(month)
            expected += [{"period": month, "source": source.id, "unit_kind": kind, "unit_code": u.unit_code,
                          "measure": None} for u in reference.expected_units(kind, day)]
    text = pl.String
    return {
        "check_parts": pl.DataFrame(parts, schema={"indicator_code": text, "role": text, "measure": text}),
        "check_indicators": pl.DataFrame(info, schema={
            "indicator_code": text, "source": text, "is_ratio": pl.Boolean, "factor": pl.Float64, "lower": pl.Float64,
            "upper": pl.Float64, "n_numerator": pl.Int64, "n_denominator": pl.Int64, "n_target": pl.Int64,
            "counts": pl.Boolean, "at_province": pl.Boolean}),
        "check_expected": pl.DataFrame(expected, schema={"period": text, "source": text, "unit_kind": text,
                                                         "unit_code": text, "measure": text}),
    }


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return has_table(con, table)


@contextmanager
def _check_relations(con: duckdb.DuckDBPyConnection, months: list[str]) -> Iterator[dict[str, duckdb.DuckDBPyRelation]]:
    """`check_<id>` -> the query of the check for the months, not yet run (checks of a table not published yet
    are left out); the declared frames they join stay registered until the block ends."""
    declared = load()
    frames = _declared_frames(con, months)
    for name, frame in frames.items():
        con.register(name, frame.to_arrow())
    try:
        yield {PREFIX + check.id: con.sql(check.sql, params={"periods": months} if "$periods" in check.sql else None)
               for check in declared.checks if _has(con, f"marts.{check.table}")}
    finally:
        for name in frames:
            con.unregister(name)


def check_frames(con: duckdb.DuckDBPyConnection, months: list[str]) -> dict[str, pd.DataFrame]:
    """`check_<id>` -> the rows of the check for the months (checks of a table not published yet are left out)."""
    with _check_relations(con, months) as relations:
        return {name: relation.df() for name, relation in relations.items()}


def write_check_files(con: duckdb.DuckDBPyConnection, months: list[str], folder: Path) -> dict[str, tuple[Path, list[str]]]:
    """`check_<id>` -> (a Parquet file of the check's rows for the months, its columns): written by DuckDB,
    so that the rows reach another process without being held here as frames and their pickle (39 months:
    about 105,000 rows a check, 60 MB of frames and 40 MB of pickle)."""
    out = {}
    with _check_relations(con, months) as relations:
        for name, relation in relations.items():
            path = Path(folder) / f"{name}.parquet"
            relation.write_parquet(str(path))
            out[name] = (path, list(relation.columns))
    return out


def read_check_file(path: Path) -> pd.DataFrame:
    """A file of `write_check_files` as the frame `check_frames` gives (DuckDB's own types and conversion)."""
    with duckdb.connect() as con:
        return con.read_parquet(str(path)).df()


# ------------------------------------------------------------------ expectations

def expectations(check_id: str) -> list:
    """The expectation of a check (Great Expectations imported here)."""
    import great_expectations.expectations as gxe

    declared = load()
    check = next(c for c in declared.checks if c.id == check_id)
    meta = {"check": check.id, "table": check.table, "show": list(check.show)}
    if check.expect.rows is not None:
        return [gxe.ExpectTableRowCountToEqual(value=0, description=check.description, meta=meta)]
    # Between-expectations skip NULLs: a NULL gap (a comparison that could not be made) must fail, so the column
    # is also expected not NULL.
    return [gxe.ExpectColumnValuesToNotBeNull(column=check.expect.column, description=check.description, meta=meta),
            gxe.ExpectColumnValuesToBeBetween(
                column=check.expect.column, min_value=bound(check.expect.min, declared),
                max_value=bound(check.expect.max, declared), description=check.description, meta=meta)]


def failing(check: Check, frame: pd.DataFrame, declared: PublicationChecks) -> pd.DataFrame:
    """The rows of a check that fail it: every row of a `rows: 0` check; else a row whose judged column is out of
    bounds, or NULL (a check that cannot say is no pass)."""
    if check.expect.rows is not None:
        return frame
    values = frame[check.expect.column]
    low, high = bound(check.expect.min, declared), bound(check.expect.max, declared)
    bad = values.isna() | ((values < low) if low is not None else False) | ((values > high) if high is not None else False)
    return frame[bad]


def failing_rows(check_id: str, frame: pd.DataFrame, limit: int = 10) -> list[dict]:
    """The first failing rows of a check, its `show` columns only, ratios rounded (4 significant digits)."""
    declared = load()
    check = next(c for c in declared.checks if c.id == check_id)
    shown = failing(check, frame, declared)
    shown = shown[[c for c in check.show if c in shown.columns]].head(limit)
    return [{k: _round(v) for k, v in row.items()} for row in shown.to_dict(orient="records")]


def failure_line(check: Check, rows: list[dict], count: int) -> str:
    """'id: description Failing rows, e.g.: period 2023-09, unit_code 381, ...' (what `p06 run` prints)."""
    example = "; ".join(", ".join(f"{k} {v}" for k, v in r.items()) for r in rows[:3])
    return (f"{check.id}: {check.description} Failing rows, e.g.: {example}" if example
            else f"{check.id}: {check.description} ({count} failing row(s))")[:600]


@dataclass(frozen=True)
class Outcome:
    """What a check found over the months judged: how many rows fail it, the first of them (its `show` columns,
    rounded), and one line naming the check and those rows ('' when it passed)."""
    check: Check
    passed: bool
    failing: int
    rows: tuple[dict, ...]
    line: str


def evaluate(con: duckdb.DuckDBPyConnection, months: list[str]) -> list[Outcome]:
    """Each declared check judged over the months' published tables, without Great Expectations (the same verdict
    as its expectation, NULL a failure)."""
    return _judge(check_frames(con, months))


def evaluate_by_month(con: duckdb.DuckDBPyConnection, months: list[str]) -> dict[str, list[Outcome]]:
    """`evaluate` of each month on its own, each check's query run once for all of them (every check's rows
    carry their `period`): what the blocking asset checks of the marts report, month by month (assets/publish.py)."""
    frames = check_frames(con, months)
    return {month: _judge({name: frame[frame["period"] == month] for name, frame in frames.items()})
            for month in months}


def _judge(frames: dict[str, pd.DataFrame]) -> list[Outcome]:
    declared = load()
    out = []
    for check in declared.checks:
        frame = frames.get(PREFIX + check.id)
        if frame is None:
            continue
        bad = failing(check, frame, declared)
        rows = failing_rows(check.id, bad) if len(bad) else []
        out.append(Outcome(check=check, passed=bad.empty, failing=len(bad), rows=tuple(rows),
                           line=failure_line(check, rows, len(bad)) if len(bad) else ""))
    return out


def _round(value):
    if isinstance(value, float):
        if value != value:            # NaN: no value
            return None
        return float(f"{value:.4g}") if abs(value) < 1e4 else round(value, 2)
    return value
