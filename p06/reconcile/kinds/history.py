"""Rule kinds against earlier months: stocks that must not fall, and month-over-month outliers."""
from __future__ import annotations

import math
from statistics import median
from typing import Mapping, Sequence

import polars as pl

from p06 import catalog
from p06.reconcile.frames import (
    PROVINCE,
    cell_range,
    first,
    items,
    no_items,
    rule_fields,
)
from p06.reconcile.month import Month, province_of
from p06.reconcile.rules import Rule


def _province_figures(month: Month, source: str, measure: str) -> dict[str, dict]:
    """Per month: the total row's figure, or the sum of unit rows when there is no total row."""
    obs = month.of(source, everything=True).filter((pl.col("measure") == measure) & pl.col("value").is_not_null())
    figures = {}
    for (period,), part in obs.group_by(["period"]):
        total = part.filter(pl.col("unit_kind") == PROVINCE)
        if total.height:
            row = total.row(0, named=True)
            figures[period] = dict(value=row["value"], file=row["file"], sheet=row["sheet"], cell=row["cell"])
        else:
            units = part.unique(["unit_code"], keep="first")
            figures[period] = dict(value=float(units["value"].sum()), file=first(units["file"]),
                                   sheet=first(units["sheet"]), cell=cell_range(units["cell"].to_list()))
    return figures


def stock_not_falling(rule: Rule, source: catalog.Source, month: Month) -> pl.DataFrame:
    """Each unit's figure against its last earlier one; the province figure when earlier months
    have no unit rows for the measure."""
    total, units = month.total_and_units(source)
    if total is None and not units:
        return no_items()
    base = rule_fields(rule, source.id, month.period, op=">=", tolerance=rule.tolerance)
    out = []
    for m in rule.measures_for(source):
        last = {u["unit_code"]: past[-1] for u in units
                for past in [month.earlier(source.id, m, u["unit_code"])] if past}
        if last and any(u[m] is not None for u in units):
            for u in units:
                prev = last.get(u["unit_code"]) or {}
                out.append(dict(base, unit_kind=u["unit_kind"], unit_code=u["unit_code"], unit_name=u["unit_name"],
                                measure=m, lhs=u[m], rhs=prev.get("value"), actual=u[m], expected=prev.get("value"),
                                is_missing=not prev or u[m] is None, file=u[f"{m}@file"], sheet=u[f"{m}@sheet"],
                                cell=u[f"{m}@cell"], delivery_id=u["delivery_id"], ref_period=prev.get("period"),
                                ref_file=prev.get("file"), ref_sheet=prev.get("sheet"), ref_cell=prev.get("cell")))
            continue
        figures = _province_figures(month, source.id, m)
        now = figures.get(month.period)
        if now is None:
            continue
        before = [p for p in sorted(figures) if p < month.period]
        prev = figures[before[-1]] if before else {}
        code, name = province_of(total)
        out.append(dict(base, unit_kind=PROVINCE, unit_code=code, unit_name=name, measure=m,
                        lhs=now["value"], rhs=prev.get("value"), actual=now["value"], expected=prev.get("value"),
                        is_missing=not prev, file=now["file"], sheet=now["sheet"], cell=now["cell"],
                        ref_period=before[-1] if before else None, ref_file=prev.get("file"),
                        ref_sheet=prev.get("sheet"), ref_cell=prev.get("cell")))
    return items(out)


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


def outlier(rule: Rule, source: catalog.Source, month: Month) -> pl.DataFrame:
    """Each unit's figure against its own earlier months (a warning when unusual)."""
    _, units = month.total_and_units(source)
    base = rule_fields(rule, source.id, month.period, op="<=", tolerance=rule.tolerance)
    out = []
    for m in rule.measures_for(source):
        for u in (u for u in units if u[m] is not None):
            past = month.earlier(source.id, m, u["unit_code"])
            test = _outlier_test([r["value"] for r in past] + [u[m]], rule.params)
            prev = past[-1] if past else {}
            method, score, limit, expected = test or (None, None, None, None)
            out.append(dict(base, unit_kind=u["unit_kind"], unit_code=u["unit_code"], unit_name=u["unit_name"],
                            measure=m, lhs=score, rhs=limit, is_missing=test is None, actual=u[m],
                            expected=expected, file=u[f"{m}@file"], sheet=u[f"{m}@sheet"], cell=u[f"{m}@cell"],
                            delivery_id=u["delivery_id"], detail=method, ref_period=prev.get("period"),
                            ref_file=prev.get("file"), ref_sheet=prev.get("sheet"), ref_cell=prev.get("cell")))
    return items(out)
