"""Column layouts of the reconciliation's frames, and helpers that build frames in those layouts.

An *item* is one rule instance (a unit's figures, a stated ratio, a total row, a unit's step from
last month): a left-hand side, an operator, a right-hand side and a tolerance, plus the lineage of
every figure involved. Findings are the items that fail; the summary counts items per rule.
"""
from __future__ import annotations

import re
from typing import Iterable, Mapping, Sequence

import polars as pl

from p06 import staging
from p06.reconcile.rules import Rule

PROVINCE = "province"                     # unit_kind of a delivery's total row
SUBTOTAL = "subtotal"                     # unit_kind of a stated regional or group subtotal row
UNIT_ROWS = ~pl.col("unit_kind").is_in([PROVINCE, SUBTOTAL])   # rows of the delivery's own units
KEYS = ["period", "source", "unit_kind", "unit_code", "old_province"]   # old_province: a merged province's files

OBSERVATION_SCHEMA = staging.schema()
ITEM_SCHEMA = {
    "period": pl.String, "source": pl.String, "rule_id": pl.String, "rule_kind": pl.String,
    "severity": pl.String, "unit_kind": pl.String, "unit_code": pl.String, "unit_name": pl.String,
    "measure": pl.String, "lhs": pl.Float64, "op": pl.String, "rhs": pl.Float64,
    "tolerance": pl.Float64, "is_missing": pl.Boolean, "expected": pl.Float64, "actual": pl.Float64,
    "left_values": pl.List(pl.Float64), "right_values": pl.List(pl.Float64),
    "file": pl.String, "sheet": pl.String, "cell": pl.String,        # lineage of every figure involved
    "left_cells": pl.String, "right_cells": pl.String, "delivery_id": pl.Int64,
    "ref_period": pl.String, "ref_file": pl.String, "ref_sheet": pl.String, "ref_cell": pl.String,  # last month
    "detail": pl.String,                                                # kind-specific: decimals shown, method...
}
FINDING_SCHEMA = {
    "period": pl.String, "source": pl.String, "unit_kind": pl.String, "unit_code": pl.String,
    "unit_name": pl.String, "rule_id": pl.String, "rule_kind": pl.String, "severity": pl.String,
    "measure": pl.String, "expected": pl.Float64, "actual": pl.Float64, "difference": pl.Float64,
    "message_vi": pl.String, "message_en": pl.String, "file": pl.String, "sheet": pl.String,
    "cell": pl.String, "delivery_id": pl.Int64,
}
SUMMARY_SCHEMA = {
    "period": pl.String, "source": pl.String, "rule_id": pl.String, "rule_kind": pl.String,
    "severity": pl.String, "items": pl.Int64, "passed": pl.Int64, "failed": pl.Int64, "missing": pl.Int64,
}


def conform(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Exactly the columns of `schema`, in order and type (absent ones null)."""
    return frame.select([
        (pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c) for c, t in schema.items()
    ])


def rule_fields(rule: Rule, source: str, period: str, **fields) -> dict:
    """An item as a dict: the rule's and source's columns, then `fields`."""
    return dict(period=period, source=source, rule_id=rule.id, rule_kind=rule.kind, severity=rule.severity, **fields)


def items(rows: list[dict]) -> pl.DataFrame:
    """Items from dicts keyed by item column (absent columns null)."""
    return pl.DataFrame([{c: r.get(c) for c in ITEM_SCHEMA} for r in rows], schema=ITEM_SCHEMA)


def no_items() -> pl.DataFrame:
    return pl.DataFrame(schema=ITEM_SCHEMA)


def select_items(rows: pl.DataFrame, rule: Rule, source: str, **exprs: pl.Expr) -> pl.DataFrame:
    """Items from a wide frame in one select: `exprs` by item column, the unit columns kept."""
    fixed = {k: v for k, v in rule_fields(rule, source, "").items() if k != "period"}
    kept = {"period", "unit_kind", "unit_code", "unit_name", "delivery_id"}
    return rows.select([
        (exprs[c] if c in exprs else pl.lit(fixed[c]) if c in fixed else pl.col(c) if c in kept else pl.lit(None))
        .cast(t).alias(c)
        for c, t in ITEM_SCHEMA.items()
    ])


def joined(cols: Sequence[str], unique: bool = False) -> pl.Expr:
    """Non-null values of several string columns joined with '; ' (null when none)."""
    lst = pl.concat_list([pl.col(c) for c in cols]).list.drop_nulls()
    if unique:
        lst = lst.list.unique(maintain_order=True)
    text = lst.list.join("; ")
    return pl.when(text == "").then(None).otherwise(text)


_CELL = re.compile(r"([A-Z]+)(\d+)$")


def cell_range(cells: Iterable[str]) -> str:
    """ "I8:I34" for the cells of one column, else the cells joined with '; '."""
    cells = [c for c in cells if c]
    parsed = [_CELL.match(c) for c in cells]
    if cells and all(parsed) and len({m.group(1) for m in parsed}) == 1:
        rows = [int(m.group(2)) for m in parsed]
        col = parsed[0].group(1)
        return f"{col}{min(rows)}" if len(cells) == 1 else f"{col}{min(rows)}:{col}{max(rows)}"
    return "; ".join(cells)


def first(series: pl.Series):
    """The first non-null value of a series, or None."""
    s = series.drop_nulls()
    return s[0] if s.len() else None
