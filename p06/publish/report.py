"""The month's report draft in Vietnamese Markdown, written the way the province's report is.

Sentences come from catalog/report_templates.yaml, one paragraph per Project 06 utility group; figures are
the province rows of marts.indicator_monthly (sums of unit rows), formatted with p06.vntext ("3.079.271",
"96,20%"). A source that sent nothing, or not for every unit, is named where its figures would stand and in
the completeness section; a sentence whose figures have findings is marked; the findings are listed for the
departments.
"""
from __future__ import annotations

import os
import string
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Callable

import duckdb
import yaml

from p06 import catalog, config, periods, reference, vntext
from p06.publish import vintages
from p06.publish.files import read_table
from p06.publish.indicator_catalog import Indicator, PublicServices, load
from p06.reconcile import register

TEMPLATES_FILE = config.CATALOG_DIR / "report_templates.yaml"
FIXED_FIELDS = {"as_of", "month", "province"}


@cache
def load_templates(path: Path = TEMPLATES_FILE) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


class NoPreviousMonth(Exception):
    """A sentence speaks of the change since last month, and last month has no figure."""


class Phrase:
    """A phrase whose unit may be given as the format spec: '{X.change:lượt}'."""

    def __init__(self, build: Callable[[str], str]):
        self._build = build

    def __format__(self, spec: str) -> str:
        return self._build(spec)


def _number(value: Any, decimals: int = 0) -> str:
    return vntext.format_number(value, decimals) if value is not None else "…"


def _with_unit(text: str, unit: str) -> str:
    if not unit:
        return text
    return text + unit if unit == "%" else f"{text} {unit}"


class IndicatorFigures:
    """The province figures of one indicator, as text for the templates."""

    def __init__(self, row: dict, indicator: Indicator):
        self.row, self.indicator = row, indicator
        self.name = indicator.name_vi
        self.value = _number(row["value"], indicator.decimals)
        self.numerator = _number(row["numerator"])
        self.denominator = _number(row["denominator"])
        self.target = _number(row["target"])
        self.previous = _number(row["previous_value"], indicator.decimals)
        self.change = Phrase(self._change)
        self.vs_target = Phrase(self._vs_target)
        self.no_previous: str | None = None       # said instead of a change when last month has no figure

    def _change(self, unit: str) -> str:
        change = self.row["change"]
        if change is None:
            if self.no_previous is None:
                raise NoPreviousMonth(self.indicator.code)
            return self.no_previous
        shown = vntext.format_number(abs(change), self.indicator.decimals)
        if set(shown) <= {"0", ","}:
            return "không đổi"
        return _with_unit(f"{'tăng' if change > 0 else 'giảm'} {shown}", unit or self.indicator.unit_vi)

    def _vs_target(self, unit: str) -> str:
        value, target = self.row["numerator"], self.row["target"]
        if value is None or target is None:
            return "chưa có chỉ tiêu giao"
        gap, unit = value - target, unit or self.indicator.unit_vi
        if gap == 0:
            return "đạt chỉ tiêu"
        if gap > 0:
            return _with_unit(f"vượt chỉ tiêu {vntext.format_number(gap)}", unit)
        return _with_unit(f"còn thiếu {vntext.format_number(-gap)}", unit) + " so với chỉ tiêu"


class ServiceFigures:
    """Counts over one appendix of the public-services table: {pl2.count}, {pl2.connected}."""

    def __init__(self, rows: list[dict], layout: PublicServices):
        self.count = vntext.format_number(len(rows))
        self.connected = vntext.format_number(sum(1 for r in rows if layout.is_connected(r["connected"])))


def as_of_text(day: date | None) -> str:
    """'15/9/2023', as the report writes a date."""
    return f"{day.day}/{day.month}/{day.year}" if day else "…"


def month_text(period: str) -> str:
    return f"{int(period[5:7])}/{period[:4]}"


def _fields(text: str) -> set[str]:
    """Root names of the placeholders of a template: '{X.value}' -> 'X'."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(text) if name}


def _marked(sentence: str, mark: str) -> str:
    """The sentence with the mark before its final full stop."""
    return sentence[:-1] + mark + "." if sentence.endswith(".") else sentence + mark


def _department(source: str) -> str:
    return catalog.sources()[source].department_vi


def _missing_unit_names(completeness: dict) -> str:
    """The names of a source's missing units (marts.source_completeness.missing_units holds their codes)."""
    names = {u.unit_code: u.name_vi for u in reference.expected_units(completeness["unit_kind"], completeness["as_of_date"])}
    codes = [c.strip() for c in (completeness["missing_units"] or "").split(",") if c.strip()]
    return ", ".join(names.get(c, c) for c in codes)


class Draft:
    def __init__(self, con: duckdb.DuckDBPyConnection, period: str, templates: dict | None = None):
        self.period = period
        self.t = templates or load_templates()
        self.cat = load()
        rows = read_table(con, "indicator_monthly", period)
        self.rows = {r["indicator_code"]: r for r in rows if r["unit_level"] == "province"}
        services = read_table(con, "public_services_monthly", period)
        self.services = {a.key: (a, [r for r in services if r["appendix"] == a.numeral])
                         for a in self.cat.public_services.appendices}
        completeness = {r["source"]: r for r in read_table(con, "source_completeness", period)}
        self.delivery = {s: completeness.get(s) for s, src in catalog.sources().items()   # None: nothing published
                         if src.expected_in(period) or s in completeness}
        self.findings = register.outstanding(con, read_table(con, "reconciliation_findings", period))   # not accepted
        dates = [r["as_of_date"] for r in completeness.values() if r["as_of_date"]]
        self.as_of = as_of_text(max(dates) if dates else None)
        name = reference.province_name(on=periods.period_end(period))       # 'Tỉnh Thanh Hóa' -> 'tỉnh Thanh Hóa'
        self.province = name[:1].lower() + name[1:]

    # -- what the month holds
    def delivered(self, source: str) -> bool:
        row = self.delivery.get(source)
        return bool(row) and row["status"] == "delivered"

    def _incomplete(self) -> list[dict]:
        """Completeness rows of delivered sources that lack units, or hold only a total row."""
        return [r for s, r in self.delivery.items() if self.delivered(s)
                and (r["province_total_only"] or r["units_present"] < r["units_expected"])]

    @staticmethod
    def _incomplete_text(row: dict, partial: str, total_only: str) -> str:
        return (total_only if row["province_total_only"] else partial).format(
            department=_department(row["source"]), source=row["source"], present=row["units_present"],
            expected=row["units_expected"], missing=_missing_unit_names(row))

    # -- sentences
    def _values(self, roots: set[str]) -> tuple[dict | None, list[tuple[str, str]], bool]:
        """(format values or None if a figure is missing, (name, source) of the missing ones, marked?)."""
        values: dict[str, Any] = {"as_of": self.as_of, "month": month_text(self.period), "province": self.province}
        missing, marked = [], False
        self._partial: tuple[int, int] | None = None
        for root in roots - FIXED_FIELDS:
            if root in self.services:
                appendix, rows = self.services[root]
                if not rows:
                    missing.append((f"Phụ lục {appendix.numeral}", self.cat.public_services.source))
                values[root] = ServiceFigures(rows, self.cat.public_services)
                continue
            indicator = self.cat.indicators.get(root)
            if indicator is None:
                raise KeyError(f"report_templates.yaml names {root!r}, which catalog/indicators.yaml does not declare")
            row = self.rows.get(root)
            if row is None or row["value"] is None:
                missing.append((indicator.name_vi, indicator.source))
                continue
            values[root] = IndicatorFigures(row, indicator)
            marked |= row["quality"] in self.t["mark_quality"]
            if row.get("units_expected") and (row.get("units_reporting") or 0) < row["units_expected"]:
                counts = (row["units_reporting"] or 0, row["units_expected"])
                self._partial = min(self._partial or counts, counts)
        return (None if missing else values), missing, marked

    def sentence(self, entry: dict) -> tuple[str | None, list[tuple[str, str]], bool]:
        """(the sentence or None, figures missing, marked?) for one template entry."""
        text, first_month = (" ".join(entry.get(k, "").split()) for k in ("text", "text_first_month"))
        values, missing, marked = self._values(_fields(text) | _fields(first_month))
        if values is None:
            return None, missing, False
        try:
            out = text.format_map(values)
        except NoPreviousMonth:
            if first_month:
                out = first_month.format_map(values)
            else:
                for figures in values.values():
                    if isinstance(figures, IndicatorFigures):
                        figures.no_previous = self.t["no_previous"]
                out = text.format_map(values)
        if self._partial:
            out = out.rstrip(".") + self.t["partial_figure"].format(reporting=self._partial[0], expected=self._partial[1])
        return (_marked(out, self.t["mark"]) if marked else out), [], marked

    def group_paragraph(self, group: int) -> str:
        t = self.t
        sources = sorted({i.source for i in self.cat.indicators.values() if i.group == group})
        entries = t["groups"].get(group) or []
        lines, missing, any_mark = [], [], False
        for entry in entries:
            text, lacking, marked = self.sentence(entry)
            if text:
                lines.append(text)
            missing += [m for m in lacking if m not in missing]
            any_mark |= marked
        absent = [s for s in sources if not self.delivered(s)]
        lines += [t["missing_source"].format(department=_department(s), source=s) for s in absent]
        lines += [self._incomplete_text(r, t["partial_source"], t["total_only_source"])
                  for r in self._incomplete() if r["source"] in sources]
        still_missing = [name for name, source in missing if source not in absent]
        if still_missing:
            lines.append(t["no_figure"].format(names="; ".join(still_missing)))
        if not lines:
            lines.append(t["empty_group"] if entries else t["no_indicators"])
        return " ".join(lines) + ("\n\n" + t["mark_note"] if any_mark else "")

    # -- sections
    def completeness_section(self) -> str:
        t = self.t["completeness"]
        missing = [s for s in self.delivery if not self.delivered(s)]
        incomplete = self._incomplete()
        rejected = [r for r in self.delivery.values() if r and r["rejected_deliveries"]]
        lines = [(t["received"] if missing or incomplete or rejected else t["all_received"]).format(
            received=len(self.delivery) - len(missing), expected=len(self.delivery))]
        if missing:
            lines.append(t["missing"].format(names="; ".join(f"{_department(s)} (nguồn {s})" for s in missing)))
        if incomplete:
            lines.append(t["incomplete"].format(names="; ".join(
                self._incomplete_text(r, t["partial_item"], t["total_only_item"]) for r in incomplete)))
        if rejected:
            lines.append(t["rejected"].format(names="; ".join(
                t["rejected_in_use_item" if self.delivered(r["source"]) else "rejected_item"].format(
                    department=_department(r["source"]), source=r["source"], rejected=r["rejected_deliveries"],
                    file=r["file"]) for r in rejected)))
        return "\n".join([f"## {t['title']}", "", " ".join(lines)])

    def findings_section(self) -> str:
        t = self.t["findings"]
        lines = [f"## {t['title']}", ""]
        shown = [f for f in self.findings if f["severity"] in ("error", "warning")]
        if not shown:
            return "\n".join(lines + [t["none"]])
        errors = sum(1 for f in shown if f["severity"] == "error")
        lines.append(t["intro"].format(errors=errors, warnings=len(shown) - errors))
        shown.sort(key=lambda f: (f["source"], f["severity"] != "error", str(f["unit_code"]), f["rule_id"]))
        current = None
        for f in shown:
            if f["source"] != current:
                current = f["source"]
                lines += ["", t["department"].format(department=_department(current), source=current), ""]
            lines.append(t["line"].format(severity=t["severity"][f["severity"]], message=f["message_vi"],
                                          unit=f["unit_name"] or f["unit_code"] or "", file=f["file"] or "",
                                          sheet=f["sheet"] or "", cell=f["cell"] or ""))
        return "\n".join(lines)

    def markdown(self) -> str:
        t, month = self.t, month_text(self.period)
        parts = [f"# {t['title'].format(month=month, province=self.province)}", "",
                 " ".join(t["intro"].split()).format(as_of=self.as_of, month=month, province=self.province), ""]
        for number, (group, names) in enumerate(sorted(self.cat.groups.items()), start=1):
            parts += [f"## {number}. {names['name_vi']}", "", self.group_paragraph(group), ""]
        parts += [self.completeness_section(), "", self.findings_section(), ""]
        return "\n".join(parts)


def render_report(con: duckdb.DuckDBPyConnection, period: str) -> str:
    """The report draft of the month as Markdown text."""
    return Draft(con, period).markdown() + vintages.report_line(con, period)     # the draft states its vintage


def write_report(con: duckdb.DuckDBPyConnection, period: str, path: Path) -> Path:
    """Write the draft to `path` (aside, then renamed); returns `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render_report(con, period), encoding="utf-8")
    os.replace(tmp, path)
    return path
