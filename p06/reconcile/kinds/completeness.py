"""Rule kinds on what was delivered: every expected unit once, every expected source."""
from __future__ import annotations

import polars as pl

from p06 import catalog, reference
from p06.ingest.as_of import default_as_of
from p06.reconcile.frames import PROVINCE, UNIT_ROWS, first, items, no_items, rule_fields, select_items
from p06.reconcile.month import Month, province_of, rows_for
from p06.reconcile.rules import Rule


def completeness_units(rule: Rule, source: catalog.Source, month: Month) -> pl.DataFrame:
    """Per expected unit: how often it is listed (1 passes); units listed but not expected fail too."""
    delivered = month.of(source.id)
    if delivered.is_empty():
        return no_items()                                  # not delivered: completeness_sources says so
    obs = delivered.filter(UNIT_ROWS)
    as_of = delivered["as_of_date"].drop_nulls().max() or default_as_of(month.period)
    if reference.old_provinces(None, as_of):
        return _completeness_of_old_provinces(rule, source, month, delivered, as_of)
    per_unit = (obs.group_by("unit_code", "measure").agg(pl.len().alias("n"), pl.col("cell"), pl.col("unit_name").first())
                .sort("n", descending=True).group_by("unit_code", maintain_order=True).first())
    found = {r["unit_code"]: r for r in per_unit.iter_rows(named=True)}
    base = rule_fields(rule, source.id, month.period, op="==", tolerance=0.0, is_missing=False,
                       file="; ".join(delivered["file"].unique(maintain_order=True).to_list()),
                       sheet="; ".join(delivered["sheet"].unique(maintain_order=True).to_list()),
                       delivery_id=delivered["delivery_id"].max())
    out = []
    unit_kind = source.unit_kind_in(month.period)
    expected = month.expected_units(unit_kind, as_of)
    for unit in expected:
        hit = found.get(unit.unit_code)
        n = hit["n"] if hit else 0
        out.append(dict(base, unit_kind=unit.unit_kind, unit_code=unit.unit_code, unit_name=unit.name_vi,
                        lhs=n, rhs=1, actual=n, expected=1, cell="; ".join(hit["cell"]) if n > 1 else None,
                        detail="missing" if n == 0 else ("duplicate" if n > 1 else None)))
    known = {u.unit_code for u in expected}
    for code, hit in found.items():
        if code not in known:
            out.append(dict(base, unit_kind=unit_kind, unit_code=code, unit_name=hit["unit_name"],
                            lhs=hit["n"], rhs=0, actual=hit["n"], expected=0, cell="; ".join(hit["cell"]),
                            detail="unexpected"))
    return items(out)


def _completeness_of_old_provinces(rule: Rule, source: catalog.Source, month: Month, delivered: pl.DataFrame,
                                   as_of) -> pl.DataFrame:
    """A merged province's month before the merger: each old province's units once in its own file; an old
    province with no file at all is one item, "no delivery from Tỉnh Nam Định" (detail 'no_delivery'), its
    province figure partial."""
    obs = delivered.filter(UNIT_ROWS)
    per_unit = (obs.group_by("old_province", "unit_code", "measure")
                .agg(pl.len().alias("n"), pl.col("cell"), pl.col("unit_name").first(), pl.col("file").first())
                .sort("n", descending=True).group_by("old_province", "unit_code", maintain_order=True).first())
    found = {(r["old_province"], r["unit_code"]): r for r in per_unit.iter_rows(named=True)}
    unit_kind = source.unit_kind_in(month.period)
    out = []
    for part in reference.old_provinces(None, as_of):
        mine = delivered.filter(pl.col("old_province") == part.unit_code)
        base = rule_fields(rule, source.id, month.period, op="==", tolerance=0.0, is_missing=False,
                           file="; ".join(mine["file"].unique(maintain_order=True).to_list()) or None,
                           sheet="; ".join(mine["sheet"].unique(maintain_order=True).to_list()) or None,
                           delivery_id=mine["delivery_id"].max() if mine.height else None)
        if mine.is_empty():
            out.append(dict(base, unit_kind="old_province", unit_code=part.unit_code, unit_name=part.name_vi,
                            lhs=0, rhs=1, actual=0, expected=1, detail="no_delivery"))
            continue
        expected = reference.old_province_units(unit_kind, part.unit_code, as_of)
        for unit in expected:
            hit = found.get((part.unit_code, unit.unit_code))
            n = hit["n"] if hit else 0
            out.append(dict(base, unit_kind=unit.unit_kind, unit_code=unit.unit_code, unit_name=unit.name_vi,
                            lhs=n, rhs=1, actual=n, expected=1, cell="; ".join(hit["cell"]) if n > 1 else None,
                            detail="missing" if n == 0 else ("duplicate" if n > 1 else None)))
        known = {u.unit_code for u in expected}
        for (old, code), hit in found.items():
            if old == part.unit_code and code not in known:
                out.append(dict(base, unit_kind=unit_kind, unit_code=code, unit_name=hit["unit_name"],
                                lhs=hit["n"], rhs=0, actual=hit["n"], expected=0, cell="; ".join(hit["cell"]),
                                detail="unexpected"))
    return items(out)


def completeness_figures(rule: Rule, source: catalog.Source, month: Month) -> pl.DataFrame:
    """Per unit row and measure: the unit left blank a figure that other units reported (the column is
    in the delivery). Its province figure then sums fewer units: publishing marks it partial."""
    rows = rows_for(month.wide(source), "unit_rows")
    frames = []
    for m in rule.measures_for(source):
        if m not in rows.columns or rows[m].is_null().all():
            continue                   # not delivered at all: completeness of columns is the schema's
        reported = pl.col(m).is_not_null().cast(pl.Float64)
        frames.append(select_items(
            rows, rule, source.id, measure=pl.lit(m), lhs=reported, op=pl.lit("=="), rhs=pl.lit(1.0),
            tolerance=pl.lit(0.0), is_missing=pl.lit(False), expected=pl.lit(1.0), actual=reported,
            file=pl.col(f"{m}@file"), sheet=pl.col(f"{m}@sheet"), cell=pl.col(f"{m}@cell"),
            left_cells=pl.col(f"{m}@cell")))
    return pl.concat(frames) if frames else no_items()


def completeness_sources(rule: Rule, source: catalog.Source, month: Month) -> pl.DataFrame:
    """One item per source expected in the month: delivered or not (a source not expected is not missing)."""
    delivered = month.of(source.id)
    if not source.expected_in(month.period) and delivered.is_empty():
        return no_items()
    got = 1.0 if delivered.height else 0.0
    code, name = province_of(None)
    return items([rule_fields(
        rule, source.id, month.period, unit_kind=PROVINCE, unit_code=code, unit_name=name,
        lhs=got, op="==", rhs=1.0, tolerance=0.0, is_missing=False, actual=got, expected=1.0,
        file=first(delivered["file"]) if delivered.height else None,
        delivery_id=delivered["delivery_id"].max() if delivered.height else None,
    )])
