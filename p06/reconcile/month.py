"""One month's observations as the rule kinds read them: a wide row per unit."""
from __future__ import annotations

from datetime import date
from typing import Callable, Sequence

import polars as pl

from p06 import catalog, reference
from p06.reconcile.frames import KEYS, PROVINCE, SUBTOTAL, UNIT_ROWS

_FIGURE_PARTS = {"value": pl.Float64, "decimals": pl.Int64, "cell": pl.String, "sheet": pl.String, "file": pl.String}


def _part(measure: str, part: str) -> str:
    return measure if part == "value" else f"{measure}@{part}"


def wide(obs: pl.DataFrame, measures: Sequence[str]) -> pl.DataFrame:
    """One row per unit (and total row); per measure m: m (value), m@decimals, m@cell, m@sheet, m@file."""
    base = obs.group_by(KEYS, maintain_order=True).agg(pl.col("unit_name").first(), pl.col("group_label").first(),
                                                       pl.col("delivery_id").max())
    figures = obs.filter(pl.col("measure").is_in(list(measures)))
    if figures.height:
        spread = figures.pivot(on="measure", index=KEYS, values=list(_FIGURE_PARTS), aggregate_function="first")
        present = figures["measure"].unique().to_list()
        spread = spread.rename({f"{part}_{m}": _part(m, part) for part in _FIGURE_PARTS for m in present})
        base = base.join(spread, on=KEYS, how="left", nulls_equal=True)
    return base.with_columns([
        pl.lit(None, dtype).alias(_part(m, part))
        for m in measures for part, dtype in _FIGURE_PARTS.items() if _part(m, part) not in base.columns
    ])


def rows_for(frame: pl.DataFrame, applies_to: str) -> pl.DataFrame:
    """The rows a rule applies to: unit rows, the total row, or both."""
    if applies_to == "unit_rows":
        return frame.filter(UNIT_ROWS)
    if applies_to == "total_row":
        return frame.filter(pl.col("unit_kind") == PROVINCE)
    return frame


def province_of(total: dict | None) -> tuple[str, str]:
    """(code, name) of the total row, or of the configured province when there is none."""
    total = total or {}
    return total.get("unit_code") or reference.province_code(), total.get("unit_name") or reference.province_name()


class Month:
    """The observations of a period and of every earlier one, split by source, with cached views."""

    def __init__(self, period: str, everything: pl.DataFrame, expected_units: Callable[[str, date | None], list],
                 precomputed: dict | None = None):
        self.period = period
        self.expected_units = expected_units
        self.precomputed = precomputed or {}      # (rule id, source) -> the month's items, built for a whole run
        self._empty = everything.clear()
        self._current = everything.filter(pl.col("period") == period).partition_by(
            "source", as_dict=True, maintain_order=True)
        self._everything = everything.partition_by("source", as_dict=True, maintain_order=True)
        self._wide: dict[str, pl.DataFrame] = {}
        self._rows: dict[str, tuple[dict | None, list[dict], list[dict]]] = {}
        self._history: dict[str, dict] = {}

    def of(self, source: str, everything: bool = False) -> pl.DataFrame:
        """Observations of one source: the period's, or those of every month up to it."""
        parts = self._everything if everything else self._current
        return parts.get((source,), self._empty)

    def wide(self, source: catalog.Source) -> pl.DataFrame:
        """The period's figures of a source, one row per unit (see `wide`)."""
        if source.id not in self._wide:
            self._wide[source.id] = wide(self.of(source.id), [m.id for m in source.measures if m.kind != "text"])
        return self._wide[source.id]

    def total_and_units(self, source: catalog.Source) -> tuple[dict | None, list[dict]]:
        """The period's total row (or None) and unit rows of a source, as dicts of the wide frame."""
        total, units, _ = self._split(source)
        return total, units

    def totals(self, source: catalog.Source) -> list[dict]:
        """Every total row of the period's delivery of a source: one per old province's file for a merged
        province's month before the merger, else at most one."""
        return [r for r in self.wide(source).iter_rows(named=True) if r["unit_kind"] == PROVINCE]

    def subtotals(self, source: catalog.Source) -> list[dict]:
        """The period's stated subtotal rows of a source ('Khối miền núi'), as dicts of the wide frame."""
        return self._split(source)[2]

    def _split(self, source: catalog.Source) -> tuple[dict | None, list[dict], list[dict]]:
        if source.id not in self._rows:
            total, units, subtotals = None, [], []
            for r in self.wide(source).iter_rows(named=True):
                if r["unit_kind"] == PROVINCE:
                    total = total or r
                elif r["unit_kind"] == SUBTOTAL:
                    subtotals.append(r)
                else:
                    units.append(r)
            self._rows[source.id] = (total, units, subtotals)
        return self._rows[source.id]
