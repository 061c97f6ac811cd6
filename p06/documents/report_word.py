"""The Word report of a period: catalog/templates/bao_cao_DA06.docx (docxtpl) filled with the report's text,
tables and charts.

The template holds the administrative layout (Decree 30/2020/NĐ-CP) and every fixed word; the skeleton and the
sentences come from catalog/report_templates.yaml through p06.documents.report.Draft, the writer's blocks from
the province's narrative files (p06.documents.narrative); who issues the report from
catalog/provinces/<code>/report.yaml. The pages leave the office: departments and units are named in words, and
nothing of the checking (source keys, files, cells, rules, run dates) is in them; that detail is in the internal
draft (.md) and the workbook. Appendices: I the tasks (the writer's table), II and III the public services, IV the
province's indicators against the previous period and a year earlier, V the headline indicators by unit with
their charts (PNG images drawn by p06.documents.report_charts under `<out>/charts/`).
"""
from __future__ import annotations

import os
from pathlib import Path

import duckdb

from p06 import report_periods, wording
from p06.documents import report_charts, word_tables
from p06.documents.report import Draft, say
from p06.documents.report_config import issuer

TEMPLATE = wording.TEMPLATES_DIR / "bao_cao_DA06.docx"


MINUS = "\u2212"          # one minus sign, everywhere in the report


def _figure(value, decimals: int, unit: str) -> str:
    if value is None:
        return ""
    return wording.so(value, decimals).replace("-", MINUS) + ("%" if unit == "%" else "")


def _change(value, decimals: int, unit: str) -> str:
    """'+1.234', '−0,07 điểm %' (a rate's change is in percentage points), '0' when it rounds to nothing."""
    if value is None:
        return ""
    shown = wording.so(abs(value), decimals)
    if not set(shown) - {"0", ","}:
        return "0"
    return ("+" if value > 0 else MINUS) + shown + (" điểm %" if unit == "%" else "")


def comparison_rows(draft: Draft) -> tuple[list[dict], bool]:
    """(the province's indicators against the previous period and the same period a year earlier, whether any
    indicator has a year-earlier figure: the column is left out when none has)."""
    labels = draft.t["word"]["quality"]
    rows = []
    for code, ind in draft.cat.indicators.items():
        row = draft.rows.get(code)
        if row is None:
            continue
        earlier = draft.year_earlier.get(code, {}).get("value")
        rows.append({"name": ind.name_vi, "unit_vi": ind.unit_vi,
                     "value": _figure(row["value"], ind.decimals, ind.unit_vi),
                     "previous": _figure(row.get("previous_value"), ind.decimals, ind.unit_vi),
                     "change": _change(row.get("change"), ind.decimals, ind.unit_vi),
                     "year_earlier": _figure(earlier, ind.decimals, ind.unit_vi),
                     "quality": labels.get(row["quality"], row["quality"])})
    return rows, any(r["year_earlier"] for r in rows)


def unit_tables(con: duckdb.DuckDBPyConnection, draft: Draft, ranked: dict) -> list[dict]:
    """Phụ lục V: the headline indicators by unit, one table per unit level (the province first, then its units;
    a column per indicator), each followed by its indicators' rankings."""
    word = draft.t["word"]
    by_level: dict[str, dict] = {}
    for code in draft.t["headline"]:
        level, rows = report_charts.unit_rows(con, draft.period, code)
        if not rows:
            continue
        spec = by_level.setdefault(level, {"codes": [], "units": {}})
        spec["codes"].append(code)
        for r in rows:
            spec["units"].setdefault(r["unit_code"], {"name": r["unit_name"]})[code] = r
    tables = []
    for level, spec in by_level.items():
        inds = [draft.cat.indicators[c] for c in spec["codes"]]
        province = {"name": draft.province_full, **{c: draft.rows.get(c) or {} for c in spec["codes"]}}
        lines = [(province, "", True)] + [(u, str(i), False) for i, u in enumerate(spec["units"].values(), start=1)]
        tables.append({
            "caption": say(word["unit_table_caption"], level=word["levels"].get(level, level), period=draft.period_name),
            "headers": [f"{i.name_vi} ({i.unit_vi})" for i in inds],
            "rows": [{"no": no, "name": unit["name"], "bold": bold,
                      "values": [_figure((unit.get(i.code) or {}).get("value"), i.decimals, i.unit_vi) for i in inds]}
                     for unit, no, bold in lines],
            "charts": [ranked[c] for c in spec["codes"] if c in ranked]})
    return tables


def appendix_tables(draft: Draft) -> list[dict]:
    """Phụ lục II and III as the working group's report has them: the services (of III under their department's
    row), connection, dossiers in total and online with the rate, online dossiers on time and overdue, and the
    difficulties the department wrote."""
    layout = draft.cat.public_services
    decimals = layout.online_ratio.decimals
    out = []

    def order(r):
        number = r.get("service_no")
        return (str(r.get("service_code") or "").rpartition("-")[0], number if isinstance(number, int) else 0)

    def number(r, key, places=0):
        return wording.so(r[key], places) if r.get(key) is not None else ""

    for _key, (appendix, rows) in draft.services.items():
        body: list[dict] = []
        for r in sorted(rows, key=order):
            department = (r.get("group_label") or "") if appendix.by_department else ""
            if department and (not body or body[-1].get("department_of") != department):
                body.append({"heading": department, "department_of": department})
            body.append({"heading": "", "department_of": department, "no": str(r.get("service_no") or ""),
                         "name": r.get("service_name") or "", "connected": r.get("connected") or "",
                         "total": number(r, "dossiers_total"), "online": number(r, "dossiers_online"),
                         "ratio": (number(r, "online_ratio", decimals) + "%") if r.get("online_ratio") is not None else "",
                         "on_time": number(r, "on_time"), "overdue": number(r, "overdue"),
                         "difficulties": " ".join(str(r.get("difficulties") or "").split())})
        count = sum(1 for r in body if not r["heading"])
        out.append({"numeral": appendix.numeral, "title": say(draft.t["word"]["appendix_titles"][appendix.key], count=count),
                    "rows": body})
    return out


def chart_entries(con: duckdb.DuckDBPyConnection, draft: Draft, charts_dir: Path) -> dict:
    """{'trends': [{image, caption}], 'ranked': {code: {image, caption}}}: PNGs of the headline indicators."""
    word = draft.t["word"]
    data = report_charts.chart_data(con, draft.period, list(draft.t["headline"]), float(draft.t["ranking_share"]),
                                     int(draft.t["chart_trend_months"]))
    trends = [{"image": path, "caption": say(word["trend_caption"], names=names, unit=unit, period=draft.period_name)
               + (say(word["trend_axis_note"], start=wording.so(start)) if start is not None else "")}
              for unit, names, path, start in report_charts.draw_trends(data, charts_dir)]
    ranked = {}
    for d in data:
        path = report_charts.draw_ranked(d, charts_dir)
        if path is not None:
            threshold = _figure(d.threshold, d.decimals, d.unit_vi) if d.threshold is not None else ""
            ranked[d.code] = {"image": path, "caption": say(word["ranked_caption"][d.rule], name=d.name,
                                                            period=draft.period_name, shown=len(d.ranked),
                                                            total=d.total_units, threshold=threshold)}
    return {"trends": trends, "ranked": ranked}


def _signature(who) -> dict:
    return {"title": who.signer_title, "capacity": who.signer_capacity, "name": who.signer_name}


def context(con: duckdb.DuckDBPyConnection, draft: Draft, charts_dir: Path) -> dict:
    base = draft.context()
    who = issuer()
    comparison, year_earlier = comparison_rows(draft)
    charts = chart_entries(con, draft, charts_dir)
    units = unit_tables(con, draft, charts["ranked"])
    appendices = appendix_tables(draft)
    numerals = ["I"] + [a["numeral"] for a in appendices] + ["IV", "V"]
    titles = draft.t["word"]["appendix_titles"]
    upper = {"period_upper": draft.period_name.upper(), "previous_upper": draft.previous_name.upper()}
    return {**base, "issuer": {**who.model_dump(), "recipients": who.recipients_of(draft.rp.last_month)},
            "agency_lines": who.agency_lines, "signature": _signature(who),
            "pl1_title": say(titles["pl1"]), "pl4_title": say(titles["pl4"], **upper),
            "pl5_title": say(titles["pl5"], **upper),
            "closing": say(draft.t["closing"], **{**base["values"], "appendices": ", ".join(numerals)}),
            "comparison": comparison, "has_year_earlier": year_earlier, "unit_tables": units,
            "appendices": appendices, "trends": charts["trends"]}


def render(con: duckdb.DuckDBPyConnection, period: str, path: Path, draft: Draft | None = None) -> Path:
    """Write the Word report of the period to `path` (aside, then renamed), its charts under `<path's folder>/charts/`."""
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage

    path = Path(path)
    draft = draft or Draft(con, period)
    values = context(con, draft, path.parent / "charts")
    tpl = DocxTemplate(str(TEMPLATE))
    for chart in values["trends"]:
        chart["image"] = InlineImage(tpl, str(chart["image"]), width=Mm(150))
    tpl.render({**values, "unit_tables_anchor": word_tables.ANCHOR}, jinja_env=wording.add_filters(_jinja_env()),
               autoescape=True)
    word_tables.fill(tpl.docx, values["unit_tables"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.docx")
    tpl.save(str(tmp))
    os.replace(tmp, path)
    return path


def _jinja_env():
    import jinja2
    return jinja2.Environment(undefined=jinja2.StrictUndefined)


def write_word(con: duckdb.DuckDBPyConnection, period: str, path: Path) -> Path:
    return render(con, report_periods.parse(period).label, path)
