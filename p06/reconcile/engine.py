"""Evaluate the reconciliation rules on staging observations: frames in, findings and a summary out.

Each rule kind first builds *items*, one row per rule instance (a unit's figures, a stated
ratio, a total row, a unit's step from last month), each with a left-hand side, an operator,
a right-hand side and a tolerance. pandera (polars backend) then runs one check per rule
over the items (lazy=True); its failure cases become findings carrying the file, sheet and
cells of the figures involved. Items whose figures are blank are counted as missing.
Nothing here reads or writes files or the warehouse (the catalog's cached declarations aside).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from statistics import median
from typing import Callable, Iterable, Mapping, Sequence

import pandera.polars as pa
import polars as pl

from p06 import catalog
from p06.reconcile import messages
from p06.reconcile.rules import LAST_SHOWN_DECIMAL, Rule, load_rules

PROVINCE = "province"
KEYS = ["period", "source", "unit_kind", "unit_code"]
EPS = 1e-9

OBSERVATION_SCHEMA = {
    "period": pl.String, "as_of_date": pl.Date, "source": pl.String, "unit_kind": pl.String,
    "unit_code": pl.String, "unit_name": pl.String, "group_label": pl.String, "measure": pl.String,
    "value": pl.Float64, "value_text": pl.String, "stated": pl.Boolean, "decimals": pl.Int64,
    "file": pl.String, "sheet": pl.String, "cell": pl.String, "delivery_id": pl.Int64,
}
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


@dataclass(frozen=True)
class Reconciliation:
    """Findings (one row per failed rule instance) and the per-rule summary of one month."""
    period: str
    findings: pl.DataFrame
    summary: pl.DataFrame
    items: pl.DataFrame = field(repr=False)

    @property
    def errors(self) -> int:
        return self.findings.filter(pl.col("severity") == "error").height

    @property
    def warnings(self) -> int:
        return self.findings.filter(pl.col("severity") == "warning").height


# ----------------------------------------------------------------------------- helpers

def _conform(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Exactly the columns of `schema`, in order and type (absent ones null)."""
    return frame.select([
        (pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c) for c, t in schema.items()
    ])


def _items(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame([{c: r.get(c) for c in ITEM_SCHEMA} for r in rows], schema=ITEM_SCHEMA)


def _empty(schema=ITEM_SCHEMA) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def _joined(cols: Sequence[str], unique: bool = False) -> pl.Expr:
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


def _rows(wide: pl.DataFrame, applies_to: str) -> pl.DataFrame:
    if applies_to == "unit_rows":
        return wide.filter(pl.col("unit_kind") != PROVINCE)
    if applies_to == "total_row":
        return wide.filter(pl.col("unit_kind") == PROVINCE)
    return wide


_FIGURE_PARTS = {"value": pl.Float64, "decimals": pl.Int64, "cell": pl.String, "sheet": pl.String, "file": pl.String}


def _wide(obs: pl.DataFrame, measures: Sequence[str]) -> pl.DataFrame:
    """One row per unit (and total row); per measure m: m (value), m@decimals, m@cell, m@sheet, m@file."""
    base = obs.group_by(KEYS, maintain_order=True).agg(pl.col("unit_name").first(), pl.col("delivery_id").max())
    figures = obs.filter(pl.col("measure").is_in(list(measures)))
    if figures.height:
        wide = figures.pivot(on="measure", index=KEYS, values=list(_FIGURE_PARTS), aggregate_function="first")
        present = figures["measure"].unique().to_list()
        wide = wide.rename({f"{part}_{m}": (m if part == "value" else f"{m}@{part}")
                            for part in _FIGURE_PARTS for m in present})
        base = base.join(wide, on=KEYS, how="left")
    return base.with_columns([
        pl.lit(None, dtype).alias(m if part == "value" else f"{m}@{part}")
        for m in measures for part, dtype in _FIGURE_PARTS.items()
        if (m if part == "value" else f"{m}@{part}") not in base.columns
    ])


@dataclass
class _Context:
    period: str
    current: pl.DataFrame                  # observations of the period
    everything: pl.DataFrame               # observations of the period and earlier ones
    sources: Mapping[str, catalog.Source]
    expected_units: Callable[[str, date | None], list]
    _wide: dict = field(default_factory=dict)
    _history: dict = field(default_factory=dict)
    _rows: dict = field(default_factory=dict)
    _earlier: dict = field(default_factory=dict)

    def __post_init__(self):
        self._current = self.current.partition_by("source", as_dict=True, maintain_order=True)
        self._everything = self.everything.partition_by("source", as_dict=True, maintain_order=True)

    def of(self, source: str, everything: bool = False) -> pl.DataFrame:
        """Observations of one source: the period's, or those of every month up to it."""
        parts = self._everything if everything else self._current
        return parts.get((source,), self.current.clear())

    def wide(self, source: catalog.Source) -> pl.DataFrame:
        if source.id not in self._wide:
            obs = self.of(source.id)
            self._wide[source.id] = _wide(obs, [m.id for m in source.measures if m.kind != "text"])
        return self._wide[source.id]

    def total_and_units(self, source: catalog.Source) -> tuple[dict | None, list[dict]]:
        """The period's total row (or None) and unit rows of a source, as dicts of the wide frame."""
        if source.id not in self._rows:
            total, units = None, []
            for r in self.wide(source).iter_rows(named=True):
                if r["unit_kind"] == PROVINCE:
                    total = total or r
                else:
                    units.append(r)
            self._rows[source.id] = (total, units)
        return self._rows[source.id]

    def history(self, source: str) -> dict[tuple[str, str], tuple[list, ...]]:
        """Non-blank unit-row figures up to the period, by (measure, unit_code): lists of
        period, value, file, sheet, cell, oldest first."""
        if source not in self._history:
            grouped = (self.of(source, everything=True)
                       .filter((pl.col("unit_kind") != PROVINCE) & pl.col("value").is_not_null())
                       .unique(["period", "measure", "unit_code"], keep="first", maintain_order=True)
                       .sort("period")
                       .group_by("measure", "unit_code")
                       .agg("period", "value", "file", "sheet", "cell"))
            self._history[source] = {(m, u): rest for m, u, *rest in grouped.iter_rows()}
        return self._history[source]

    def earlier(self, source: str, measure: str, unit_code: str) -> list[dict]:
        """The unit's figures of months before the period, oldest first."""
        key = (source, measure, unit_code)
        if key not in self._earlier:
            lists = self.history(source).get((measure, unit_code), ([], [], [], [], []))
            self._earlier[key] = [dict(period=p, value=v, file=f, sheet=sh, cell=c)
                                  for p, v, f, sh, c in zip(*lists) if p < self.period]
        return self._earlier[key]


# ----------------------------------------------------------------------------- rule kinds

def _select_items(rows: pl.DataFrame, rule: Rule, source: str, **exprs: pl.Expr) -> pl.DataFrame:
    """Items from a wide frame in one select: `exprs` by item column, the unit columns kept."""
    fixed = {"rule_id": rule.id, "rule_kind": rule.kind, "severity": rule.severity, "source": source}
    kept = {"period", "unit_kind", "unit_code", "unit_name", "delivery_id"}
    return rows.select([
        (exprs[c] if c in exprs else pl.lit(fixed[c]) if c in fixed else pl.col(c) if c in kept else pl.lit(None))
        .cast(t).alias(c)
        for c, t in ITEM_SCHEMA.items()
    ])


def _compare(rule: Rule, source: catalog.Source, ctx: _Context) -> pl.DataFrame:
    rows = _rows(ctx.wide(source), rule.applies_to)
    measures = rule.left.measures + rule.right.measures
    blank = [pl.col(m).is_null() for m in measures]

    def value(t) -> pl.Expr:
        if t.measure is None:
            return pl.lit(t.constant, pl.Float64)
        return pl.col(t.measure).fill_null(0) if rule.missing == "zero" else pl.col(t.measure)

    def side(expr) -> pl.Expr:
        return pl.sum_horizontal([t.sign * value(t) for t in expr.terms])

    return _select_items(
        rows, rule, source.id, measure=pl.lit(measures[0]),
        lhs=side(rule.left), op=pl.lit(rule.op), rhs=side(rule.right), tolerance=pl.lit(rule.tolerance),
        is_missing=pl.any_horizontal(blank) if rule.missing == "skip" else pl.all_horizontal(blank),
        expected=side(rule.right), actual=side(rule.left),
        left_values=pl.concat_list([value(t) for t in rule.left.terms]),
        right_values=pl.concat_list([value(t) for t in rule.right.terms]),
        file=_joined([f"{m}@file" for m in measures], unique=True),
        sheet=_joined([f"{m}@sheet" for m in measures], unique=True),
        cell=_joined([f"{m}@cell" for m in measures]),
        left_cells=_joined([f"{m}@cell" for m in rule.left.measures]),
        right_cells=_joined([f"{m}@cell" for m in rule.right.measures]),
    )


def _shown_decimals(ratio: str) -> pl.Expr:
    """Decimals the delivery shows, in percent points; inferred from the value when unknown."""
    pct = pl.col(ratio) * 100
    inferred = pl.coalesce([pl.when((pct - pct.round(d)).abs() < 1e-9).then(pl.lit(d)) for d in range(7)]
                           + [pl.lit(6)])
    return pl.coalesce(pl.col(f"{ratio}@decimals"), inferred).cast(pl.Int64)


def _stated_ratio(rule: Rule, source: catalog.Source, ctx: _Context) -> pl.DataFrame:
    rows = _rows(ctx.wide(source), rule.applies_to)
    frames = []
    for r in rule.measures_for(source):
        num, den = source.measure(r).ratio_of
        shown = _shown_decimals(r)
        tol = (pl.lit(10.0).pow(-shown) if rule.tolerance == LAST_SHOWN_DECIMAL
               else pl.lit(rule.tolerance, pl.Float64))
        computed = pl.when(pl.col(den) != 0).then(pl.col(num) / pl.col(den))
        frames.append(_select_items(
            rows, rule, source.id, measure=pl.lit(r),
            lhs=pl.col(r) * 100, op=pl.lit("=="), rhs=computed * 100, tolerance=tol,
            is_missing=(pl.col(r).is_null() | pl.col(num).is_null() | pl.col(den).is_null() | (pl.col(den) == 0)),
            expected=computed, actual=pl.col(r),
            left_values=pl.concat_list([pl.col(r)]), right_values=pl.concat_list([pl.col(num), pl.col(den)]),
            file=_joined([f"{r}@file", f"{num}@file", f"{den}@file"], unique=True),
            sheet=_joined([f"{r}@sheet", f"{num}@sheet", f"{den}@sheet"], unique=True),
            cell=_joined([f"{r}@cell", f"{num}@cell", f"{den}@cell"]),
            left_cells=pl.col(f"{r}@cell"), right_cells=_joined([f"{num}@cell", f"{den}@cell"]),
            detail=shown,
        ))
    return pl.concat(frames) if frames else _empty()


def _province(ctx_total: dict | None) -> tuple[str, str]:
    common = catalog.common()
    total = ctx_total or {}
    return total.get("unit_code") or common["province_code"], total.get("unit_name") or common["province_name_vi"]


def _stated_total(rule: Rule, source: catalog.Source, ctx: _Context) -> pl.DataFrame:
    total, units = ctx.total_and_units(source)
    if total is None and not units:
        return _empty()
    total = total or {}
    code, name = _province(total)
    out = []
    for m in rule.measures_for(source):
        present = [u for u in units if u[m] is not None]
        stated = total.get(m)
        missing = (stated is None or not present
                   or (rule.missing == "skip" and len(present) < len(units)))
        expected = float(sum(u[m] for u in present)) if present else None
        unit_cells = cell_range(u[f"{m}@cell"] for u in present)
        out.append(dict(
            period=ctx.period, source=source.id, rule_id=rule.id, rule_kind=rule.kind, severity=rule.severity,
            unit_kind=PROVINCE, unit_code=code, unit_name=name, measure=m,
            lhs=stated, op="==", rhs=expected, tolerance=rule.tolerance, is_missing=missing,
            expected=expected, actual=stated, left_values=[stated], right_values=None,
            file=total.get(f"{m}@file") or next((u[f"{m}@file"] for u in present), None),
            sheet=total.get(f"{m}@sheet") or next((u[f"{m}@sheet"] for u in present), None),
            cell="; ".join(c for c in (total.get(f"{m}@cell"), unit_cells) if c) or None,
            left_cells=total.get(f"{m}@cell"), right_cells=unit_cells or None,
            delivery_id=total.get("delivery_id"), detail=unit_cells or None,
        ))
    return _items(out)


def _first(series: pl.Series):
    s = series.drop_nulls()
    return s[0] if s.len() else None


def _province_figures(ctx: _Context, source: str, measure: str) -> dict[str, dict]:
    """Per month: the total row's figure, or the sum of unit rows when there is no total row."""
    obs = ctx.of(source, everything=True).filter((pl.col("measure") == measure) & pl.col("value").is_not_null())
    figures = {}
    for (period,), part in obs.group_by(["period"]):
        total = part.filter(pl.col("unit_kind") == PROVINCE)
        if total.height:
            row = total.row(0, named=True)
            figures[period] = dict(value=row["value"], file=row["file"], sheet=row["sheet"],
                                   cell=row["cell"], unit_name=row["unit_name"], unit_code=row["unit_code"])
        else:
            units = part.unique(["unit_code"], keep="first")
            figures[period] = dict(value=float(units["value"].sum()), file=_first(units["file"]),
                                   sheet=_first(units["sheet"]), cell=cell_range(units["cell"].to_list()),
                                   unit_name=None, unit_code=None)
    return figures


def _stock_not_falling(rule: Rule, source: catalog.Source, ctx: _Context) -> pl.DataFrame:
    total, units = ctx.total_and_units(source)
    if total is None and not units:
        return _empty()
    base = dict(period=ctx.period, source=source.id, rule_id=rule.id, rule_kind=rule.kind,
                severity=rule.severity, op=">=", tolerance=rule.tolerance)
    out = []
    for m in rule.measures_for(source):
        last = {u["unit_code"]: past[-1] for u in units
                for past in [ctx.earlier(source.id, m, u["unit_code"])] if past}
        if last and any(u[m] is not None for u in units):
            for u in units:
                prev = last.get(u["unit_code"]) or {}
                out.append(dict(base, unit_kind=u["unit_kind"], unit_code=u["unit_code"], unit_name=u["unit_name"],
                                measure=m, lhs=u[m], rhs=prev.get("value"), actual=u[m], expected=prev.get("value"),
                                is_missing=not prev or u[m] is None, file=u[f"{m}@file"], sheet=u[f"{m}@sheet"],
                                cell=u[f"{m}@cell"], delivery_id=u["delivery_id"], ref_period=prev.get("period"),
                                ref_file=prev.get("file"), ref_sheet=prev.get("sheet"), ref_cell=prev.get("cell")))
            continue
        figures = _province_figures(ctx, source.id, m)           # no unit rows to compare: province level
        now = figures.get(ctx.period)
        before = [p for p in sorted(figures) if p < ctx.period]
        prev = figures[before[-1]] if before else {}
        if now is None:
            continue
        code, name = _province(total)
        out.append(dict(base, unit_kind=PROVINCE, unit_code=code, unit_name=name, measure=m,
                        lhs=now["value"], rhs=prev.get("value"), actual=now["value"], expected=prev.get("value"),
                        is_missing=not prev, file=now["file"], sheet=now["sheet"], cell=now["cell"],
                        ref_period=before[-1] if before else None, ref_file=prev.get("file"),
                        ref_sheet=prev.get("sheet"), ref_cell=prev.get("cell")))
    return _items(out)


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
    """(method, score, limit, expected value) for the last value of a unit's series, or None."""
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


def _outlier(rule: Rule, source: catalog.Source, ctx: _Context) -> pl.DataFrame:
    _, units = ctx.total_and_units(source)
    base = dict(period=ctx.period, source=source.id, rule_id=rule.id, rule_kind=rule.kind,
                severity=rule.severity, op="<=", tolerance=rule.tolerance)
    out = []
    for m in rule.measures_for(source):
        for u in (u for u in units if u[m] is not None):
            past = ctx.earlier(source.id, m, u["unit_code"])
            test = _outlier_test([r["value"] for r in past] + [u[m]], rule.params)
            prev = past[-1] if past else {}
            method, score, limit, expected = test or (None, None, None, None)
            out.append(dict(base, unit_kind=u["unit_kind"], unit_code=u["unit_code"], unit_name=u["unit_name"],
                            measure=m, lhs=score, rhs=limit, is_missing=test is None, actual=u[m],
                            expected=expected, file=u[f"{m}@file"], sheet=u[f"{m}@sheet"], cell=u[f"{m}@cell"],
                            delivery_id=u["delivery_id"], detail=method, ref_period=prev.get("period"),
                            ref_file=prev.get("file"), ref_sheet=prev.get("sheet"), ref_cell=prev.get("cell")))
    return _items(out)


def _completeness_units(rule: Rule, source: catalog.Source, ctx: _Context) -> pl.DataFrame:
    delivered = ctx.of(source.id)
    if delivered.is_empty():
        return _empty()                                    # not delivered: completeness_sources says so
    obs = delivered.filter(pl.col("unit_kind") != PROVINCE)
    as_of = delivered["as_of_date"].drop_nulls().max()
    per_unit = (obs.group_by("unit_code", "measure").agg(pl.len().alias("n"), pl.col("cell"), pl.col("unit_name").first())
                .sort("n", descending=True).group_by("unit_code", maintain_order=True).first())
    found = {r["unit_code"]: r for r in per_unit.iter_rows(named=True)}
    files = "; ".join(delivered["file"].unique(maintain_order=True).to_list())
    sheets = "; ".join(delivered["sheet"].unique(maintain_order=True).to_list())
    base = dict(period=ctx.period, source=source.id, rule_id=rule.id, rule_kind=rule.kind,
                severity=rule.severity, op="==", tolerance=0.0, is_missing=False, file=files, sheet=sheets,
                delivery_id=delivered["delivery_id"].max())
    out = []
    expected = ctx.expected_units(source.unit_kind, as_of)
    for unit in expected:
        hit = found.get(unit.unit_code)
        n = hit["n"] if hit else 0
        out.append(dict(base, unit_kind=unit.unit_kind, unit_code=unit.unit_code, unit_name=unit.name_vi,
                        lhs=n, rhs=1, actual=n, expected=1, cell="; ".join(hit["cell"]) if n > 1 else None,
                        detail="missing" if n == 0 else ("duplicate" if n > 1 else None)))
    known = {u.unit_code for u in expected}
    for code, hit in found.items():
        if code not in known:
            out.append(dict(base, unit_kind=source.unit_kind, unit_code=code, unit_name=hit["unit_name"],
                            lhs=hit["n"], rhs=0, actual=hit["n"], expected=0, cell="; ".join(hit["cell"]),
                            detail="unexpected"))
    return _items(out)


def _completeness_sources(rule: Rule, source: catalog.Source, ctx: _Context) -> pl.DataFrame:
    delivered = ctx.of(source.id)
    common = catalog.common()
    return _items([dict(
        period=ctx.period, source=source.id, rule_id=rule.id, rule_kind=rule.kind, severity=rule.severity,
        unit_kind=PROVINCE, unit_code=common["province_code"], unit_name=common["province_name_vi"],
        lhs=1.0 if delivered.height else 0.0, op="==", rhs=1.0, tolerance=0.0, is_missing=False,
        actual=1.0 if delivered.height else 0.0, expected=1.0,
        file=_first(delivered["file"]) if delivered.height else None,
        delivery_id=delivered["delivery_id"].max() if delivered.height else None,
    )])


BUILDERS = {
    "compare": _compare, "stated_ratio": _stated_ratio, "stated_total": _stated_total,
    "stock_not_falling": _stock_not_falling, "outlier": _outlier,
    "completeness_units": _completeness_units, "completeness_sources": _completeness_sources,
}


# ----------------------------------------------------------------------------- pandera

def _rule_check(rule_id: str) -> Callable:
    """A dataframe-level pandera check: row-aligned booleans, True where the rule holds or does not apply."""
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
            "rule_id": pa.Column(pl.String), "op": pa.Column(pl.String, pa.Check.isin(["==", "<=", ">="])),
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


# ----------------------------------------------------------------------------- evaluation

def _normalise(observations: pl.DataFrame) -> pl.DataFrame:
    return _conform(observations, OBSERVATION_SCHEMA)


def _summary(items: pl.DataFrame, failed: list[int], rules: Sequence[Rule], sources: Iterable[str],
             period: str) -> pl.DataFrame:
    flagged = items.with_row_index("_i").with_columns(pl.col("_i").is_in(failed).alias("_failed"))
    counts = flagged.group_by("source", "rule_id").agg(
        pl.len().alias("items"), pl.col("_failed").sum().alias("failed"), pl.col("is_missing").sum().alias("missing"))
    wanted = set(sources)
    pairs = pl.DataFrame(
        [dict(period=period, source=s, rule_id=r.id, rule_kind=r.kind, severity=r.severity)
         for r in rules for s in r.sources if s in wanted],
        schema={k: SUMMARY_SCHEMA[k] for k in ("period", "source", "rule_id", "rule_kind", "severity")})
    out = (pairs.join(counts, on=["source", "rule_id"], how="left")
           .with_columns(pl.col("items", "failed", "missing").fill_null(0).cast(pl.Int64))
           .with_columns((pl.col("items") - pl.col("failed") - pl.col("missing")).alias("passed")))
    return _conform(out, SUMMARY_SCHEMA).sort("source", "rule_id")


def _findings(items: pl.DataFrame, failed: list[int], rules: Sequence[Rule],
              sources: Mapping[str, catalog.Source]) -> pl.DataFrame:
    by_id = {r.id: r for r in rules}
    rows = []
    picked = items.with_row_index("_i").filter(pl.col("_i").is_in(failed)).drop("_i")
    for row in picked.iter_rows(named=True):
        vi, en = messages.render(by_id[row["rule_id"]], row, sources.get(row["source"]))
        diff = None if row["actual"] is None or row["expected"] is None else row["actual"] - row["expected"]
        rows.append({**row, "difference": diff, "message_vi": vi, "message_en": en})
    frame = pl.DataFrame([{c: r.get(c) for c in FINDING_SCHEMA} for r in rows], schema=FINDING_SCHEMA)
    order = pl.col("severity").replace_strict({"error": 0, "warning": 1}, default=2, return_dtype=pl.Int8)
    return frame.sort(order, "source", "rule_id", "unit_code")


def reconcile(
    observations: pl.DataFrame,
    period: str,
    rules: Sequence[Rule] | None = None,
    *,
    sources: Mapping[str, catalog.Source] | None = None,
    expected_units: Callable[[str, date | None], list] = catalog.expected_units,
    kinds: Iterable[str] | None = None,
    only_sources: Iterable[str] | None = None,
) -> Reconciliation:
    """Evaluate the rules for one month.

    `observations` has the shape of staging.observations and holds the month and any earlier
    months (used by the month-over-month rules). `kinds` limits the rule kinds run and
    `only_sources` the sources (both default to all).
    """
    sources = sources if sources is not None else catalog.sources()
    rules = tuple(rules if rules is not None else load_rules(sources=sources))
    if kinds is not None:
        rules = tuple(r for r in rules if r.kind in set(kinds))
    everything = _normalise(observations).filter(pl.col("period") <= period)
    ctx = _Context(period, everything.filter(pl.col("period") == period), everything, sources, expected_units)
    in_scope = list(only_sources) if only_sources is not None else list(sources)
    frames = [BUILDERS[r.kind](r, sources[s], ctx) for r in rules for s in r.sources if s in in_scope]
    items = pl.concat(frames) if frames else _empty()
    items = items.with_columns(pl.col("is_missing") | pl.col("lhs").is_null() | pl.col("rhs").is_null())
    failed = failing_rows(items, rules)
    return Reconciliation(
        period=period,
        findings=_findings(items, failed, rules, sources),
        summary=_summary(items, failed, rules, in_scope, period),
        items=items,
    )


def check_delivery(
    observations: pl.DataFrame,
    rules: Sequence[Rule] | None = None,
    history: pl.DataFrame | None = None,
    **kwargs,
) -> Reconciliation:
    """Findings for one delivery before it is filed (for `p06 check PATH`).

    Only the delivery's own sources are checked and source completeness is skipped; the
    month-over-month rules run only when `history` (earlier observations) is given.
    """
    obs = _normalise(observations)
    periods = obs["period"].unique().to_list()
    if len(periods) != 1:
        raise ValueError(f"a delivery covers one month, found {sorted(periods)}")
    kinds = {"compare", "stated_ratio", "stated_total", "completeness_units"}
    if history is not None:
        kinds |= {"stock_not_falling", "outlier"}
        obs = pl.concat([_normalise(history).filter(pl.col("period") < periods[0]), obs])
    return reconcile(obs, periods[0], rules, kinds=kinds,
                     only_sources=observations["source"].unique().to_list(), **kwargs)


# ----------------------------------------------------------------------------- per source

def source_findings(findings: pl.DataFrame, source: str) -> pl.DataFrame:
    """The findings of one source (for its Dagster asset check)."""
    return findings.filter(pl.col("source") == source)


def source_summary(summary: pl.DataFrame, source: str) -> pl.DataFrame:
    """The per-rule summary rows of one source."""
    return summary.filter(pl.col("source") == source)


@dataclass(frozen=True)
class SourceCheck:
    """What a per-source asset check shows: counts, the failing cases, the rule summary."""
    source: str
    errors: int
    warnings: int
    failing: pl.DataFrame
    summary: pl.DataFrame

    @property
    def passed(self) -> bool:
        return self.errors == 0 and self.warnings == 0

    @property
    def severity(self) -> str | None:
        return "error" if self.errors else ("warning" if self.warnings else None)


def source_check(result: Reconciliation, source: str) -> SourceCheck:
    failing = source_findings(result.findings, source)
    return SourceCheck(
        source=source,
        errors=failing.filter(pl.col("severity") == "error").height,
        warnings=failing.filter(pl.col("severity") == "warning").height,
        failing=failing.select("unit_code", "unit_name", "rule_id", "severity", "expected", "actual",
                               "difference", "file", "sheet", "cell", "message_vi"),
        summary=source_summary(result.summary, source),
    )


def format_summary(result: Reconciliation, limit: int = 20) -> str:
    """A short text summary of a month's findings (for `p06 run` / `p06 check`)."""
    f = result.findings
    lines = [f"{result.period}: {result.errors} error(s), {result.warnings} warning(s) "
             f"from {result.summary['items'].sum()} rule instances"]
    for row in f.head(limit).iter_rows(named=True):
        lines.append(f"  [{row['severity']}] {row['source']} {row['unit_code']} {row['rule_id']}: {row['message_en']}")
    if f.height > limit:
        lines.append(f"  ... and {f.height - limit} more")
    return "\n".join(lines)
