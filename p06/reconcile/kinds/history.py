"""Rule kinds against earlier months: stocks that must not fall, and month-over-month outliers.

A unit is compared only with itself: the same kind and code naming the same unit of the reference
(p06.reference) in both months, since codes are reused. Where the units changed (districts in 2025-06,
communes in 2025-07; 11 tax offices, then 10 tax units) no unit has a comparable past, and the rule compares
the province figures instead, saying in the item's detail that the unit level was not comparable.

Set-based: `history_items` takes the observations of every month of a run and builds the items of all its
months at once (each month's units joined with their own earlier figures, within the months the rule
compares: `window`); only the outlier test itself and the rare province fallback run per item in Python.
"""
from __future__ import annotations

import math
from functools import lru_cache
from statistics import median
from typing import Mapping, Sequence

import polars as pl

from p06 import catalog, reference
from p06.landing import month_before
from p06.periods import period_end, previous_period
from p06.reconcile.frames import (
    ITEM_SCHEMA,
    PROVINCE,
    UNIT_ROWS,
    cell_range,
    conform,
    first,
    items,
    no_items,
    rule_fields,
)
from p06.reconcile.month import Month
from p06.reconcile.rules import Rule

_UNIT = ["period", "unit_kind", "unit_code", "old_province"]   # old_province: a merged province's files
_NO_UNIT = "-"                       # the key of a code the reference does not know on that day
_NULL = "\x00"                       # a blank kind or code, so that joins pair blanks as the rules always did


def _month_index(period: str) -> int:
    return int(period[:4]) * 12 + int(period[5:7]) - 1


@lru_cache(maxsize=1 << 16)
def _unit_key(kind: str | None, code: str | None, period: str, province: str) -> str:
    """What the kind and code name at the end of the month: the reference unit's key, or _NO_UNIT (two
    unknown codes compare as such, as they always did)."""
    unit = reference.unit_at(kind, code, period_end(period), province)
    return _NO_UNIT if unit is None else repr(unit.key)


def _with_unit_key(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with `_key`: the unit its kind and code name that month (code AND validity: a reused code is
    another unit), and for a merged province's month before the merger, the old province whose file it is."""
    province = reference.province_code()
    triples = frame.select("unit_kind", "unit_code", "period", "old_province").unique()
    keys = triples.with_columns(pl.Series("_key", [_unit_key(k, c, p, o or province) + (f"@{o}" if o else "")
                                                   for k, c, p, o in triples.iter_rows()], dtype=pl.String))
    return frame.join(keys, on=["unit_kind", "unit_code", "period", "old_province"], how="left", nulls_equal=True)


def _province_figures(obs: pl.DataFrame, measure: str) -> dict[str, dict]:
    """Per month: the total row's figure, or the sum of unit rows when there is no total row."""
    obs = obs.filter((pl.col("measure") == measure) & pl.col("value").is_not_null())
    figures = {}
    for (period,), part in obs.group_by(["period"]):
        total = part.filter(pl.col("unit_kind") == PROVINCE)
        if part["old_province"].is_not_null().any():      # a merged province's month: its old provinces' units
            units = part.filter(pl.col("unit_kind") != PROVINCE).unique(["old_province", "unit_code"], keep="first")
            if units.height:
                figures[period] = dict(value=float(units["value"].sum()),
                                       file="; ".join(units["file"].unique(maintain_order=True).to_list()),
                                       sheet=first(units["sheet"]), cell=cell_range(units["cell"].to_list()))
                continue
        if total.height:
            row = total.row(0, named=True)
            figures[period] = dict(value=row["value"], file=row["file"], sheet=row["sheet"], cell=row["cell"])
        else:
            units = part.unique(["unit_code"], keep="first")
            figures[period] = dict(value=float(units["value"].sum()), file=first(units["file"]),
                                   sheet=first(units["sheet"]), cell=cell_range(units["cell"].to_list()))
    return figures


def consecutive(past: list[dict], period: str) -> list[dict]:
    """The figures of the months right before `period`, back to the first missing month (oldest first): a
    month's change is measured against the month before, never across a gap (2023-09 to 2025-06)."""
    run, month = [], previous_period(period)
    for figure in reversed(past):
        if figure["period"] != month:
            break
        run.append(figure)
        month = previous_period(month)
    return run[::-1]


def modified_z(series: Sequence[float]) -> float | None:
    """Modified z-score (Iglewicz & Hoaglin) of the last value against the whole series."""
    med = median(series)
    deviations = [abs(x - med) for x in series]
    mad = median(deviations)
    if mad > 0:
        return 0.6745 * (series[-1] - med) / mad
    mean_ad = sum(deviations) / len(deviations)
    return (series[-1] - med) / (1.253314 * mean_ad) if mean_ad > 0 else None


def _outlier_test(values: list[float], p: Mapping) -> tuple[str, float, float, float | None] | None:
    """(method, score, limit, expected value) for the last value of a unit's series, or None.

    The modified z-score once the series is long enough; before that, a plain fold-change test.
    """
    series = values if p["series"] == "value" else [b - a for a, b in zip(values, values[1:])]
    if len(series) >= int(p["min_history"]):
        z = modified_z(series)
        if z is not None:
            typical = median(series)
            expected = typical if p["series"] == "value" else values[-2] + typical
            return "z", abs(z), float(p["z_threshold"]), expected
    if len(values) < 2 or values[-2] <= 0:
        return None
    prev, cur = values[-2], values[-1]
    if abs(cur - prev) < float(p["min_absolute_change"]):
        fold = 1.0
    else:
        fold = math.inf if cur <= 0 else max(cur / prev, prev / cur)
    return "jump", fold, float(p["max_fold_change"]), prev


# ---------------------------------------------------------------- the months of a run at once


class _Run:
    """One source's observations over a run's months, with what both rules need: each month's units and
    their figures (one row per unit and measure, in the order of the month's rows), and each figure
    joined with the same unit's earlier figures of the months the rule compares."""

    def __init__(self, obs: pl.DataFrame, periods: Sequence[str], measures: Sequence[str], window: int | None):
        self.obs = obs.with_row_index("_row")
        self.periods = list(periods)
        self.measures = list(measures)
        self.start = {p: month_before(p, window) if window else "" for p in self.periods}
        starts = pl.DataFrame({"period": self.periods, "_start": [self.start[p] for p in self.periods]},
                              schema={"period": pl.String, "_start": pl.String})
        current = self.obs.filter(pl.col("period").is_in(self.periods))
        rows = current.filter(UNIT_ROWS)
        units = rows.group_by(_UNIT, maintain_order=True).agg(
            pl.col("unit_name").first(), pl.col("delivery_id").max(), pl.col("_row").min().alias("_u"))
        figures = rows.filter(pl.col("measure").is_in(self.measures)).group_by(
            [*_UNIT, "measure"], maintain_order=True).agg(pl.col("value", "file", "sheet", "cell").first())
        order = pl.DataFrame({"measure": self.measures, "_m": list(range(len(self.measures)))},
                             schema={"measure": pl.String, "_m": pl.Int64})
        grid = (units.join(order, how="cross")
                .join(figures, on=[*_UNIT, "measure"], how="left", nulls_equal=True))
        self.grid = _with_unit_key(grid).join(starts, on="period", how="left")
        # The months' totals (the first total row of the month) and which months have rows of the source.
        self.total = {p: (c, n) for p, c, n in current.filter((pl.col("unit_kind") == PROVINCE)
                                                                  & pl.col("old_province").is_null())
                      .group_by("period", maintain_order=True).agg(pl.col("unit_code", "unit_name").first()).iter_rows()}
        self.with_units = set(units["period"].unique().to_list())
        self.old_totals = set(current.filter(pl.col("old_province").is_not_null())["period"].unique().to_list())
        self.past = self._past()

    def _past(self) -> pl.DataFrame:
        """Each unit-measure of the months with the same unit's non-blank earlier figures within the window
        (one row per earlier month: p_period, p_value, p_file, p_sheet, p_cell)."""
        earlier = _with_unit_key(
            self.obs.filter(UNIT_ROWS & pl.col("value").is_not_null() & pl.col("measure").is_in(self.measures))
            .unique(["period", "measure", "unit_kind", "unit_code", "old_province"], keep="first", maintain_order=True)
            .select("period", "measure", "unit_kind", "unit_code", "old_province", "value", "file", "sheet", "cell"))
        earlier = earlier.rename({c: f"p_{c}" for c in ("period", "value", "file", "sheet", "cell")})
        keys = ["unit_kind", "unit_code", "measure", "_key"]
        return (self.grid.select(*_UNIT, "measure", "_key", "_start")
                .join(earlier.drop("old_province"), on=keys, how="inner", nulls_equal=True)
                .filter((pl.col("p_period") < pl.col("period")) & (pl.col("p_period") >= pl.col("_start")))
                .drop("_key", "_start"))

    def window(self, period: str) -> pl.DataFrame:
        """The observations a month's rules see: the months of its window up to it."""
        return self.obs.filter(pl.col("period").is_between(pl.lit(self.start[period]), pl.lit(period)))

    def province_of(self, period: str) -> tuple[str, str]:
        code, name = self.total.get(period, (None, None))
        return code or reference.province_code(), name or reference.province_name()

    def has_rows(self, period: str) -> bool:
        return period in self.total or period in self.with_units or period in self.old_totals


def _not_comparable(run: _Run) -> dict[tuple[str, str], str]:
    """Per month and measure with reported unit figures none of which has a comparable past, while an
    earlier month of the window has unit rows: why the unit level cannot be compared ('district units in
    2025-06, commune units in 2025-07'; the kinds in name order)."""
    reported = run.grid.filter(pl.col("value").is_not_null())
    compared = (run.past.join(reported.select(*_UNIT, "measure"), on=[*_UNIT, "measure"], nulls_equal=True)
                .select("period", "measure").unique())
    now = (reported.join(compared, on=["period", "measure"], how="anti")
           .group_by("period", "measure").agg(pl.col("unit_kind").unique().alias("now")))
    if now.is_empty():
        return {}
    rows = (run.obs.filter((pl.col("unit_kind") != PROVINCE) & pl.col("value").is_not_null()
                           & pl.col("measure").is_in(run.measures))
            .select(pl.col("period").alias("before"), "measure", "unit_kind").unique())
    earlier = (now.select("period", "measure")
               .join(run.grid.select("period", "_start").unique(), on="period")
               .join(rows, on="measure")
               .filter((pl.col("before") < pl.col("period")) & (pl.col("before") >= pl.col("_start"))))
    last = earlier.group_by("period", "measure").agg(pl.col("before").max())
    kinds = (earlier.join(last, on=["period", "measure", "before"])
             .group_by("period", "measure", "before").agg(pl.col("unit_kind").unique().alias("kinds")))
    out = {}
    for period, measure, before, was, current in kinds.join(now, on=["period", "measure"]).select(
            "period", "measure", "before", "kinds", "now").iter_rows():
        out[(period, measure)] = (f"unit level not comparable: {', '.join(sorted(was))} units in {before}, "
                                  f"{', '.join(sorted(current))} units in {period}; compared at the province level")
    return out


def _unit_items(frame: pl.DataFrame, base: dict, **columns: pl.Expr) -> pl.DataFrame:
    """Items of unit rows: the rule's fields, the unit's, the figure's lineage, then `columns`."""
    fixed = {k: pl.lit(v) for k, v in base.items() if k != "period"}
    unit = {c: pl.col(c) for c in ("period", "unit_kind", "unit_code", "unit_name", "measure", "delivery_id",
                                   "file", "sheet", "cell")}
    return conform(frame.select(*[e.alias(c) for c, e in {**fixed, **unit, **columns}.items()], "_m", "_u"),
                   {**ITEM_SCHEMA, "_m": pl.Int64, "_u": pl.Int64})


def _by_period(run: _Run, parts: list[pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Items of each month of the run, measures in declared order, units in the month's order."""
    schema = {**ITEM_SCHEMA, "_m": pl.Int64, "_u": pl.Int64}
    allitems = pl.concat([conform(p, schema) for p in parts]) if parts else pl.DataFrame(schema=schema)
    allitems = allitems.sort("period", "_m", "_u", maintain_order=True)
    split = {p: f.drop("_m", "_u") for (p,), f in allitems.partition_by("period", as_dict=True).items()}
    return {p: split.get(p, no_items()) for p in run.periods}


def _province_item(run: _Run, base: dict, period: str, m: str, index: int, **fields) -> pl.DataFrame:
    code, name = run.province_of(period)
    row = dict(base, period=period, unit_kind=PROVINCE, unit_code=code, unit_name=name, measure=m, **fields)
    return items([row]).with_columns(pl.lit(index, pl.Int64).alias("_m"), pl.lit(-1, pl.Int64).alias("_u"))


def stock_items(rule: Rule, source: catalog.Source, run: _Run) -> dict[str, pl.DataFrame]:
    """Each unit's figure against its last earlier one of the same unit; the province figure when earlier
    months have no unit rows for the measure, or when the units changed (the item's detail says so)."""
    base = rule_fields(rule, source.id, "", op=">=", tolerance=rule.tolerance)
    # The last comparable figure of each unit; units sharing a code take that of the last of them.
    last = run.past.sort("p_period").group_by(*_UNIT, "measure").last()
    by_code = (last.join(run.grid.select(*_UNIT, "measure", "_u"), on=[*_UNIT, "measure"], nulls_equal=True)
               .sort("_u").group_by("period", "measure", "unit_code").last().drop("unit_kind", "_u"))
    grid = run.grid.join(by_code, on=["period", "measure", "unit_code"], how="left", nulls_equal=True)
    decided = grid.group_by("period", "measure").agg(
        (pl.col("p_period").is_not_null().any() & pl.col("value").is_not_null().any()).alias("_units"))
    grid = grid.join(decided, on=["period", "measure"])
    parts = [_unit_items(grid.filter("_units"), base, lhs=pl.col("value"), rhs=pl.col("p_value"),
                         actual=pl.col("value"), expected=pl.col("p_value"),
                         is_missing=pl.col("p_period").is_null() | pl.col("value").is_null(),
                         ref_period=pl.col("p_period"), ref_file=pl.col("p_file"), ref_sheet=pl.col("p_sheet"),
                         ref_cell=pl.col("p_cell"))]
    by_units = {(p, m) for p, m, u in decided.iter_rows() if u}
    why = None
    for period in run.periods:
        if not run.has_rows(period):
            continue
        for index, m in enumerate(run.measures):
            if (period, m) in by_units:
                continue
            figures = _province_figures(run.window(period), m)
            now = figures.get(period)
            if now is None:
                continue
            before = [p for p in sorted(figures) if p < period]
            prev = figures[before[-1]] if before else {}
            why = _not_comparable(run) if why is None else why
            parts.append(_province_item(
                run, base, period, m, index, lhs=now["value"], rhs=prev.get("value"), actual=now["value"],
                expected=prev.get("value"), is_missing=not prev, file=now["file"], sheet=now["sheet"],
                cell=now["cell"], detail=why.get((period, m)), ref_period=before[-1] if before else None,
                ref_file=prev.get("file"), ref_sheet=prev.get("sheet"), ref_cell=prev.get("cell")))
    return _by_period(run, parts)


def outlier_items(rule: Rule, source: catalog.Source, run: _Run) -> dict[str, pl.DataFrame]:
    """Each unit's figure against its own earlier months, consecutive up to the month before (a warning when
    unusual); the province figure against the province's earlier months when the units changed."""
    base = rule_fields(rule, source.id, "", op="<=", tolerance=rule.tolerance)
    why = _not_comparable(run)
    reported = run.grid.filter(pl.col("value").is_not_null())
    if why:
        skipped = pl.DataFrame([{"period": p, "measure": m} for p, m in why],
                               schema={"period": pl.String, "measure": pl.String})
        reported = reported.join(skipped, on=["period", "measure"], how="anti")
    # The run of consecutive earlier months right before the month (no gap), oldest first.
    steps = (pl.col("period").str.slice(0, 4).cast(pl.Int64) * 12 + pl.col("period").str.slice(5, 2).cast(pl.Int64)
             - pl.col("p_period").str.slice(0, 4).cast(pl.Int64) * 12 - pl.col("p_period").str.slice(5, 2).cast(pl.Int64))
    runs = (run.past.with_columns(steps.alias("_back")).sort("_back")
            .with_columns(pl.int_range(1, pl.len() + 1).over(*_UNIT, "measure").alias("_rank"))
            .filter(pl.col("_back") == pl.col("_rank")).sort("p_period")
            .group_by(*_UNIT, "measure").agg(pl.col("p_value").alias("_series"), pl.col("p_period", "p_file", "p_sheet",
                                                                                         "p_cell").last()))
    reported = reported.join(runs, on=[*_UNIT, "measure"], how="left", nulls_equal=True)
    tests = [_outlier_test([*(series or []), value], rule.params)
             for series, value in reported.select("_series", "value").iter_rows()]
    method, score, limit, expected = (list(x) for x in zip(*[t or (None, None, None, None) for t in tests])) if tests \
        else ([], [], [], [])
    reported = reported.with_columns(pl.Series("_method", method, pl.String), pl.Series("_score", score, pl.Float64),
                                     pl.Series("_limit", limit, pl.Float64), pl.Series("_expected", expected, pl.Float64))
    parts = [_unit_items(reported, base, lhs=pl.col("_score"), rhs=pl.col("_limit"),
                         is_missing=pl.col("_method").is_null(), actual=pl.col("value"), expected=pl.col("_expected"),
                         detail=pl.col("_method"), ref_period=pl.col("p_period"), ref_file=pl.col("p_file"),
                         ref_sheet=pl.col("p_sheet"), ref_cell=pl.col("p_cell"))]
    for (period, m), reason in why.items():
        parts.append(_province_outlier(rule, base, run, period, m, reason))
    return _by_period(run, parts)


def _province_outlier(rule: Rule, base: dict, run: _Run, period: str, m: str, why: str) -> pl.DataFrame:
    """The outlier test on the province's series (total rows, or sums of unit rows), for a month whose units
    cannot be compared with earlier ones. The detail is the method, then why: 'jump; unit level not ...'."""
    figures = _province_figures(run.window(period), m)
    now = figures.get(period)
    past = consecutive([dict(f, period=p) for p, f in sorted(figures.items()) if p < period], period)
    test = _outlier_test([f["value"] for f in past] + [now["value"]], rule.params) if now else None
    before = [f["period"] for f in past]
    prev = past[-1] if past else {}
    method, score, limit, expected = test or (None, None, None, None)
    now = now or {}
    return _province_item(run, base, period, m, run.measures.index(m), lhs=score, rhs=limit, is_missing=test is None,
                          actual=now.get("value"), expected=expected, file=now.get("file"), sheet=now.get("sheet"),
                          cell=now.get("cell"), detail=f"{method}; {why}" if method else why,
                          ref_period=before[-1] if before else None, ref_file=prev.get("file"),
                          ref_sheet=prev.get("sheet"), ref_cell=prev.get("cell"))


_KINDS = {"stock_not_falling": stock_items, "outlier": outlier_items}


def history_items(rule: Rule, source: catalog.Source, observations: pl.DataFrame, periods: Sequence[str],
                  window: int | None = None) -> dict[str, pl.DataFrame]:
    """The rule's items for the source in each of `periods`, from `observations` of those months and the
    months before them (each month compares with the `window` months before it; all earlier ones when None)."""
    obs = observations.filter(pl.col("source") == source.id)
    run = _Run(obs, periods, list(rule.measures_for(source)), window)
    return _KINDS[rule.kind](rule, source, run)


def _of_month(rule: Rule, source: catalog.Source, month: Month) -> pl.DataFrame:
    ready = month.precomputed.get((rule.id, source.id))
    if ready is not None:
        return ready
    return history_items(rule, source, month.of(source.id, everything=True), [month.period])[month.period]


def stock_not_falling(rule: Rule, source: catalog.Source, month: Month) -> pl.DataFrame:
    """The month's items of a stock rule (see `stock_items`)."""
    return _of_month(rule, source, month)


def outlier(rule: Rule, source: catalog.Source, month: Month) -> pl.DataFrame:
    """The month's items of an outlier rule (see `outlier_items`)."""
    return _of_month(rule, source, month)
