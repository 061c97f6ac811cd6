"""The report of a period in Vietnamese: the figures and sentences the Markdown draft and the Word report share.

Python computes, the templates phrase: sentences are Jinja2 templates in catalog/report_templates.yaml, the
layouts are catalog/templates/bao_cao_DA06.md.j2 (the draft, for review and diffs) and bao_cao_DA06.docx (the
Word report, p06/publish/report_word.py). Figures of a month are the province rows of marts.indicator_monthly
(sums of unit rows); of a quarter, half-year, nine months or year, those of marts.indicator_period (the months
added up as each indicator declares). A source that sent nothing, or not for every unit, is named where its
figures would stand and in the completeness section; a sentence whose figures have findings is marked; the
findings are listed for the departments.
"""
from __future__ import annotations

import os
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import yaml

from p06 import catalog, config, periods, reference, report_periods, wording
from p06.documents import discrepancies
from p06.documents.narrative import Narrative
from p06.documents.report_config import issuer
from p06.publish import period_marts, vintages
from p06.publish.files import read_table
from p06.publish.indicator_catalog import Indicator, PublicServices, load
from p06.warehouse import has_table
from p06.wording import say

TEMPLATES_FILE = config.CATALOG_DIR / "report_templates.yaml"
FIXED_FIELDS = {"as_of", "month", "province", "period", "previous"}
POINTS = "điểm %"          # a change of a rate is in percentage points
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
SEVERITY_ORDER = {"error": 0, "warning": 1}


@cache
def load_templates(path: Path = TEMPLATES_FILE) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


class NoPreviousMonth(Exception):
    """A sentence speaks of the change since the previous period, and that period has no figure."""


def _number(value: Any, decimals: int = 0) -> str:
    return wording.so(value, decimals)


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
        self.no_previous: str | None = None       # said instead of a change when the previous period has no figure

    @property
    def change(self) -> str:
        return self.change_in("")

    def change_in(self, unit: str) -> str:
        change = self.row["change"]
        if change is None:
            if self.no_previous is None:
                raise NoPreviousMonth(self.indicator.code)
            return self.no_previous
        shown = wording.so(abs(change), self.indicator.decimals)
        if set(shown) <= {"0", ","}:
            return "không đổi"
        unit = unit or self.indicator.unit_vi
        return _with_unit(f"{'tăng' if change > 0 else 'giảm'} {shown}", POINTS if unit == "%" else unit)

    @property
    def vs_target(self) -> str:
        value, target = self.row["numerator"], self.row["target"]
        if value is None or target is None:
            return "chưa có chỉ tiêu giao"
        gap, unit = value - target, self.indicator.unit_vi
        if gap == 0:
            return "đạt chỉ tiêu"
        if gap > 0:
            return _with_unit(f"vượt chỉ tiêu {wording.so(gap)}", unit)
        return _with_unit(f"còn thiếu {wording.so(-gap)}", unit) + " so với chỉ tiêu"


class ServiceFigures:
    """Counts over one appendix of the public-services table: {{ pl2.count }}, {{ pl2.connected }}."""

    def __init__(self, rows: list[dict], layout: PublicServices):
        self.count = wording.so(len(rows))
        self.connected = wording.so(sum(1 for r in rows if layout.is_connected(r["connected"])))


def as_of_text(day: date | None) -> str:
    """'15/9/2023', as the report writes a date."""
    return f"{day.day}/{day.month}/{day.year}" if day else "…"


def month_text(period: str) -> str:
    return f"{int(period[5:7])}/{period[:4]}"


def period_name(rp: report_periods.ReportPeriod, templates: dict) -> str:
    """The period as a sentence names it: 'tháng 9/2023', 'quý III/2023'."""
    kind = templates["period_kinds"][rp.kind]
    return say(kind["name"], year=rp.year, month=rp.index, quarter=ROMAN.get(rp.index, rp.index), half=rp.index)


def period_text(rp: report_periods.ReportPeriod, templates: dict) -> tuple[str, str]:
    """(the period as a sentence names it, the period it is compared with, named too): ('quý III/2023',
    'quý II/2023'); every comparison says which period it compares with."""
    return period_name(rp, templates), period_name(rp.previous(), templates)


def _marked(sentence: str, mark: str) -> str:
    """The sentence with the mark before its final full stop."""
    return sentence[:-1] + mark + "." if sentence.endswith(".") else sentence + mark


def _department(source: str) -> str:
    return catalog.sources()[source].department_vi


def _block_sources(templates: list[dict], cat, services: dict) -> list[str]:
    """The sources of the indicators (and appendices of services) a block's sentences use."""
    roots: set[str] = set()
    for entry in templates:
        for key in ("text", "text_first_month"):
            roots |= set(wording.names(" ".join(entry.get(key, "").split())))
    sources = {cat.indicators[r].source for r in roots if r in cat.indicators}
    if roots & set(services):
        sources.add(cat.public_services.source)
    return sorted(sources)


def _missing_unit_names(completeness: dict) -> str:
    """The names of a source's missing units (marts.source_completeness.missing_units holds their codes)."""
    names = {u.unit_code: u.name_vi for u in reference.expected_units(completeness["unit_kind"], completeness["as_of_date"])}
    codes = [c.strip() for c in (completeness["missing_units"] or "").split(",") if c.strip()]
    return ", ".join(names.get(c, c) for c in codes)


def _published_months(con: duckdb.DuckDBPyConnection, months: list[str]) -> list[str]:
    if not months:
        return []
    if not has_table(con, "marts.indicator_monthly"):
        return []
    marks = ", ".join("?" for _ in months)
    return [p for (p,) in con.execute(f"SELECT DISTINCT period FROM marts.indicator_monthly WHERE period IN ({marks}) "
                                      "ORDER BY period", months).fetchall()]


def _errata(con: duckdb.DuckDBPyConnection, month: str) -> list[dict]:
    """The figures the month's latest publication corrected (none for a first publication)."""
    try:
        info = vintages.current(con, month)
    except duckdb.CatalogException:
        return []
    if not info or not info.get("previous_vintage"):
        return []
    rows = vintages.errata_rows(con, month, info["vintage"])
    # a rate's correction says the count that changed too: its numerator in the two vintages (indicator_history)
    parts = {(v, r[0], r[1], r[2]): r[3:] for v in (info["vintage"], info["previous_vintage"]) for r in con.execute(
        "SELECT unit_level, unit_code, indicator_code, numerator, denominator FROM marts.indicator_history "
        "WHERE period = ? AND vintage = ?", [month, v]).fetchall()}
    for row in rows:
        key = (row.get("unit_level"), row.get("unit_code"), row.get("indicator_code"))
        row["old_numerator"] = parts.get((info["previous_vintage"], *key), (None, None))[0]
        row["new_numerator"] = parts.get((info["vintage"], *key), (None, None))[0]
    return rows


def _with_change(current: dict[str, dict], previous: dict[str, dict]) -> dict[str, dict]:
    out = {}
    for code, row in current.items():
        before = previous.get(code, {}).get("value")
        change = row["value"] - before if row["value"] is not None and before is not None else None
        out[code] = {**row, "previous_value": before, "change": change}
    return out


def _summed_services(rows: list[dict]) -> list[dict]:
    """Services over several months: counts of the months summed, the online ratio recomputed, the rest as of
    the last month."""
    by_code: dict[str, dict] = {}
    for row in sorted(rows, key=lambda r: r["period"]):
        code = row["service_code"]
        seen = by_code.get(code)
        merged = dict(row)
        if seen:
            for col in ("dossiers_total", "dossiers_online", "on_time", "overdue"):
                parts = [v for v in (seen.get(col), row.get(col)) if v is not None]
                merged[col] = sum(parts) if parts else None
            if seen.get("quality") == "error":
                merged["quality"] = "error"
        by_code[code] = merged
    for row in by_code.values():
        total, online = row.get("dossiers_total"), row.get("dossiers_online")
        row["online_ratio"] = online / total * 100 if total and online is not None else None
    return list(by_code.values())


class Draft:
    """The report of one period (a month '2023-09', or '2023-Q3', '2023-H1', '2023-9M', '2023')."""

    def __init__(self, con: duckdb.DuckDBPyConnection, period: str, templates: dict | None = None):
        self.t = templates or load_templates()
        self.rp = report_periods.parse(period)
        self.period = self.rp.label
        self.cat = load()
        self.period_name, self.previous_name = period_text(self.rp, self.t)
        if self.rp.kind == "month":
            self.months_present = [self.period]
            rows = read_table(con, "indicator_monthly", self.period)
            self.all_rows = rows
            year_earlier = read_table(con, "indicator_monthly", self.rp.year_earlier().label)
        else:
            self.months_present = _published_months(con, self.rp.months)
            rows = period_marts.read_period(con, self.period)
            self.all_rows = rows
            previous = {r["indicator_code"]: r for r in period_marts.read_period(con, self.rp.previous().label)
                        if r["unit_level"] == "province"}
            current = {r["indicator_code"]: r for r in rows if r["unit_level"] == "province"}
            rows = list(_with_change(current, previous).values())
            year_earlier = period_marts.read_period(con, self.rp.year_earlier().label)
        self.rows = {r["indicator_code"]: r for r in rows if r["unit_level"] == "province"}
        self.year_earlier = {r["indicator_code"]: r for r in year_earlier if r["unit_level"] == "province"}
        self.months_missing = [m for m in self.rp.months if m not in self.months_present]
        last = self.months_present[-1] if self.months_present else self.rp.last_month
        services = [r for m in self.months_present for r in read_table(con, "public_services_monthly", m)]
        if self.rp.kind != "month":
            services = _summed_services(services)
        self.services = {a.key: (a, [r for r in services if r["appendix"] == a.numeral])
                         for a in self.cat.public_services.appendices}
        completeness = {r["source"]: r for r in read_table(con, "source_completeness", last)}
        self.delivery = {s: completeness.get(s) for s, src in catalog.sources().items()   # None: nothing published
                         if src.expected_in(last) or s in completeness}
        self.findings = discrepancies.outstanding(      # not those a person accepted (the findings register)
            con, [f for m in self.months_present for f in read_table(con, "reconciliation_findings", m)])
        dates = [r["as_of_date"] for r in completeness.values() if r["as_of_date"]]
        self.as_of_date = max(dates) if dates else None
        self.as_of = as_of_text(self.as_of_date)
        self.province_full = reference.province_name(on=periods.period_end(last))   # 'Tỉnh Thanh Hóa'
        self.errata = [r for m in self.months_present for r in _errata(con, m)      # the province's indicator figures
                       if r.get("unit_level") == "province" and r.get("indicator_code") and "old_value" in r
                       and r.get("published_table", "indicator_monthly") == "indicator_monthly"
                       and r.get("figure", "value") == "value"]        # a rate's count is said with its value
        self.province = self.province_full[:1].lower() + self.province_full[1:]

    # -- what the period holds
    def delivered(self, source: str) -> bool:
        row = self.delivery.get(source)
        return bool(row) and row["status"] == "delivered"

    def _incomplete(self) -> list[dict]:
        """Completeness rows of delivered sources that lack units, or hold only a total row."""
        return [r for s, r in self.delivery.items() if self.delivered(s)
                and (r["province_total_only"] or r["units_present"] < r["units_expected"])]

    @staticmethod
    def _incomplete_text(row: dict, partial: str, total_only: str) -> str:
        return say(total_only if row["province_total_only"] else partial,
                   department=_department(row["source"]), source=row["source"], present=row["units_present"],
                   expected=row["units_expected"], missing=_missing_unit_names(row))

    def fixed_values(self) -> dict:
        return {"as_of": self.as_of, "month": month_text(self.rp.last_month) if self.rp.kind == "month" else self.period_name,
                "province": self.province, "period": self.period_name, "previous": self.previous_name}

    # -- sentences
    def _values(self, roots: set[str]) -> tuple[dict | None, list[tuple[str, str]], bool]:
        """(template values or None if a figure is missing, (name, source) of the missing ones, marked?)."""
        values: dict[str, Any] = self.fixed_values()
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
        values, missing, marked = self._values(set(wording.names(text)) | set(wording.names(first_month)))
        if values is None:
            return None, missing, False
        try:
            out = say(text, **values)
        except NoPreviousMonth:
            if first_month:
                out = say(first_month, **values)
            else:
                for figures in values.values():
                    if isinstance(figures, IndicatorFigures):
                        figures.no_previous = say(self.t["no_previous"], **self.fixed_values())
                out = say(text, **values)
        if self._partial:
            out = out.rstrip(".") + say(self.t["partial_figure"], reporting=self._partial[0], expected=self._partial[1])
        return (_marked(out, self.t["mark"]) if marked else out), [], marked

    def expected(self, source: str) -> bool:
        """Whether the source is expected for the period (or sent something): one not expected is not missing."""
        return source in self.delivery

    def block_lines(self, key: str) -> tuple[list[str], bool]:
        """(the sentences of data block `key`, whether the mark note follows). A source that sent nothing is
        said so by its department's name; a source not expected in the period is not said at all."""
        t = self.t
        entries = t["data_blocks"].get(key) or []
        sources = [s for s in _block_sources(entries, self.cat, self.services) if self.expected(s)]
        lines, missing, any_mark = [], [], False
        for entry in entries:
            text, lacking, marked = self.sentence(entry)
            if text:
                lines.append(text)
            missing += [m for m in lacking if m not in missing]
            any_mark |= marked
        absent = [s for s in sources if not self.delivered(s)]
        lines += [say(t["missing_source"], department=_department(s), source=s, **self.fixed_values()) for s in absent]
        lines += [self._incomplete_text(r, t["partial_source"], t["total_only_source"])
                  for r in self._incomplete() if r["source"] in sources]
        still_missing = [name for name, source in missing if source not in absent and self.expected(source)]
        if still_missing:
            lines.append(say(t["no_figure"], names="; ".join(still_missing)))
        if not lines and entries:
            lines.append(say(t["empty_group"]))
        return lines, any_mark

    def block_paragraph(self, key: str) -> str:
        lines, any_mark = self.block_lines(key)
        return " ".join(lines) + ("\n\n" + self.t["mark_note"] if any_mark else "")

    # -- sections
    def period_note(self) -> str | None:
        """For a period longer than a month: the months it holds and those missing."""
        if self.rp.kind == "month":
            return " ".join(n for n in (self._merged_note(), self._merged_year_earlier()) if n) or None
        shown = ", ".join(month_text(m) for m in self.months_present) or "…"
        note = say(self.t["period_months"], months=shown)
        if self.months_missing:
            note += " " + say(self.t["period_missing"], missing=", ".join(month_text(m) for m in self.months_missing))
        return " ".join(n for n in (note, self._merged_year_earlier()) if n)

    def _merged_year_earlier(self) -> str | None:
        """A merged province compared with the same period a year earlier, before its merger: say so."""
        if reference.old_provinces(None, periods.period_end(self.rp.last_month)):
            return None
        compared = [(name, rp.last_month) for name, rp in ((self.previous_name, self.rp.previous()),
                                                           ("cùng kỳ năm trước", self.rp.year_earlier()))
                    if name and reference.old_provinces(None, periods.period_end(rp.last_month))]
        if not compared:
            return None
        before = reference.old_provinces(None, periods.period_end(compared[0][1]))
        return say(self.t["merged_year_earlier"], compared=" và ".join(dict.fromkeys(n for n, _ in compared)),
                   names=", ".join(reference.short_province_name(p.name_vi) for p in before))

    def _merged_note(self) -> str | None:
        """A merged province's month before the merger: whose figures the province's add up."""
        olds = reference.old_provinces(None, periods.period_end(self.period))
        if not olds:
            return None
        by_source: dict[str, set[str]] = {}         # source -> old provinces whose file it used
        for r in self.all_rows:
            if r["unit_level"] == "old_province":
                by_source.setdefault(r["source"], set()).add(r["unit_code"])
        everywhere = set.intersection(*by_source.values()) if by_source else set()
        names = [reference.short_province_name(p.name_vi) for p in olds if p.unit_code in everywhere]
        gone = [reference.short_province_name(p.name_vi) for p in olds if p.unit_code not in everywhere]
        return say(self.t["merged_month"], names=", ".join(names) or "…", missing=", ".join(gone))

    def completeness_text(self) -> str:
        t = self.t["completeness"]
        missing = [s for s in self.delivery if not self.delivered(s)]
        incomplete = self._incomplete()
        rejected = [r for r in self.delivery.values() if r and r["rejected_deliveries"]]
        whole = not (missing or incomplete or rejected or self.months_missing)     # a partial period is never "đủ"
        lines = [say(t["all_received"] if whole else t["received"],
                     received=len(self.delivery) - len(missing), expected=len(self.delivery))]
        if missing:
            lines.append(say(t["missing"], names="; ".join(f"{_department(s)} (nguồn {s})" for s in missing)))
        if self.months_missing:
            lines.append(say(t["months_missing"], missing=", ".join(month_text(m) for m in self.months_missing)))
        if incomplete:
            lines.append(say(t["incomplete"], names="; ".join(
                self._incomplete_text(r, t["partial_item"], t["total_only_item"]) for r in incomplete)))
        if rejected:
            lines.append(say(t["rejected"], names="; ".join(
                say(t["rejected_in_use_item" if self.delivered(r["source"]) else "rejected_item"],
                    department=_department(r["source"]), source=r["source"], rejected=r["rejected_deliveries"],
                    file=r["file"]) for r in rejected)))
        return " ".join(lines)

    def findings_by_department(self) -> dict:
        """{'intro': str | None, 'none': str | None, 'departments': [{'heading', 'lines'}]}."""
        t = self.t["findings"]
        shown = [f for f in self.findings if f["severity"] in SEVERITY_ORDER]
        if not shown:
            return {"intro": None, "none": say(t["none"]), "departments": []}
        errors = sum(1 for f in shown if f["severity"] == "error")
        shown.sort(key=lambda f: (f["source"], SEVERITY_ORDER[f["severity"]], str(f["unit_code"]), f["rule_id"]))
        departments: list[dict] = []
        for f in shown:
            if not departments or departments[-1]["source"] != f["source"]:
                departments.append({"source": f["source"], "lines": [], "heading": say(
                    t["department"], department=_department(f["source"]), source=f["source"])})
            departments[-1]["lines"].append(say(
                t["line"], severity=t["severity"][f["severity"]], message=f["message_vi"],
                unit=f["unit_name"] or f["unit_code"] or "", file=f["file"] or "", sheet=f["sheet"] or "",
                cell=f["cell"] or ""))
        return {"intro": say(t["intro"], errors=errors, warnings=len(shown) - errors), "none": None,
                "departments": departments}

    def findings_in_words(self) -> list[str]:
        """The discrepancies found, by department and in words (the detail is in the internal draft and the
        workbook): for the pages that leave the office."""
        t = self.t["findings"]
        counts: dict[str, int] = {}
        for f in self.findings:
            if f["severity"] in SEVERITY_ORDER:
                counts[f["source"]] = counts.get(f["source"], 0) + 1
        return [say(t["in_words"], department=_department(s), count=n, **self.fixed_values())
                for s, n in sorted(counts.items(), key=lambda kv: _department(kv[0]))]

    def corrections(self) -> list[dict]:
        """The figures the period's latest publications corrected (marts.errata, province rows): each with the
        old and the new figure, who re-sent and when."""
        t, out = self.t["corrections"], []
        for row in self.errata:
            ind = self.cat.indicators.get(row.get("indicator_code"))
            decimals, unit = (ind.decimals, ind.unit_vi) if ind else (2, "")
            shown = {k: _with_unit(wording.so(row[k], decimals), unit) if row[k] is not None else t["no_figure"]
                     for k in ("old_value", "new_value")}
            change = (row["new_value"] - row["old_value"]) if None not in (row["new_value"], row["old_value"]) else None
            if change is not None and not set(wording.so(abs(change), decimals)) - {"0", ","}:
                change = None                  # rounds to nothing at the indicator's decimals: the counts say it
            cause = (t["by_delivery"] if row.get("cause") == "delivery" and row.get("source") in catalog.sources()
                     else t["causes"].get(row.get("cause"), t["causes"]["unexplained"]))
            counts = ""
            if ind and ind.is_ratio and None not in (row.get("old_numerator"), row.get("new_numerator")) \
                    and row["old_numerator"] != row["new_numerator"]:
                delta = row["new_numerator"] - row["old_numerator"]
                counts = say(t["counts"], old=wording.so(row["old_numerator"]), new=wording.so(row["new_numerator"]),
                             change=("+" if delta > 0 else "\u2212") + wording.so(abs(delta)))
            values = {"name": row.get("indicator_name_vi") or row["indicator_code"], "old": shown["old_value"], "counts": counts,
                      "new": shown["new_value"], "month": month_text(row["period"]),
                      "change": "" if change is None else ("+" if change > 0 else "−")
                      + _with_unit(wording.so(abs(change), decimals), POINTS if unit == "%" else unit),
                      "department": _department(row["source"]) if row.get("source") in catalog.sources() else "",
                      "date": as_of_text(row["published_at"].date()) if row.get("published_at") else "…",
                      "file": row.get("file") or ""}
            out.append({"text": say(t["line"], cause=say(cause, **values), **values),
                        "internal": say(t["internal_line"], cause=say(cause, **values), **values)})
        return out

    def _writer(self, part: dict, narrative: Narrative) -> list[dict]:
        block = narrative.blocks[part["writer"]]
        if block.origin == "period":
            return [{"text": p, "kind": "writer"} for p in block.paragraphs]
        if block.origin == "previous":
            mark = say(self.t["review_mark"], previous=period_name(report_periods.parse(block.origin_label), self.t))
            return [{"text": f"{mark} {p}" if i == 0 else p, "kind": "review"} for i, p in enumerate(block.paragraphs)]
        if part.get("optional"):
            return []
        return [{"text": say(self.t["placeholder"], hint=part.get("hint", "")), "kind": "placeholder"}]

    def _part(self, part: dict, narrative: Narrative) -> list[dict]:
        if "writer" in part:
            return self._writer(part, narrative)
        if "data" in part:
            lines, marked = self.block_lines(part["data"])
            return [{"text": x, "kind": "data"} for x in lines] + (
                [{"text": self.t["mark_note"], "kind": "note"}] if marked else [])
        if "facts" in part:
            return [{"text": x, "kind": "data"} for x in getattr(self, part["facts"])()]
        return [{"text": say(part["text"], **self.fixed_values()), "kind": "text"}]

    def writer_keys(self) -> list[str]:
        return [p["writer"] for s in self.t["skeleton"] for p in s.get("parts", []) if "writer" in p] + [
            self.t["basis_block"]]

    def sections(self, narrative: Narrative) -> list[dict]:
        """The skeleton filled: [{level, heading, paragraphs: [{text, kind}]}], kind one of writer, review (the
        previous period's text, to review), placeholder, data, note, text."""
        return [{"level": s["level"], "heading": say(s["heading"], **self.fixed_values()),
                 "paragraphs": [p for part in s.get("parts", []) for p in self._part(part, narrative)]}
                for s in self.t["skeleton"]]

    def context(self) -> dict:
        """Everything the layouts show, as text."""
        t = self.t
        narrative = Narrative(self.period, self.writer_keys())
        basis = narrative.blocks[t["basis_block"]]
        tasks, tasks_origin = narrative.tasks()
        who = issuer()
        values = {**self.fixed_values(), "basis": " ".join(basis.paragraphs), "issuer": who.issuer_name,
                  "report_to": who.report_to, "number": who.number_only}
        return {**self.fixed_values(), "label": self.period, "kind": self.rp.kind,
                "title": say(t["title"], **self.fixed_values()),
                "opening": say(t["opening"], **values), "draft_intro": say(t["draft_intro"], **values),
                "period_note": self.period_note(), "corrections": self.corrections(),
                "corrections_intro": say(t["corrections"]["intro"], **values) if self.errata else None,
                "sections": self.sections(narrative), "tasks": tasks,
                "tasks_placeholder": None if tasks else say(t["placeholder"], hint=t["tasks_hint"]),
                "tasks_review": say(t["review_mark"], previous=self.previous_name) if tasks_origin == "previous" else None,
                "attached": say(t["attached"], **values), "values": values,
                "completeness": {"title": t["completeness"]["title"], "text": self.completeness_text()},
                "findings": {"title": t["findings"]["title"], **self.findings_by_department()}}

    def markdown(self) -> str:
        return wording.render_file("bao_cao_DA06.md.j2", **self.context())


def render_report(con: duckdb.DuckDBPyConnection, period: str) -> str:
    """The report draft of the period as Markdown text, with the vintage of a month's publication."""
    return Draft(con, period).markdown() + vintages.report_line(con, period)


def write_text(path: Path, text: str) -> Path:
    """Write aside, then rename: a reader never opens half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_report(con: duckdb.DuckDBPyConnection, period: str, path: Path) -> Path:
    """Write the draft to `path` (aside, then renamed); returns `path`."""
    return write_text(path, render_report(con, period))
