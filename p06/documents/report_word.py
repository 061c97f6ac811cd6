"""The Word report of a period: catalog/templates/bao_cao_DA06.docx (docxtpl) filled with the report's text,
tables and charts.

The template holds the administrative layout (Decree 30/2020/NĐ-CP) and every fixed word; the sentences come
from catalog/report_templates.yaml through p06.documents.report.Draft; who issues the report from
catalog/provinces/<code>/report.yaml. Charts are PNG images drawn by p06.documents.report_charts under
`<out>/charts/`. Tables: the province's indicators compared with the previous period and the same period a
year earlier, the headline indicators by unit (Phụ lục I), and the appendices of public services.
"""
from __future__ import annotations

import os
from pathlib import Path

import duckdb

from p06 import report_periods
from p06.documents import report_charts, report_text
from p06.documents.report import Draft, say
from p06.documents.report_config import issuer
from p06.publish import vintages

TEMPLATE = report_text.TEMPLATES_DIR / "bao_cao_DA06.docx"


def _figure(value, decimals: int, unit: str) -> str:
    if value is None:
        return ""
    return report_text.so(value, decimals) + ("%" if unit == "%" else "")


def _change(value, decimals: int, unit: str) -> str:
    if value is None:
        return ""
    shown = report_text.so(abs(value), decimals)
    sign = "+" if value > 0 and set(shown) - {"0", ","} else ("-" if value < 0 and set(shown) - {"0", ","} else "")
    return sign + shown + ("%" if unit == "%" else "")


def comparison_rows(draft: Draft) -> list[dict]:
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
    return rows


def unit_tables(con: duckdb.DuckDBPyConnection, draft: Draft) -> list[dict]:
    word = draft.t["word"]
    tables = []
    for code in draft.t["headline"]:
        ind = draft.cat.indicators[code]
        level, rows = report_charts.unit_rows(con, draft.period, code)
        if not rows:
            continue
        province = draft.rows.get(code)
        shown = ([{**province, "unit_name": draft.province_full}] if province else []) + rows
        tables.append({"caption": say(word["unit_table_caption"], name=ind.name_vi, unit_vi=ind.unit_vi,
                                      level=word["levels"].get(level, level)),
                       "rows": [{"no": "" if i == 0 and province else str(i if province else i + 1),
                                 "name": r["unit_name"], "numerator": report_text.so(r["numerator"]) if r["numerator"] is not None else "",
                                 "denominator": report_text.so(r["denominator"]) if r["denominator"] is not None else "",
                                 "value": _figure(r["value"], ind.decimals, ind.unit_vi),
                                 "quality": word["quality"].get(r["quality"], r["quality"])}
                                for i, r in enumerate(shown)]})
    return tables


def appendix_tables(draft: Draft) -> list[dict]:
    layout = draft.cat.public_services
    decimals = layout.online_ratio.decimals
    out = []
    for key, (appendix, rows) in draft.services.items():
        def order(r):
            number = r.get("service_no")
            return (str(r.get("service_code") or "").rpartition("-")[0], number if isinstance(number, int) else 0)
        out.append({"title": appendix.name_vi, "rows": [{
            "no": str(r.get("service_no") or ""), "name": r.get("service_name") or "",
            "department": (r.get("group_label") or "") if appendix.by_department else "",
            "connected": r.get("connected") or "",
            "total": report_text.so(r["dossiers_total"]) if r.get("dossiers_total") is not None else "",
            "online": report_text.so(r["dossiers_online"]) if r.get("dossiers_online") is not None else "",
            "ratio": report_text.so(r["online_ratio"], decimals) if r.get("online_ratio") is not None else "",
            "on_time": report_text.so(r["on_time"]) if r.get("on_time") is not None else "",
            "overdue": report_text.so(r["overdue"]) if r.get("overdue") is not None else ""}
            for r in sorted(rows, key=order)]})
    return out


def chart_entries(con: duckdb.DuckDBPyConnection, draft: Draft, charts_dir: Path) -> dict:
    """{'trends': [{image, caption}], 'ranked': [{image, caption}]}: PNGs of the headline indicators (drawn here)."""
    word = draft.t["word"]
    data = report_charts.chart_data(con, draft.period, list(draft.t["headline"]), int(draft.t["chart_max_units"]),
                                     int(draft.t["chart_trend_months"]))
    trends = [{"image": path, "caption": say(word["trend_caption"], names=names, unit=unit, period=draft.period_name)}
              for unit, names, path in report_charts.draw_trends(data, charts_dir)]
    ranked = []
    for d in data:
        path = report_charts.draw_ranked(d, charts_dir)
        if path is not None:
            cut = d.total_units > len(d.ranked)
            ranked.append({"image": path, "caption": say(word["ranked_caption_cut" if cut else "ranked_caption"],
                                                         name=d.name, period=draft.period_name, shown=len(d.ranked),
                                                         total=d.total_units)})
    return {"trends": trends, "ranked": ranked}


def context(con: duckdb.DuckDBPyConnection, draft: Draft, charts_dir: Path) -> dict:
    base = draft.context()
    return {**base, "issuer": issuer().model_dump(), "word_title": say(draft.t["word"]["title"], **draft.fixed_values()).upper(),
            "comparison": comparison_rows(draft), "unit_tables": unit_tables(con, draft),
            "appendices": appendix_tables(draft), "charts": chart_entries(con, draft, charts_dir),
            "vintage": vintages.plain_line(con, draft.period)}        # a month's publication states its vintage


def render(con: duckdb.DuckDBPyConnection, period: str, path: Path, draft: Draft | None = None) -> Path:
    """Write the Word report of the period to `path` (aside, then renamed), its charts under `<path's folder>/charts/`."""
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage

    path = Path(path)
    draft = draft or Draft(con, period)
    values = context(con, draft, path.parent / "charts")
    tpl = DocxTemplate(str(TEMPLATE))
    for chart in values["charts"]["trends"] + values["charts"]["ranked"]:
        chart["image"] = InlineImage(tpl, str(chart["image"]), width=Mm(150))
    for d in values["findings"]["departments"]:
        d["heading"] = d["heading"].replace("**", "")          # the Markdown draft's bold
    tpl.render(values, jinja_env=report_text.add_filters(_jinja_env()), autoescape=True)
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
