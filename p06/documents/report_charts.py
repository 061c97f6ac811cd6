"""Charts of the headline indicators (catalog/report_templates.yaml `headline`): the province over the months
available up to the period, and the units ranked by value for the period, lowest first (the units that need
attention).

`chart_data` reads the figures (no plotting library): the Word report draws them as PNG images with
matplotlib (`draw`), the workbook as native Excel charts (p06/publish/excel_report_sheets.py). matplotlib is
imported only when drawing, with the Agg backend (no display), small figures closed at once.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from p06 import periods, report_periods, vntext
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
    threshold: float | None = None      # the units shown are below it: the target (100) or the province's rate
    rule: str = "fifth"                 # why these units: 'target', 'province' (below it) or 'fifth' (the lowest fifth)


def _trend(con: duckdb.DuckDBPyConnection, code: str, last_month: str, months: int) -> list[tuple[str, float]]:
    """The province's values of the `months` months up to `last_month`, oldest first."""
    first = periods.shift(last_month, -(months - 1))
    return [(p, v) for p, v in con.execute(
        "SELECT period, value FROM marts.indicator_monthly WHERE unit_level = 'province' AND indicator_code = ? "
        "AND period BETWEEN ? AND ? AND value IS NOT NULL ORDER BY period", [code, first, last_month]).fetchall()]


def trend_digest(con: duckdb.DuckDBPyConnection, month: str, codes: list[str], months: int) -> str:
    """A digest of what the month's trend charts show: a month whose charts would change (an earlier month
    corrected) is exported again even when its own published rows did not change."""
    series = [_trend(con, code, month, months) for code in codes]
    return hashlib.sha256(repr(series).encode()).hexdigest()[:16]


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


def _province_value(con: duckdb.DuckDBPyConnection, label: str, code: str) -> float | None:
    if report_periods.parse(label).kind == "month":
        row = con.execute("SELECT value FROM marts.indicator_monthly WHERE period = ? AND indicator_code = ? "
                          "AND unit_level = 'province'", [label, code]).fetchone()
        return row[0] if row else None
    return next((r["value"] for r in period_marts.read_period(con, label)
                 if r["indicator_code"] == code and r["unit_level"] == "province"), None)


def ranked_units(valued: list[tuple[str, float]], threshold: float | None, rule: str,
                 share: float) -> tuple[list[tuple[str, float]], str]:
    """The units a ranking shows, lowest first: those below the threshold (the target, or the province's rate),
    or the lowest fifth (`share`) when more units than that, or none, are below it."""
    fifth = max(1, math.ceil(len(valued) * share)) if valued else 0
    below = [u for u in valued if threshold is not None and u[1] < threshold]
    if below and len(below) <= fifth:
        return below, rule
    return valued[:fifth], "fifth"


def chart_data(con: duckdb.DuckDBPyConnection, label: str, codes: list[str], share: float,
               trend_months: int = 12) -> list[ChartData]:
    """Per indicator: its province trend and its units ranked (`ranked_units`)."""
    cat = load()
    last = report_periods.parse(label).last_month
    out = []
    for code in codes:
        ind = cat.indicators[code]
        level, rows = unit_rows(con, label, code)
        valued = sorted(((r["unit_name"], r["value"]) for r in rows if r["value"] is not None), key=lambda x: (x[1], x[0]))
        if ind.may_exceed_factor:                          # attainment of a target: below 100% of it
            threshold, rule = float(ind.factor), "target"
        else:
            threshold, rule = _province_value(con, label, code), "province"
        ranked, rule = ranked_units(valued, threshold, rule, share)
        out.append(ChartData(code, ind.name_vi, ind.unit_vi, ind.decimals, level, _trend(con, code, last, trend_months),
                             ranked, len(valued), threshold, rule))
    return out


PNG = {"compress_level": 3}     # zlib's default (6) costs twice the time for 3% smaller charts


def _month_label(period: str) -> str:
    return f"{int(period[5:7])}/{period[2:4]}"


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 8})
    return plt


def _axis_format(decimals: int = 0):
    from matplotlib.ticker import FuncFormatter
    return FuncFormatter(lambda x, _: vntext.format_number(x, decimals))


def draw_trends(charts: list[ChartData], out_dir: Path) -> list[tuple[str, list[str], Path, float | None]]:
    """One line chart per unit of measure ('%'), each line an indicator's province value over the months:
    [(unit, indicator names, PNG, where the value axis starts when not at zero, else None)]. One figure for all the
    percentages costs a fifth of one per indicator."""
    plt = _pyplot()
    out_dir.mkdir(parents=True, exist_ok=True)
    by_unit: dict[str, list[ChartData]] = {}
    for data in charts:
        if data.trend:
            by_unit.setdefault(data.unit_vi, []).append(data)
    drawn = []
    for number, (unit, group) in enumerate(by_unit.items(), start=1):
        months = sorted({p for d in group for p, _ in d.trend})
        height = 2.2 + 0.14 * len(group)                      # the plot, then the legend's lines under it
        fig, ax = plt.subplots(figsize=(6.2, height), dpi=100)
        try:
            for data in group:
                values = dict(data.trend)
                ax.plot(range(len(months)), [values.get(m) for m in months], marker="o", markersize=3, label=data.name)
            step = max(1, len(months) // 12)
            ax.set_xticks(range(0, len(months), step), [_month_label(m) for m in months][::step])
            ax.yaxis.set_major_formatter(_axis_format())
            ax.set_ylabel(unit)
            ax.grid(axis="y", alpha=0.3)
            fig.subplots_adjust(left=0.1, right=0.98, top=1 - 0.1 / height, bottom=(0.35 + 0.14 * len(group)) / height)
            fig.legend(fontsize=6.5, loc="lower center", ncol=1, frameon=False, borderaxespad=0.2)
            path = out_dir / f"trend_{number}.png"
            fig.savefig(path, pil_kwargs=PNG)
            start = ax.get_ylim()[0]
        finally:
            plt.close(fig)
        drawn.append((unit, [d.name for d in group], path, start if start > 0 else None))
    return drawn


def draw_ranked(data: ChartData, out_dir: Path) -> Path | None:
    """The units ranked by value, lowest on top, as a PNG under out_dir; None when no unit has a value."""
    if not data.ranked:
        return None
    plt = _pyplot()
    from matplotlib.collections import PolyCollection
    out_dir.mkdir(parents=True, exist_ok=True)
    height = 0.8 + 0.16 * len(data.ranked)
    fig, ax = plt.subplots(figsize=(6.0, height), dpi=100)
    try:
        names = [n for n, _ in data.ranked]
        values = [v for _, v in data.ranked]
        # the bars as one artist: barh makes a rectangle artist per bar, a tenth of the chart's cost
        bars = PolyCollection([[(0, y - 0.4), (0, y + 0.4), (v, y + 0.4), (v, y - 0.4)] for y, v in enumerate(values)],
                              facecolors="#c0504d", edgecolors="none")
        bars.sticky_edges.x.append(0)                         # as barh: the value axis starts at zero
        ax.add_collection(bars)
        ax.autoscale_view()
        for y, v in enumerate(values):
            ax.text(v, y, " " + vntext.format_number(v, data.decimals), va="center", fontsize=6.5)
        for y, name in enumerate(names):           # names as plain texts: a tick per name costs three times more
            ax.text(-0.01, y, name, va="center", ha="right", fontsize=6.5, transform=ax.get_yaxis_transform())
        ax.set_yticks([])
        ax.set_ylim(len(names) - 0.5, -0.5)                   # lowest on top
        ax.xaxis.set_major_formatter(_axis_format())
        ax.set_xlabel(data.unit_vi)
        ax.grid(axis="x", alpha=0.3)
        ax.margins(x=0.12)
        fig.subplots_adjust(left=0.3, right=0.97, top=1 - 0.1 / height, bottom=0.45 / height)  # fixed: tight_layout doubles the cost
        path = out_dir / f"{data.code}_ranked.png"
        fig.savefig(path, pil_kwargs=PNG)
    finally:
        plt.close(fig)
    return path
