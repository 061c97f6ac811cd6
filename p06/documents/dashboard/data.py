"""What the province's dashboard of a month shows, read from the published tables (no phrasing here beyond the
declared sentences of catalog/dashboard.yaml; the page is catalog/templates/dashboard.html.j2).

Every figure goes to the page twice: the number (for charts and sorting) and its text in the report's
Vietnamese style (`so`: "1.651.144", "96,20"), so that the page shows exactly what the workbook shows.
A unit is keyed by its level, code and the first day of its validity (reference units): a code reused by
another unit after the 2025 reform is another unit, and its figures are never joined to the old one's.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache

import duckdb

from p06 import catalog, config, periods, reference
from p06.declared.base import read_yaml
from p06.documents.dashboard.config import texts
from p06.publish.indicator_catalog import load
from p06.reconcile.rules import load_rules
from p06.warehouse import has_table
from p06.wording import say, so

ROUND = 6        # decimals kept of a raw value (charts, sorting); the text is formatted from the published value


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return has_table(con, table)


def month_label(period: str) -> str:
    return f"T{int(period[5:7])}/{period[:4]}"


def window(period: str, months: int | None = None) -> list[str]:
    """The months the trends show, oldest first, the period last."""
    n = months or texts().trend_months
    return [periods.shift(period, k) for k in range(-(n - 1), 1)]


def _num(x) -> float | None:
    return None if x is None else round(float(x), ROUND)


def _signed(x: float | None, decimals: int) -> str | None:
    if x is None:
        return None
    text = so(x, decimals)
    return text if text.startswith("-") or text.strip("0,") == "" else "+" + text


@cache
def _headline_codes() -> tuple[str, ...]:
    return tuple(read_yaml(config.CATALOG_DIR / "report_templates.yaml")["headline"])


def _unit_key(level: str, code: str, month: str) -> tuple[str, str]:
    """(key, validity text) of the unit a row names in a month."""
    unit = reference.unit_at(level, code, periods.period_end(month))
    start = unit.valid_from if unit else None
    until = unit.valid_to if unit else None
    span = (f"từ {start:%d/%m/%Y}" if start else "") + (f" đến {until:%d/%m/%Y}" if until else "")
    return f"{level}|{code}|{start or ''}", span.strip()


class Flags:
    """Why a figure is flagged: the findings of the month that bear on it (as marts.indicator_monthly.quality)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, period: str):
        compared = {r.id: {*r.left.measures, *r.right.measures} for r in load_rules() if r.kind == "compare"}
        rows = _rows(con, "SELECT source, unit_code, rule_id, measure, lower(severity) AS severity, message_vi "
                          "FROM marts.reconciliation_findings WHERE period = ? ORDER BY source, unit_code, rule_id",
                     [period]) if _has(con, "marts.reconciliation_findings") else []
        for r in rows:
            r["measures"] = compared.get(r["rule_id"]) or ({r["measure"]} if r["measure"] else None)
        self.findings, self.sources, self.t = rows, catalog.sources(), texts()

    def why(self, row: dict, province_code: str) -> str | None:
        quality = row["quality"]
        if quality == "partial":
            return say(self.t.flag.partial, reporting=row["units_reporting"] or 0, expected=row["units_expected"] or 0)
        if quality not in ("warning", "error"):
            return None
        ind = load().indicators[row["indicator_code"]]
        source = self.sources[ind.source]
        involved = set(ind.involved_measures(source))
        hits = [f for f in self.findings if f["source"] == ind.source and f["severity"] == quality
                and (row["unit_level"] == "province" or f["unit_code"] == row["unit_code"])
                and (f["measures"] is None or f["measures"] & involved)]
        first = hits[0]["message_vi"] if hits else ""
        return say(getattr(self.t.flag, quality), count=len(hits), department=source.department_vi, first=first)


def _indicator_info(codes: list[str]) -> dict[str, dict]:
    cat, t = load(), texts()
    headline = _headline_codes()
    return {c: {"name": cat.indicators[c].name_vi, "unit": cat.indicators[c].unit_vi,
                "decimals": cat.indicators[c].decimals, "group": cat.indicators[c].group,
                "ratio": cat.indicators[c].is_ratio, "has_target": cat.indicators[c].target is not None,
                "lower_better": c in t.lower_is_better, "headline": c in headline,
                "source": cat.indicators[c].source} for c in codes}


def _province(con, period: str, months: list[str], flags: Flags) -> tuple[list[dict], str, str]:
    """The province's indicators of the month, in catalog order, each with its trend and year-ago value."""
    year_ago = periods.shift(period, -12)
    rows = _rows(con, "SELECT * FROM marts.indicator_monthly WHERE unit_level = 'province' "
                      "AND (period BETWEEN ? AND ? OR period = ?)", [months[0], period, year_ago])
    by = {(r["indicator_code"], r["period"]): r for r in rows}
    current = {r["indicator_code"]: r for r in rows if r["period"] == period}
    order = [c for c in load().indicators if c in current]
    out = []
    for code in order:
        r, d = current[code], current[code]["decimals"]
        ago = by.get((code, year_ago))
        ago_value = ago["value"] if ago else None
        out.append({
            "code": code, "value": _num(r["value"]), "text": so(r["value"], d),
            "target": _num(r["target"]), "target_text": so(r["target"], 0) if r["target"] is not None else None,
            "previous_text": so(r["previous_value"], d) if r["previous_value"] is not None else None,
            "change_text": _signed(r["change"], d),
            "change": _num(r["change"]),
            "year_ago_text": so(ago_value, d) if ago_value is not None else None,
            "yoy_change_text": _signed(r["value"] - ago_value, d) if ago_value is not None and r["value"] is not None else None,
            "yoy_change": _num(r["value"] - ago_value) if ago_value is not None and r["value"] is not None else None,
            "quality": r["quality"], "why": flags.why(r, r["unit_code"]),
            "numerator_text": so(r["numerator"], 0) if r["numerator"] is not None else None,
            "denominator_text": so(r["denominator"], 0) if r["denominator"] is not None else None,
            "trend": [_num(by[(code, m)]["value"]) if (code, m) in by else None for m in months],
            "trend_text": [so(by[(code, m)]["value"], d) if (code, m) in by and by[(code, m)]["value"] is not None
                           else None for m in months],
        })
    province = rows[0] if rows else {}
    return out, province.get("unit_name") or reference.province_name(), province.get("unit_code") or reference.province_code()


def _rank(values: list[tuple[str, float | None]], lower_better: bool) -> dict[str, int]:
    """Competition ranks (1, 2, 2, 4), best first; units without a value have none."""
    valued = sorted((v for v in values if v[1] is not None), key=lambda kv: kv[1], reverse=not lower_better)
    ranks, last, last_rank = {}, object(), 0
    for i, (key, value) in enumerate(valued, start=1):
        if value != last:
            last, last_rank = value, i
        ranks[key] = last_rank
    return ranks


RANK_FIELDS = ["unit", "numerator_text", "denominator_text", "target_text", "change_text", "below_target",
               "below_province", "quality", "why", "rank"]
"""A ranked unit's fields, in the order of its array in the page's data (arrays keep the page light); `unit` is
an index of `units`, `why` of `whys`; the value and its text are those of the unit's series for the month."""


def _units(con, period: str, months: list[str], province: dict[str, dict], info: dict, flags: Flags):
    """Ranked units of each indicator in the month, each unit's series over the months, and the reasons of the
    flagged figures."""
    series = con.execute("SELECT unit_level, unit_code, period, unit_name, indicator_code, value, decimals "
                         "FROM marts.indicator_monthly WHERE unit_level NOT IN ('province', 'service') "
                         "AND period BETWEEN ? AND ? ORDER BY unit_level, unit_code, period, indicator_code", [months[0], period]).fetchall()
    index = {m: i for i, m in enumerate(months)}
    units: list[dict] = []
    ids: dict[str, int] = {}
    lookups: dict[tuple[str, str, str], int] = {}
    for level, unit_code, month, name, code, raw, d in series:
        lookup = (level, unit_code, month)
        if lookup not in lookups:
            key, span = _unit_key(*lookup)
            if key not in ids:
                ids[key] = len(units)
                units.append({"key": key, "name": name, "level": level, "code": unit_code, "span": span, "series": {}})
            lookups[lookup] = ids[key]
        value = _num(raw)
        units[lookups[lookup]]["series"].setdefault(code, {})[index[month]] = [value, so(raw, d) if value is not None else None]
    rows = _rows(con, "SELECT unit_level, unit_code, unit_name, indicator_code, numerator, denominator, value, decimals, "
                      "target, change, quality, units_reporting, units_expected FROM marts.indicator_monthly "
                      "WHERE unit_level NOT IN ('province', 'service') AND period = ? ORDER BY unit_level, unit_code, indicator_code",
                 [period])
    ranking: dict[str, list[list]] = {}
    whys: list[str] = []
    for r in rows:
        uid, d, code = lookups[(r["unit_level"], r["unit_code"], period)], r["decimals"], r["indicator_code"]
        value = _num(r["value"])
        ind, prov = info[code], province.get(code, {}).get("value")
        below_target = r["target"] is not None and r["numerator"] is not None and r["numerator"] < r["target"]
        below_province = (ind["ratio"] and prov is not None and value is not None
                          and (value > prov if ind["lower_better"] else value < prov))
        why = flags.why(r, "") if r["quality"] != "ok" else None
        if why is not None and why not in whys:
            whys.append(why)
        ranking.setdefault(code, []).append([
            uid, so(r["numerator"], 0) if ind["ratio"] and r["numerator"] is not None else None,
            so(r["denominator"], 0) if ind["ratio"] and r["denominator"] is not None else None,
            so(r["target"], 0) if r["target"] is not None else None, _signed(r["change"], d),
            bool(below_target), bool(below_province), r["quality"], whys.index(why) if why is not None else None, value])
    for code, items in ranking.items():
        ranks = _rank([(i[0], i[-1]) for i in items], info[code]["lower_better"])
        for item in items:
            item[-1] = ranks.get(item[0])
        items.sort(key=lambda i: (i[-1] is None, i[-1] or 0, units[i[0]]["name"]))
    return ranking, units, whys


def _breaks(con, months: list[str]) -> list[dict]:
    """Months where the units change level (the 2025 reform), with the declared note."""
    t = texts()
    rows = con.execute("SELECT period, unit_level, count(*) FROM marts.indicator_monthly "
                       "WHERE unit_level IN ('district', 'commune') AND period BETWEEN ? AND ? GROUP BY ALL",
                       [months[0], months[-1]]).fetchall()
    level: dict[str, tuple[int, str]] = {}
    for p, lv, n in rows:
        if n > level.get(p, (0, ""))[0]:
            level[p] = (n, lv)
    out, before = [], None
    for m in months:
        if m in level:
            lv = level[m][1]
            if before and lv != before:
                out.append({"index": months.index(m), "month": month_label(m),
                            "text": say(t.unit_break, month=month_label(m), before=t.levels.get(before, before),
                                        after=t.levels.get(lv, lv))})
            before = lv
    return out


def _first_published(con, months: list[str]) -> dict[str, datetime]:
    if not _has(con, "marts.publications"):
        return {}
    return dict(con.execute("SELECT period, min(published_at) FROM marts.publications WHERE period BETWEEN ? AND ? "
                            "GROUP BY period", [months[0], months[-1]]).fetchall())


def _status(row: dict, first_published: datetime | None) -> str:
    status = {"delivered": "received"}.get(row["status"], row["status"])
    if status not in texts().delivery_status:
        status = "missing"
    if row.get("rejected_deliveries"):
        return "rejected"
    received, days = row["received_at"], texts().late_days_after_cutoff
    if status == "received" and received is not None:
        if days is not None:
            cutoff = row["as_of_date"] or periods.period_end(row["period"])
            if received.date() > cutoff + timedelta(days=days):
                status = "late"
        elif first_published is not None and received > first_published:
            status = "late"
    return status


def _completeness(con, months: list[str]) -> dict:
    """Each source's delivery status in each published month of the window, the latest month first."""
    rows = _rows(con, "SELECT * FROM marts.source_completeness WHERE period BETWEEN ? AND ?", [months[0], months[-1]])
    published = sorted({r["period"] for r in rows}, reverse=True)
    first = _first_published(con, months)
    by = {(r["source"], r["period"]): r for r in rows}
    sources = []
    for s in catalog.sources().values():
        cells = []
        for m in published:
            r = by.get((s.id, m))
            status = _status(r, first.get(m)) if r else "not_expected"
            cells.append({"status": status, "file": (r or {}).get("file"),
                          "units": f"{r['units_present']}/{r['units_expected']}" if r else None,
                          "received": f"{r['received_at']:%d/%m/%Y %H:%M}" if r and r["received_at"] else None,
                          "rejected": (r or {}).get("rejection_messages") if status == "rejected" else None})
        latest = by.get((s.id, months[-1]))
        current = cells[0]["status"] if published and published[0] == months[-1] else None
        # no figures this month: nothing delivered, withdrawn, or only refused files (shown as 'rejected')
        without = latest is not None and latest["status"] in ("missing", "withdrawn")
        sources.append({"source": s.id, "department": s.department_vi, "cells": cells, "current": current,
                        "without_figures": without})
    return {"months": [month_label(m) for m in published], "sources": sources}


def _findings(con, period: str, months: list[str]) -> list[dict]:
    """The month's findings by department, with their status from the register, and those of the earlier months
    of the window still open."""
    if not _has(con, "marts.findings_register"):
        return []
    rows = _rows(con, "SELECT source, finding_key, status, severity, unit_name, message_vi, first_seen "
                      "FROM marts.findings_register WHERE period = ? "
                      "ORDER BY status <> 'open', severity, source, unit_code, rule_id, measure, finding_key", [period])
    earlier = con.execute("SELECT source, count(*) FILTER (WHERE status = 'open') FROM marts.findings_register "
                          "WHERE period >= ? AND period < ? GROUP BY source", [months[0], period]).fetchall()
    deps: dict[str, dict] = {}
    sources = catalog.sources()

    def department(source: str) -> dict:
        dep = sources[source].department_vi if source in sources else source
        return deps.setdefault(dep, {"department": dep, "open": 0, "accepted": 0, "resolved": 0, "earlier_open": 0,
                                     "items": []})
    for source, still_open in earlier:
        department(source)["earlier_open"] += still_open
    for r in rows:
        d = department(r["source"])
        d[r["status"]] = d.get(r["status"], 0) + 1
        d["items"].append({"key": r["finding_key"].split(":")[0], "status": r["status"], "severity": r["severity"],
                           "unit": r["unit_name"], "message": r["message_vi"],
                           "first_seen": f"{r['first_seen']:%d/%m/%Y}" if r["first_seen"] else None})
    return sorted(deps.values(), key=lambda d: (-d["open"], -d["earlier_open"], d["department"]))


def _vintage(con, period: str) -> dict | None:
    """The month's latest publication: its number, time, corrected figures and changed findings."""
    from p06.publish import vintages
    info = vintages.current(con, period)
    return {"number": info["vintage"], "published_at": f"{info['published_at']:%d/%m/%Y %H:%M}",
            "errata": info["errata"] or 0, "findings": info["findings"]} if info else None


def shown_months(con: duckdb.DuckDBPyConnection, period: str) -> list[str]:
    """The window's months from the first that has published figures (a young warehouse shows no empty year)."""
    months = window(period)
    (first,) = con.execute("SELECT min(period) FROM marts.indicator_monthly WHERE period BETWEEN ? AND ?",
                           [months[0], period]).fetchone()
    return [m for m in months if first is None or m >= first]


def page_data(con: duckdb.DuckDBPyConnection, period: str) -> dict:
    """Everything the month's dashboard shows (embedded in the page as JSON)."""
    months = shown_months(con, period)
    flags = Flags(con, period)
    headline, province_name, province_code = _province(con, period, months, flags)
    info = _indicator_info([h["code"] for h in headline])
    by_code = {h["code"]: h for h in headline}
    ranking, units, whys = _units(con, period, months, by_code, info, flags)
    cat, t = load(), texts()
    groups = [{"id": g, "name": cat.utility_groups[g].name_vi, "note": t.group_notes.get(g),
               "indicators": [h["code"] for h in headline if info[h["code"]]["group"] == g]}
              for g in sorted(cat.utility_groups)]
    as_of = con.execute("SELECT max(as_of_date) FROM marts.indicator_monthly WHERE period = ?", [period]).fetchone()[0]
    return {
        "period": period, "period_label": f"tháng {int(period[5:7])}/{period[:4]}",
        "province": {"name": province_name, "code": province_code},
        "as_of": f"{as_of:%d/%m/%Y}" if isinstance(as_of, date) else None,
        "vintage": _vintage(con, period),
        "links": {"workbook": f"DA06_{period}.xlsx", "word": f"bao_cao_DA06_{period}.docx"},
        "months": [month_label(m) for m in months], "breaks": _breaks(con, months), "break_mark": t.unit_break_mark,
        "headline_codes": [c for c in _headline_codes() if c in by_code],
        "groups": groups,
        "indicators": info, "province_rows": headline, "rank_fields": RANK_FIELDS, "ranking": ranking,
        "units": units, "whys": whys,
        "levels": t.levels, "flag_mark": t.flag_mark,
        "completeness": _completeness(con, months),
        "delivery_status": {k: v.model_dump() for k, v in t.delivery_status.items()},
        "findings": _findings(con, period, months),
        "finding_status": t.finding_status, "severity": t.severity,
    }
