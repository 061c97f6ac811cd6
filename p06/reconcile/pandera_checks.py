"""The items run through pandera (polars backend): one dataframe-level check per rule."""
from __future__ import annotations

from typing import Callable, Sequence

import pandera.polars as pa
import polars as pl

from p06.reconcile.rules import OPS, Rule

EPS = 1e-9          # relative slack for float arithmetic on top of a rule's tolerance


def _rule_check(rule_id: str) -> Callable:
    """Row-aligned booleans: True where the rule holds, is missing, or is another rule's item."""
    def check(data) -> pl.LazyFrame:
        lhs, rhs = pl.col("lhs"), pl.col("rhs")
        tol = pl.col("tolerance") + EPS * (1 + rhs.abs())
        holds = (pl.when(pl.col("op") == "==").then((lhs - rhs).abs() <= tol)
                 .when(pl.col("op") == "<=").then(lhs <= rhs + tol)
                 .otherwise(lhs >= rhs - tol))
        ok = (pl.col("rule_id") != rule_id) | pl.col("is_missing") | holds.fill_null(False)
        return data.lazyframe.select(ok.alias(rule_id))
    return check


def item_schema(rules: Sequence[Rule]) -> pa.DataFrameSchema:
    """The pandera schema of the items: one check per rule."""
    return pa.DataFrameSchema(
        columns={
            "rule_id": pa.Column(pl.String), "op": pa.Column(pl.String, pa.Check.isin(sorted(OPS))),
            "lhs": pa.Column(pl.Float64, nullable=True), "rhs": pa.Column(pl.Float64, nullable=True),
            "tolerance": pa.Column(pl.Float64, nullable=True), "is_missing": pa.Column(pl.Boolean),
        },
        checks=[pa.Check(_rule_check(r.id), name=r.id, error=f"{r.id}: {r.description_en}") for r in rules],
    )


def failing_rows(items: pl.DataFrame, rules: Sequence[Rule]) -> list[int]:
    """Row numbers of `items` failing their rule, from pandera's failure cases."""
    try:
        item_schema(rules).validate(items, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        if cases["column"].is_not_null().any() or cases["index"].is_null().any():
            raise RuntimeError(f"reconciliation items are malformed:\n{cases}") from exc
        return sorted(set(cases["index"].to_list()))
    return []
