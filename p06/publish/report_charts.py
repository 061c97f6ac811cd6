"""Charts of the headline indicators (catalog/report_templates.yaml `headline`): the province over the months
available up to the period, and the units ranked by value for the period, lowest first (the units that need
attention).

`chart_data` reads the figures (no plotting library): the Word report draws them as PNG images with
matplotlib (`draw`), the workbook as native Excel charts (p06/publish/excel_report_sheets.py). matplotlib is
imported only when drawing, with the Agg backend (no display), small figures closed at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from p06 import report_periods, vntext
from p06.publish import period_marts
from p06.publish.indicator_catalog import load


@dataclass
class ChartData:
    code: str
    name: str
    unit_vi: str
    decimals: int
    level: str | None = None                                            # the ranked units' level
    trend: list[tuple[str, float]] = field(default_factory=list)        # (YYYY-MM, province value), oldest first
    ranked: list[tuple[str, float]] = field(default_factory=list)       # (unit name, value), lowest first
    total_units: int = 0


def _trend(con: duckdb.DuckDBPyConnection, code: str, last_month: str) -> list[tuple[str, float]]:
    return [(p, v) for p, v in con.execute(
        "SELECT period, value FROM marts.indicator_monthly WHERE unit_level = 'province' AND indicator_code = ? "
        "AND period <= ? AND value IS NOT NULL ORDER BY period", [code, last_month]).fetchall()]


def _unit_rows(con: duckdb.DuckDBPyConnection, label: str, code: str) -> list[dict]:
    rp = report_periods.parse(label)
    if rp.kind == "month":
        cursor = con.execute("SELECT unit_level, unit_code, unit_name, numerator, denominator, value, quality "
                             "FROM marts.indicator_monthly WHERE period = ? AND indicator_code = ? "
                             "AND unit_level NOT IN ('province', 'service')", [label, code])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r)) for r in cursor.fetchall()]
    return [r for r in period_marts.read_period(con, label)
            if r["indicator_code"] == code and r["unit_level"] not in ("province", "service")]


def unit_rows(con: duckdb.DuckDBPyConnection, label: str, code: str) -> tuple[str | None, list[dict]]:
    """(the level, the rows) of an indicator's units for the period: the level with most units (a source may
    send districts in one month and communes in another)."""
    rows = _unit_rows(con, label, code)
    levels = sorted({r["unit_level"] for r in rows}, key=lambda lv: -sum(1 for r in rows if r["unit_level"] == lv))
    if not levels:
        return None, []
    return levels[0], sorted((r for r in rows if r["unit_level"] == levels[0]), key=lambda r: str(r["unit_code"]))


def chart_data(con: duckdb.DuckDBPyConnection, label: str, codes: list[str], max_units: int) -> list[ChartData]:
    cat = load()
    last = report_periods.parse(label).last_month
    out = []
    for code in codes:
        ind = cat.indicators[code]
        level, rows = unit_rows(con, label, code)
        valued = sorted(((r["unit_name"], r["value"]) for r in rows if r["value"] is not None), key=lambda x: (x[1], x[0]))
        out.append(ChartData(code, ind.name_vi, ind.unit_vi, ind.decimals, level, _trend(con, code, last),
                             valued[:max_units], len(valued)))
    return out


def _month_label(period: str) -> str:
    return f"{int(period[5:7])}/{period[2:4]}"


def draw(data: ChartData, out_dir: Path) -> tuple[Path | None, Path | None]:
    """(trend PNG, ranked PNG) of one indicator under out_dir; None where there is nothing to draw."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    out_dir.mkdir(parents=True, exist_ok=True)
    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 8})
    number = FuncFormatter(lambda x, _: vntext.format_number(x, 0))
    trend = ranked = None
    if data.trend:
        fig, ax = plt.subplots(figsize=(6.0, 2.4), dpi=110)
        try:
            xs = [_month_label(p) for p, _ in data.trend]
            ax.plot(xs, [v for _, v in data.trend], marker="o", color="#1f5fa8")
            for x, (_, v) in zip(xs, data.trend):
                ax.annotate(vntext.format_number(v, data.decimals), (x, v), textcoords="offset points",
                            xytext=(0, 5), ha="center", fontsize=7)
            ax.yaxis.set_major_formatter(number)
            ax.set_ylabel(data.unit_vi)
            ax.grid(axis="y", alpha=0.3)
            ax.margins(y=0.25)
            fig.subplots_adjust(left=0.1, right=0.98, top=0.95, bottom=0.12)   # fixed: tight_layout doubles the cost
            trend = out_dir / f"{data.code}_trend.png"
            fig.savefig(trend)
        finally:
            plt.close(fig)
    if data.ranked:
        height = 0.8 + 0.16 * len(data.ranked)
        fig, ax = plt.subplots(figsize=(6.0, height), dpi=110)
        try:
            names = [n for n, _ in data.ranked]
            values = [v for _, v in data.ranked]
            ax.barh(range(len(names)), values, color="#c0504d")
            for y, v in enumerate(values):
                ax.text(v, y, " " + vntext.format_number(v, data.decimals), va="center", fontsize=6.5)
            ax.set_yticks(range(len(names)), names, fontsize=6.5)
            ax.invert_yaxis()                                     # lowest on top
            ax.xaxis.set_major_formatter(number)
            ax.set_xlabel(data.unit_vi)
            ax.grid(axis="x", alpha=0.3)
            ax.margins(x=0.12)
            fig.subplots_adjust(left=0.3, right=0.97, top=1 - 0.1 / height, bottom=0.45 / height)
            ranked = out_dir / f"{data.code}_ranked.png"
            fig.savefig(ranked)
        finally:
            plt.close(fig)
    return trend, ranked
