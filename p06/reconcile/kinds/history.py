"""Rule kinds against earlier months: stocks that must not fall, and month-over-month outliers.

A unit is compared only with itself: the same kind and code naming the same unit of the reference
(p06.reference) in both months, since codes are reused. Where the units changed (districts in 2025-06,
communes in 2025-07; 11 tax offices, then 10 tax units) no unit has a comparable past, and the rule compares
the province figures instead, saying in the item's detail that the unit level was not comparable.
"""
from __future__ import annotations

import math
from functools import lru_cache
from statistics import median
from typing import Mapping, Sequence

import polars as pl

from p06 import catalog, reference
from p06.periods import period_end, previous_period
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


@lru_cache(maxsize=1 << 16)
def _same_unit(kind: str, code: str, day, other_day, province: str) -> bool:
    """Kind and code name the same unit on both days; a code the reference does not know is compared as such."""
    now, then = reference.unit_at(kind, code, day, province), reference.unit_at(kind, code, other_day, province)
    if now is None and then is None:
        return True
    return now is not None and then is not None and now.key == then.key


def comparable_past(month: Month, source: str, measure: str, unit: dict) -> list[dict]:
    """The unit's earlier figures that are figures of the same unit (oldest first)."""
    day, province = period_end(month.period), reference.province_code()
    return [p for p in month.earlier(source, measure, unit["unit_code"], unit["unit_kind"])
            if _same_unit(unit["unit_kind"], unit["unit_code"], day, period_end(p["period"]), province)]


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


def not_comparable(month: Month, source: str, measure: str, units: list[dict]) -> str | None:
    """Why the unit level cannot be compared with the last earlier month that has unit rows ('district
    units in 2025-06, commune units in 2025-07'), or None when it can (or there is nothing to compare)."""
    before, kinds = month.unit_kinds_before(source, measure)
    if before is None or not units or any(comparable_past(month, source, measure, u) for u in units):
        return None
    now = sorted({u["unit_kind"] for u in units})
    return (f"unit level not comparable: {', '.join(sorted(kinds))} units in {before}, "
            f"{', '.join(now)} units in {month.period}; compared at the province level")


def stock_not_falling(rule: Rule, source: catalog.Source, month: Month) -> pl.DataFrame:
    """Each unit's figure against its last earlier one of the same unit; the province figure when earlier
    months have no unit rows for the measure, or when the units changed (the item's detail says so)."""
    total, units = month.total_and_units(source)
    if total is None and not units:
        return no_items()
    base = rule_fields(rule, source.id, month.period, op=">=", tolerance=rule.tolerance)
    out = []
    for m in rule.measures_for(source):
        last = {u["unit_code"]: past[-1] for u in units
                for past in [comparable_past(month, source.id, m, u)] if past}
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
                        detail=not_comparable(month, source.id, m, [u for u in units if u[m] is not None]),
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
    """Each unit's figure against its own earlier months, consecutive up to the month before (a warning when
    unusual); the province figure against the province's earlier months when the units changed."""
    total, units = month.total_and_units(source)
    base = rule_fields(rule, source.id, month.period, op="<=", tolerance=rule.tolerance)
    out = []
    for m in rule.measures_for(source):
        reported = [u for u in units if u[m] is not None]
        why = not_comparable(month, source.id, m, reported)
        if why:
            out.append(_province_outlier(rule, base, source, month, m, total, why))
            continue
        for u in reported:
            past = consecutive(comparable_past(month, source.id, m, u), month.period)
            test = _outlier_test([r["value"] for r in past] + [u[m]], rule.params)
            prev = past[-1] if past else {}
            method, score, limit, expected = test or (None, None, None, None)
            out.append(dict(base, unit_kind=u["unit_kind"], unit_code=u["unit_code"], unit_name=u["unit_name"],
                            measure=m, lhs=score, rhs=limit, is_missing=test is None, actual=u[m],
                            expected=expected, file=u[f"{m}@file"], sheet=u[f"{m}@sheet"], cell=u[f"{m}@cell"],
                            delivery_id=u["delivery_id"], detail=method, ref_period=prev.get("period"),
                            ref_file=prev.get("file"), ref_sheet=prev.get("sheet"), ref_cell=prev.get("cell")))
    return items(out)


def _province_outlier(rule: Rule, base: dict, source: catalog.Source, month: Month, m: str, total: dict | None,
                      why: str) -> dict:
    """The outlier test on the province's series (total rows, or sums of unit rows), for a month whose units
    cannot be compared with earlier ones. The detail is the method, then why: 'jump; unit level not ...'."""
    figures = _province_figures(month, source.id, m)
    now = figures.get(month.period)
    past = consecutive([dict(f, period=p) for p, f in sorted(figures.items()) if p < month.period], month.period)
    test = _outlier_test([f["value"] for f in past] + [now["value"]], rule.params) if now else None
    before = [f["period"] for f in past]
    prev = past[-1] if past else {}
    method, score, limit, expected = test or (None, None, None, None)
    code, name = province_of(total)
    now = now or {}
    return dict(base, unit_kind=PROVINCE, unit_code=code, unit_name=name, measure=m, lhs=score, rhs=limit,
                is_missing=test is None, actual=now.get("value"), expected=expected, file=now.get("file"),
                sheet=now.get("sheet"), cell=now.get("cell"), detail=f"{method}; {why}" if method else why,
                ref_period=before[-1] if before else None, ref_file=prev.get("file"), ref_sheet=prev.get("sheet"),
                ref_cell=prev.get("cell"))
