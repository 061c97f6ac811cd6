"""Per-source pandera schemas for a delivery's observations: types, declared measures,
non-negative figures, one figure per unit and measure, required measures present.

The columns, their types and nullability come from the declaration of staging.observations
(p06/staging.py); this module adds the checks. A delivery failing its schema is rejected (the
last good load stays in use); each failure is turned back into a problem naming file, sheet,
row and column.
"""
from __future__ import annotations

import re

import pandera.polars as pa
import polars as pl

from p06 import reference, staging
from p06.catalog import Source
from p06.ingest.problems import Problem
from p06.vntext import format_number

FILLED = pl.col("value").is_not_null() | pl.col("value_text").is_not_null()
UNCHECKED = {"period", "delivery_id"}    # not known yet when a file is checked before filing (`p06 check`)


def _required_unfilled(frame: pl.DataFrame | pl.LazyFrame, source: Source) -> list[str]:
    """Required measures with no figure in any row (no column, or a column blank throughout)."""
    filled = set(frame.lazy().filter(FILLED).select("measure").unique().collect()["measure"].to_list())
    return [m.id for m in source.measures if m.required and m.id not in filled]


def observation_schema(source: Source) -> pa.DataFrameSchema:
    measure_ids = [m.id for m in source.measures]
    numeric = [m.id for m in source.measures if m.kind != "text"]
    # subtotal: a stated regional or group subtotal row ('Khối miền núi')
    unit_kinds = sorted({"province", "subtotal", *source.all_unit_kinds, *reference.ADMIN_KINDS, *reference.declared_kinds()})

    def required_present(data: pa.PolarsData) -> pl.LazyFrame:
        """Every row passes when each required measure has a figure somewhere in the delivery."""
        return data.lazyframe.select(pl.lit(not _required_unfilled(data.lazyframe, source)).alias("ok"))

    checks = {
        "source": [pa.Check.eq(source.id)],
        "unit_kind": [pa.Check.isin(unit_kinds)],
        "measure": [pa.Check.isin(measure_ids)],
        "value": [pa.Check(
            lambda d: d.lazyframe.select(
                pl.col("value").is_null() | (pl.col("value") >= 0) | ~pl.col("measure").is_in(numeric)
            ),
            name="non_negative",
        )],
    }
    columns = {c.name: pa.Column(c.polars, nullable=c.nullable, checks=checks.get(c.name, []))
               for c in staging.COLUMNS if c.name not in UNCHECKED}
    return pa.DataFrameSchema(
        columns,
        checks=[pa.Check(required_present, name="required_measures")],
        unique=["unit_kind", "unit_code", "old_province", "measure"],   # old_province: a merged province
        strict=False,
    )


def _label(source: Source, measure_id: str) -> str:
    """The measure's declared label, or its id when it is not declared."""
    return next((m.label_vi for m in source.measures if m.id == measure_id), measure_id)


def _split_cell(cell: str) -> tuple[str | None, int | None]:
    m = re.match(r"([A-Z]+)(\d+)$", cell or "")
    return (m.group(1), int(m.group(2))) if m else (None, None)


def schema_problems(frame: pl.DataFrame, source: Source) -> list[Problem]:
    """Validate a delivery's observations; every failure becomes a problem with its cell."""
    if frame.is_empty():
        return []
    try:
        observation_schema(source).validate(frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    problems: list[Problem] = []
    rows = frame.with_row_index("_i")
    for case in cases.iter_rows(named=True):
        check = str(case.get("check") or "")
        index = case.get("index")
        if "uniqueness" in check or "unique" in check:
            continue          # reported once per unit and measure below, with every cell involved
        if check == "required_measures":
            continue          # reported once per measure below
        if index is None:
            problems.append(Problem(frame["file"][0], f"schema check '{check}' failed: {case.get('failure_case')}"))
            continue
        row = rows.row(int(index), named=True)
        column, row_number = _split_cell(row["cell"])
        if check == "non_negative":
            message, expected = f"negative figure {format_number(case.get('failure_case'), 2).rstrip('0').rstrip(',')} for {row['unit_name']}", "a figure of zero or more"
        else:
            message, expected = f"check '{check}' failed on {case.get('failure_case')!r}", None
        problems.append(Problem(row["file"], message, sheet=row["sheet"], row=row_number, column=column,
                                header=_label(source, row["measure"]), expected=expected))
    problems += _required_problems(frame, source)
    dupes = frame.filter(pl.struct("unit_kind", "unit_code", "old_province", "measure").is_duplicated())
    for (unit_code, unit_name, measure), group in dupes.group_by(["unit_code", "unit_name", "measure"], maintain_order=True):
        first = group.row(0, named=True)
        column, row_number = _split_cell(first["cell"])
        cells = ", ".join(f"{r['sheet']}!{r['cell']}" for r in group.iter_rows(named=True))
        problems.append(Problem(first["file"], f"unit {unit_name} ({unit_code}) appears more than once for {measure}: {cells}",
                                sheet=first["sheet"], row=row_number, column=column, header=_label(source, measure),
                                expected="each unit once"))
    return problems


def _required_problems(frame: pl.DataFrame, source: Source) -> list[Problem]:
    """A required measure without a column, or whose column is blank in every row, named by its cells."""
    problems = []
    for mid in _required_unfilled(frame, source):
        m = source.measure(mid)
        cells = frame.filter(pl.col("measure") == mid)
        if cells.is_empty():
            problems.append(Problem(frame["file"][0], f"required column '{m.label_vi}' ({m.id}) not found",
                                    expected=f"a header such as '{' > '.join(m.headers[0])}'"))
            continue
        first = cells.row(0, named=True)
        column, row_number = _split_cell(first["cell"])
        rows = [_split_cell(c)[1] for c in cells.filter(pl.col("sheet") == first["sheet"])["cell"]]
        problems.append(Problem(first["file"], f"required column '{m.label_vi}' is blank in every row "
                                f"({column}{min(rows)}:{column}{max(rows)})", sheet=first["sheet"], row=row_number,
                                column=column, header=m.label_vi, expected="figures in the column, one per unit"))
    return problems
