"""Rule kinds over one delivery's own figures: parts against their whole (compare), stated ratios
against the ratio of their parts, and the total row against the sum of the unit rows."""
from __future__ import annotations

import polars as pl

from p06 import catalog, reference, staging
from p06.periods import period_end as month_end
from p06.reconcile.frames import (
    PROVINCE,
    SUBTOTAL,
    cell_range,
    items,
    joined,
    no_items,
    rule_fields,
    select_items,
)
from p06.reconcile.month import Month, province_of, rows_for
from p06.reconcile.rules import LAST_SHOWN_DECIMAL, Rule


def compare(rule: Rule, source: catalog.Source, month: Month) -> pl.DataFrame:
    """`left op right` on every row the rule applies to."""
    rows = rows_for(month.wide(source), rule.applies_to)
    measures = rule.left.measures + rule.right.measures
    blank = [pl.col(m).is_null() for m in measures]

    def value(t) -> pl.Expr:
        if t.measure is None:
            return pl.lit(t.constant, pl.Float64)
        return pl.col(t.measure).fill_null(0) if rule.missing == "zero" else pl.col(t.measure)

    def side(expr) -> pl.Expr:
        return pl.sum_horizontal([t.sign * value(t) for t in expr.terms])

    return select_items(
        rows, rule, source.id, measure=pl.lit(measures[0]),
        lhs=side(rule.left), op=pl.lit(rule.op), rhs=side(rule.right), tolerance=pl.lit(rule.tolerance),
        is_missing=pl.any_horizontal(blank) if rule.missing == "skip" else pl.all_horizontal(blank),
        expected=side(rule.right), actual=side(rule.left),
        left_values=pl.concat_list([value(t) for t in rule.left.terms]),
        right_values=pl.concat_list([value(t) for t in rule.right.terms]),
        file=joined([f"{m}@file" for m in measures], unique=True),
        sheet=joined([f"{m}@sheet" for m in measures], unique=True),
        cell=joined([f"{m}@cell" for m in measures]),
        left_cells=joined([f"{m}@cell" for m in rule.left.measures]),
        right_cells=joined([f"{m}@cell" for m in rule.right.measures]),
    )


def _shown_decimals(ratio: str) -> pl.Expr:
    """Decimals the delivery shows, in percent points; inferred from the value when unknown."""
    pct = pl.col(ratio) * 100
    inferred = pl.coalesce([pl.when((pct - pct.round(d)).abs() < 1e-9).then(pl.lit(d)) for d in range(7)]
                           + [pl.lit(6)])
    return pl.coalesce(pl.col(f"{ratio}@decimals"), inferred).cast(pl.Int64)


def stated_ratio(rule: Rule, source: catalog.Source, month: Month) -> pl.DataFrame:
    """A stated ratio against numerator / denominator, compared in percent points."""
    rows = rows_for(month.wide(source), rule.applies_to)
    frames = []
    for r in rule.measures_for(source):
        num, den = source.measure(r).ratio_of
        shown = _shown_decimals(r)
        tol = (pl.lit(10.0).pow(-shown) if rule.tolerance == LAST_SHOWN_DECIMAL
               else pl.lit(rule.tolerance, pl.Float64))
        computed = pl.when(pl.col(den) != 0).then(pl.col(num) / pl.col(den))
        frames.append(select_items(
            rows, rule, source.id, measure=pl.lit(r),
            lhs=pl.col(r) * 100, op=pl.lit("=="), rhs=computed * 100, tolerance=tol,
            is_missing=(pl.col(r).is_null() | pl.col(num).is_null() | pl.col(den).is_null() | (pl.col(den) == 0)),
            expected=computed, actual=pl.col(r),
            left_values=pl.concat_list([pl.col(r)]), right_values=pl.concat_list([pl.col(num), pl.col(den)]),
            file=joined([f"{r}@file", f"{num}@file", f"{den}@file"], unique=True),
            sheet=joined([f"{r}@sheet", f"{num}@sheet", f"{den}@sheet"], unique=True),
            cell=joined([f"{r}@cell", f"{num}@cell", f"{den}@cell"]),
            left_cells=pl.col(f"{r}@cell"), right_cells=joined([f"{num}@cell", f"{den}@cell"]),
            detail=shown,
        ))
    return pl.concat(frames) if frames else no_items()


def stated_total(rule: Rule, source: catalog.Source, month: Month) -> pl.DataFrame:
    """The total row's figure against the sum of the unit rows, per measure; and each stated subtotal row
    ('Khối miền núi') against the sum of the unit rows it covers."""
    total, units = month.total_and_units(source)
    if total is None and not units:
        return no_items()
    olds = {u["old_province"] for u in units} | {t["old_province"] for t in month.totals(source)}
    if olds - {None}:           # a merged province's month: each old province's total against its own units
        out = []
        for old in sorted(olds - {None}):
            own_total = next((t for t in month.totals(source) if t["old_province"] == old), None)
            own = [u for u in units if u["old_province"] == old]
            out += _total_items(rule, source, month, own_total or {}, own, PROVINCE,
                                *province_of(own_total or {"unit_code": old, "unit_name": reference.province_name(
                                    old, month_end(month.period))}))
    else:
        out = _total_items(rule, source, month, total or {}, units, PROVINCE, *province_of(total))
    for sub in month.subtotals(source):
        covered = _part_units(sub, units, rule.measures_for(source))
        if covered is None:
            covered = [u for u in units if u["group_label"] == sub["unit_code"]]
        out += _total_items(rule, source, month, sub, covered, SUBTOTAL, sub["unit_code"], sub["unit_name"])
    return items(out)


def _part_units(sub: dict, units: list[dict], measures: list[str]) -> list[dict] | None:
    """The units of a part's total or subtotal row (a delivery in several files or sheets: `staging.part_total_code`,
    `staging.part_subtotal_code`): those whose figures come from its file and sheet (and of its block); None for
    a regional or group subtotal of a delivery in one part."""
    for m in measures:
        file, sheet = sub.get(f"{m}@file"), sub.get(f"{m}@sheet")
        if not file:
            continue
        mine = [u for u in units if any(u.get(f"{n}@file") == file and u.get(f"{n}@sheet") == sheet for n in measures)]
        if sub["unit_code"] == staging.part_total_code(file, sheet):
            return mine
        if sub["group_label"] and sub["unit_code"] == staging.part_subtotal_code(sub["group_label"], file, sheet):
            return [u for u in mine if u["group_label"] == sub["group_label"]]
    return None


def _total_items(rule: Rule, source: catalog.Source, month: Month, total: dict, units: list[dict],
                 unit_kind: str, code: str, name: str) -> list[dict]:
    out = []
    for m in rule.measures_for(source):
        present = [u for u in units if u[m] is not None]
        stated = total.get(m)
        missing = (stated is None or not present
                   or (rule.missing == "skip" and len(present) < len(units)))
        expected = float(sum(u[m] for u in present)) if present else None
        unit_cells = cell_range(u[f"{m}@cell"] for u in present)
        out.append(rule_fields(
            rule, source.id, month.period, unit_kind=unit_kind, unit_code=code, unit_name=name, measure=m,
            lhs=stated, op="==", rhs=expected, tolerance=rule.tolerance, is_missing=missing,
            expected=expected, actual=stated, left_values=[stated], right_values=None,
            file=total.get(f"{m}@file") or next((u[f"{m}@file"] for u in present), None),
            sheet=total.get(f"{m}@sheet") or next((u[f"{m}@sheet"] for u in present), None),
            cell="; ".join(c for c in (total.get(f"{m}@cell"), unit_cells) if c) or None,
            left_cells=total.get(f"{m}@cell"), right_cells=unit_cells or None,
            delivery_id=total.get("delivery_id"), detail=unit_cells or None,
        ))
    return out
