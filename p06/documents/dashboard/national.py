"""What the national dashboard shows, read from the national warehouse `p06 national` builds (the contract:
marts.indicator_monthly with province and nation rows, marts.province_publications, marts.province_ranking,
marts.national_build). Every month of the warehouse is embedded; the page opens on the latest.

Provinces are those of the reference valid at the month's end (34 since July 2025): a province that never
published a copy is listed with none, never left out.
"""
from __future__ import annotations

import duckdb

from p06 import periods, reference
from p06.documents.dashboard.config import texts
from p06.documents.dashboard.data import _headline_codes, _num, _rows, _signed, month_label
from p06.publish.indicator_catalog import load
from p06.wording import so


def _indicators(codes: set[str]) -> dict[str, dict]:
    cat, t = load(), texts()
    out = {}
    for code in [c for c in cat.indicators if c in codes] + sorted(codes - set(cat.indicators)):
        ind = cat.indicators.get(code)
        out[code] = {"name": ind.name_vi if ind else code, "unit": ind.unit_vi if ind else "",
                     "decimals": ind.decimals if ind else 2, "group": ind.group if ind else 0,
                     "ratio": bool(ind and ind.is_ratio), "lower_better": code in t.lower_is_better}
    return out


def _provinces(period: str, seen: dict[str, str]) -> list[dict]:
    """Every province of the reference at the month's end, with those the warehouse names but the reference lacks."""
    listed = {u.unit_code: u.name_vi for u in reference.all_units("province", on=periods.period_end(period))}
    return [{"code": c, "name": n} for c, n in sorted({**seen, **listed}.items())]


def page_data(con: duckdb.DuckDBPyConnection) -> dict:
    rows = _rows(con, "SELECT * FROM marts.indicator_monthly ORDER BY period, indicator_id, unit_level, unit_code", [])
    months = sorted({r["period"] for r in rows})
    info = _indicators({r["indicator_id"] for r in rows})
    nation: dict[str, dict] = {}
    provinces: dict[str, dict[str, list]] = {}
    names: dict[str, str] = {}
    for r in rows:
        d = info[r["indicator_id"]]["decimals"]
        if r["unit_level"] == "nation":
            change = r["value"] - r["previous_value"] if r["value"] is not None and r["previous_value"] is not None else None
            nation.setdefault(r["period"], {})[r["indicator_id"]] = {
                "value": _num(r["value"]), "text": so(r["value"], d) if r["value"] is not None else None,
                "target_text": so(r["target"], 0) if r["target"] is not None else None,
                "change_text": _signed(change, d), "change": _num(change),
                "reporting": r["provinces_reporting"], "expected": r["provinces_expected"],
                "missing": [m.strip() for m in (r["missing_provinces"] or "").split(",") if m.strip()],
                "quality": r["quality"]}
        else:
            names[r["unit_code"]] = r["unit_name"]
            provinces.setdefault(r["period"], {}).setdefault(r["indicator_id"], []).append(
                [r["unit_code"], _num(r["value"]), so(r["value"], d) if r["value"] is not None else None, r["vintage"],
                 r["quality"]])
    ranks = {(p, i, c): k for p, i, c, k in con.execute(
        "SELECT period, indicator_id, province_code, rank FROM marts.province_ranking").fetchall()}
    for p, by_ind in provinces.items():
        for code, items in by_ind.items():
            for item in items:
                item.append(ranks.get((p, code, item[0])))
            items.sort(key=lambda i: (i[5] is None, i[5] or 0, i[0]))
    pubs = _rows(con, "SELECT province_code, province_name, period, vintage, published_at FROM marts.province_publications "
                      "ORDER BY province_code, period", [])
    last: dict[str, dict] = {}
    for r in pubs:
        names.setdefault(r["province_code"], r["province_name"])
        last[r["province_code"]] = {"period": month_label(r["period"]), "vintage": r["vintage"],
                                    "published_at": f"{r['published_at']:%d/%m/%Y %H:%M}" if r["published_at"] else None}
    latest = months[-1] if months else None
    build = con.execute("SELECT built_at, provinces FROM marts.national_build ORDER BY built_at DESC LIMIT 1").fetchone()
    all_provinces = _provinces(latest, names) if latest else [{"code": c, "name": n} for c, n in sorted(names.items())]
    headline = [c for c in _headline_codes() if c in info]
    return {
        "months": months, "month_labels": {m: f"tháng {int(m[5:7])}/{m[:4]}" for m in months}, "latest": latest,
        "built_at": f"{build[0]:%d/%m/%Y %H:%M}" if build else None, "provinces_built": build[1] if build else None,
        "indicators": info, "headline": headline or list(info)[:5],
        "nation": nation, "provinces": provinces,
        "publications": [{**p, **last.get(p["code"], {"period": None, "vintage": None, "published_at": None})}
                         for p in all_provinces],
        "names": {**names, **{p["code"]: p["name"] for p in all_provinces}},
        "flag_mark": texts().flag_mark,
    }

