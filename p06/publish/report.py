"""The month's report draft in Vietnamese Markdown, written the way the province's report is.

Sentences come from catalog/report_templates.yaml, one paragraph per Project 06
utility group; figures are the province rows of marts.indicator_monthly (sums of
unit rows), formatted with p06.vntext ("3.079.271", "96,20%"). A source that sent
nothing is named; the discrepancies found are listed for the departments.
"""
from __future__ import annotations

import os
import string
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Callable

import duckdb
import yaml

from p06 import catalog, config, vntext
from p06.publish.files import indicator_definitions, read_table, utility_groups

FIXED_FIELDS = {"as_of", "month"}
SERVICE_FIELDS = {"pl2": "II", "pl3": "III"}


@cache
def load_templates(path: Path | None = None) -> dict:
    path = Path(path or config.CATALOG_DIR / "report_templates.yaml")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


class NoPreviousMonth(Exception):
    """A sentence speaks of the change since last month, and last month has no figure."""


class Phrase:
    """A phrase whose unit is given as the format spec: '{X.change:lượt}'."""

    def __init__(self, build: Callable[[str], str]):
        self._build = build

    def __format__(self, spec: str) -> str:
        return self._build(spec)

    def __str__(self) -> str:
        return self._build("")


def _number(value: Any, decimals: int = 0) -> str:
    return vntext.format_number(value, decimals) if value is not None else "…"


def _with_unit(text: str, unit: str) -> str:
    if not unit:
        return text
    return text + unit if unit == "%" else f"{text} {unit}"


class IndicatorFigures:
    """The province figures of one indicator, as text for the templates."""

    def __init__(self, row: dict, definition: dict):
        self.row, self.definition = row, definition
        self.decimals = int(row.get("decimals") if row.get("decimals") is not None else definition.get("decimals", 0))
        self.is_ratio = bool(definition.get("denominator"))
        self.default_unit = "%" if self.is_ratio and definition.get("factor", 100) == 100 else ""
        self.name = row.get("indicator_name_vi") or definition.get("name_vi", "")
        self.value = _number(row.get("value"), self.decimals)
        self.numerator = _number(row.get("numerator"))
        self.denominator = _number(row.get("denominator"))
        self.target = _number(row.get("target"))
        self.previous = _number(row.get("previous_value"), self.decimals)
        self.change = Phrase(self._change)
        self.no_previous: str | None = None       # said instead of a change when last month has no figure
        self.vs_target = Phrase(self._vs_target)

    def _change(self, unit: str) -> str:
        value, previous, change = (self.row.get(k) for k in ("value", "previous_value", "change"))
        if change is None and value is not None and previous is not None:
            change = value - previous
        if change is None:
            if self.no_previous is not None:
                return self.no_previous
            raise NoPreviousMonth(self.definition.get("code"))
        shown = vntext.format_number(abs(change), self.decimals)
        if vntext.parse_number(shown).value == 0:
            return "không đổi"
        return _with_unit(f"{'tăng' if change > 0 else 'giảm'} {shown}", unit or self.default_unit)

    def _vs_target(self, unit: str) -> str:
        value, target = self.row.get("numerator"), self.row.get("target")
        if value is None or target is None:
            return "chưa có chỉ tiêu giao"
        gap = value - target
        if gap == 0:
            return "đạt chỉ tiêu"
        if gap > 0:
            return _with_unit(f"vượt chỉ tiêu {vntext.format_number(gap)}", unit)
        return _with_unit(f"còn thiếu {vntext.format_number(-gap)}", unit) + " so với chỉ tiêu"


class ServiceFigures:
    """Counts over one appendix of the public-services table."""

    def __init__(self, rows: list[dict]):
        self.count = vntext.format_number(len(rows))
        self.connected = vntext.format_number(sum(1 for r in rows if _is_connected(r)))


def _is_connected(row: dict) -> bool:
    """'Đã kết nối' or 'Đã thực hiện' (liên thông); not 'Chưa kết nối' or blank."""
    text = vntext.match_key(row.get("connected") or "")
    return bool(text) and not text.startswith("chua")


def appendix_of(row: dict) -> str:
    """'II' or 'III': the row's declared appendix, else told by the service code (PL2-.., PL3-..)."""
    if row.get("appendix"):
        return str(row["appendix"]).upper()
    return "III" if str(row.get("service_code") or "").startswith("PL3") else "II"


def as_of_text(day: date | datetime | None) -> str:
    """'15/9/2023', as the report writes a date."""
    return f"{day.day}/{day.month}/{day.year}" if day else "…"


def month_text(period: str) -> str:
    return f"{int(period[5:7])}/{period[:4]}"


def _fields(text: str) -> set[str]:
    roots = set()
    for _, name, _, _ in string.Formatter().parse(text):
        if name:
            roots.add(name.split(".")[0].split("[")[0])
    return roots


# ------------------------------------------------------------------ what the month holds

def source_status(con: duckdb.DuckDBPyConnection, period: str) -> dict[str, bool]:
    """Every declared source -> whether it was delivered for the month (marts.source_completeness)."""
    rows = read_table(con, "source_completeness", period)
    if rows:
        delivered = {r["source"]: r["status"] == "delivered" for r in rows}
    else:   # not published yet: an accepted delivery is what counts
        delivered = {s: True for (s,) in con.execute(
            "SELECT DISTINCT source FROM raw.deliveries WHERE period = ? AND status = 'loaded'", [period]).fetchall()}
    return {s: delivered.get(s, False) for s in catalog.sources()}


def _department(source: str) -> str:
    src = catalog.sources().get(source)
    return src.department_vi if src else source


# ------------------------------------------------------------------ writing

class Draft:
    def __init__(self, con: duckdb.DuckDBPyConnection, period: str, templates: dict | None = None):
        self.period = period
        self.templates = templates or load_templates()
        self.definitions = indicator_definitions()
        rows = read_table(con, "indicator_monthly", period)
        province = [r for r in rows if r.get("unit_level") == "province"]
        self.rows = {str(r["indicator_code"]): r for r in province}
        services = read_table(con, "public_services_monthly", period)
        self.services = {key: [r for r in services if appendix_of(r) == key] for key in SERVICE_FIELDS.values()}
        self.status = source_status(con, period)
        self.findings = read_table(con, "reconciliation_findings", period)
        dates = [r.get("as_of_date") for r in province + services if r.get("as_of_date")]
        self.as_of = as_of_text(max(dates) if dates else None)

    # -- sentences
    def _values(self, roots: set[str]) -> tuple[dict | None, list[tuple[str, str]], bool]:
        """(format values, (name, source) of figures missing, error flag); values None if incomplete."""
        values: dict[str, Any] = {"as_of": self.as_of, "month": month_text(self.period)}
        missing, flagged = [], False
        for root in roots - FIXED_FIELDS:
            if root in SERVICE_FIELDS:
                rows = self.services[SERVICE_FIELDS[root]]
                if not rows:
                    missing.append((f"Phụ lục {SERVICE_FIELDS[root]}", "dvc"))
                values[root] = ServiceFigures(rows)
                continue
            if root not in self.definitions:
                raise KeyError(f"report_templates.yaml names {root!r}, which catalog/indicators.yaml does not declare")
            row = self.rows.get(root)
            if row is None or row.get("value") is None:
                missing.append((self.definitions[root].get("name_vi", root), self.definitions[root].get("source")))
                continue
            values[root] = IndicatorFigures(row, self.definitions[root])
            flagged |= row.get("quality") == "error"
        return (None if missing else values), missing, flagged

    def sentence(self, entry: dict) -> tuple[str | None, list[tuple[str, str]], bool]:
        text = " ".join(entry["text"].split())
        values, missing, flagged = self._values(_fields(text))
        if values is None:
            return None, missing, False
        try:
            out = text.format_map(values)
        except NoPreviousMonth:
            fallback = entry.get("text_first_month")
            if fallback:
                out = " ".join(fallback.split()).format_map(values)
            else:
                for figures in values.values():
                    if isinstance(figures, IndicatorFigures):
                        figures.no_previous = self.templates["no_previous"]
                out = text.format_map(values)
        if flagged:
            out += self.templates["error_mark"]
        return out, [], flagged

    def group_paragraph(self, key: str) -> str:
        t = self.templates
        codes = [c for c, d in self.definitions.items() if str(d.get("group")) == key]
        sources = sorted({self.definitions[c].get("source") for c in codes if self.definitions[c].get("source")})
        lines, missing_names, any_flag = [], [], False
        for entry in t["groups"].get(int(key) if key.isdigit() else key, []) or []:
            text, missing, flagged = self.sentence(entry)
            if text:
                lines.append(text)
            missing_names += [m for m in missing if m not in missing_names]
            any_flag |= flagged
        absent = [s for s in sources if not self.status.get(s, False)]
        for s in absent:
            lines.append(t["missing_source"].format(department=_department(s), source=s))
        still_missing = [name for name, source in missing_names if source not in absent]
        if still_missing:
            lines.append(t["no_figure"].format(names="; ".join(still_missing)))
        if not lines:
            lines.append(t["empty_group"])
        paragraph = " ".join(lines)
        return paragraph + ("\n\n" + t["error_note"] if any_flag else "")

    # -- sections
    def completeness_section(self) -> str:
        t = self.templates["completeness"]
        missing = [s for s, ok in self.status.items() if not ok]
        received = len(self.status) - len(missing)
        names = "; ".join(f"{_department(s)} (nguồn {s})" for s in missing)
        text = t["some_missing" if missing else "all_received"].format(
            received=received, expected=len(self.status), names=names)
        return "\n".join([f"## {t['title']}", "", text])

    def findings_section(self) -> str:
        t = self.templates["findings"]
        lines = [f"## {t['title']}", ""]
        shown = [f for f in self.findings if str(f.get("severity", "")).lower() in ("error", "warning")]
        if not shown:
            return "\n".join(lines + [t["none"]])
        count = {s: sum(1 for f in shown if str(f.get("severity")).lower() == s) for s in ("error", "warning")}
        lines.append(t["intro"].format(errors=count["error"], warnings=count["warning"]))
        rank = {"error": 0, "warning": 1}
        shown.sort(key=lambda f: (str(f.get("source")), rank.get(str(f.get("severity")).lower(), 2),
                                  str(f.get("unit_code")), str(f.get("rule_id"))))
        current = None
        for f in shown:
            if f.get("source") != current:
                current = f.get("source")
                lines += ["", f"**{_department(current)}** (nguồn {current}):", ""]
            lines.append(self._finding_line(f, t))
        return "\n".join(lines)

    def _finding_line(self, f: dict, t: dict) -> str:
        severity = t["severity"].get(str(f.get("severity")).lower(), f.get("severity"))
        return t["line"].format(severity=severity, message=f.get("message_vi") or f.get("rule_id"),
                                unit=f.get("unit_name") or f.get("unit_code") or "",
                                file=f.get("file") or "", sheet=f.get("sheet") or "", cell=f.get("cell") or "")

    def markdown(self) -> str:
        t = self.templates
        groups = utility_groups()
        parts = [f"# {t['title'].format(month=month_text(self.period))}", "",
                 " ".join(t["intro"].split()).format(as_of=self.as_of, month=month_text(self.period)), ""]
        for number, key in enumerate(sorted(groups, key=lambda k: (len(k), k)), start=1):
            parts += [f"## {number}. {groups[key].get('name_vi', key)}", "", self.group_paragraph(key), ""]
        parts += [self.completeness_section(), "", self.findings_section(), ""]
        return "\n".join(parts)


def render_report(con: duckdb.DuckDBPyConnection, period: str) -> str:
    """The report draft of the month as Markdown text."""
    return Draft(con, period).markdown()


def write_report(con: duckdb.DuckDBPyConnection, period: str, path: Path) -> Path:
    """Write the draft to `path` (aside, then renamed); returns `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render_report(con, period), encoding="utf-8")
    os.replace(tmp, path)
    return path
