"""Finding messages in Vietnamese and English, naming the file, sheet and cells involved.

Numbers use the Vietnamese convention in both languages ("5.123", "78,25%"), as the
departments wrote them, so a report writer can quote a message back to the sender.
"""
from __future__ import annotations

import math
from typing import Mapping

from p06 import catalog, reference
from p06.periods import period_end
from p06.reconcile.rules import Expression, Rule
from p06.vntext import format_number, format_percent

MINUS = "\u2212"


def month_vi(period: str) -> str:
    """'2023-08' as Vietnamese reports write it: '8/2023'."""
    year, month = period.split("-")
    return f"{int(month)}/{year}"


def number(x) -> str:
    """A count as the departments write it; blank for a missing value."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "(trống)"
    return format_number(x, 0 if float(x).is_integer() else 2)


def _terms(expr: Expression, values) -> str:
    """ "65.546 − 60.468" for "merit_to_review - merit_cleaned"."""
    parts = []
    for i, (term, value) in enumerate(zip(expr.terms, values or [])):
        shown = number(term.constant if term.measure is None else value)
        if i == 0:
            parts.append(shown if term.sign > 0 else f"{MINUS}{shown}")
        else:
            parts.append(f"{'+' if term.sign > 0 else MINUS} {shown}")
    return " ".join(parts)


def _side(expr: Expression, values, total) -> str:
    if len(expr.terms) == 1 and expr.terms[0].sign > 0:
        return number(total)
    return f"{_terms(expr, values)} = {number(total)}"


def _where(row: Mapping, cell: str | None = None) -> tuple[str, str]:
    cell = cell if cell is not None else row.get("cell")
    file, sheet = row.get("file") or "?", row.get("sheet")
    inside_vi = f"trang {sheet}, tệp {file}" if sheet else f"tệp {file}"
    inside_en = f"sheet {sheet}, file {file}" if sheet else f"file {file}"
    if not cell:
        return f"Tệp {file}" + (f" (trang {sheet})" if sheet else ""), f"File {file}" + (f" (sheet {sheet})" if sheet else "")
    word_en = "Cells" if any(mark in cell for mark in ";,:") else "Cell"
    return f"Ô {cell} ({inside_vi})", f"{word_en} {cell} ({inside_en})"


def _label(source: catalog.Source | None, measure: str | None) -> tuple[str, str]:
    if source is None or not measure:
        return measure or "", measure or ""
    try:
        m = source.measure(measure)
    except StopIteration:
        return measure, measure
    return m.label_vi, m.label_en


def _cells(text: str | None) -> str:
    return (text or "").replace("; ", ", ")


def _compare(rule: Rule, row: Mapping) -> tuple[str, str]:
    where_vi, where_en = _where(row, _cells(row.get("left_cells")))
    other = _cells(row.get("right_cells"))
    left = _side(rule.left, row["left_values"], row["actual"])
    right = _side(rule.right, row["right_values"], row["expected"])
    diff = row["actual"] - row["expected"]
    verb = "states" if where_en.startswith("Cell ") else "state"
    if rule.op == "<=":
        vi = f"ghi {left}, lớn hơn {right} ở ô {other} (vượt {number(diff)})"
        en = f"{verb} {left}, more than the {right} of cell {other} (by {number(diff)})"
    elif rule.op == ">=":
        vi = f"ghi {left}, nhỏ hơn {right} ở ô {other} (thiếu {number(-diff)})"
        en = f"{verb} {left}, less than the {right} of cell {other} (short by {number(-diff)})"
    else:
        vi = f"ghi {left}; {right} (ô {other}; chênh lệch {number(diff)})"
        en = f"{verb} {left}; {right} (cells {other}; difference {number(diff)})"
    return f"{where_vi} {vi}.", f"{where_en} {en}."


def _stated_ratio(row: Mapping) -> tuple[str, str]:
    shown = int(row["detail"]) if row.get("detail") else 2
    num, den = row["right_values"]
    stated, computed = row["actual"], row["expected"]
    gap = abs(stated - computed) * 100
    where_vi, where_en = _where(row, _cells(row.get("left_cells")))
    other = _cells(row.get("right_cells"))
    pp = format_number(gap, shown + 1)
    limit = format_number(10 ** -shown, shown)
    computed_text = f"{number(num)} / {number(den)} = {format_percent(computed, max(shown, 2))}"
    vi = (f"{where_vi} ghi {format_percent(stated, shown)}; {computed_text} (ô {other}; chênh lệch {pp} "
          f"điểm phần trăm, quá sai số {limit} của chữ số thập phân cuối cùng được ghi).")
    en = (f"{where_en} states {format_percent(stated, shown)}; {computed_text} (cells {other}; off by {pp} "
          f"percentage points, more than the {limit} of the last decimal shown).")
    return vi, en


def _stated_total(row: Mapping) -> tuple[str, str]:
    total_cell = (row.get("cell") or "").split("; ")[0] or None
    where_vi, where_en = _where(row, total_cell)
    units = row.get("detail") or ""
    diff = row["actual"] - row["expected"]
    vi = (f"Dòng tổng cộng: {_mid(where_vi)} ghi {number(row['actual'])}; tổng các dòng đơn vị "
          f"{units} = {number(row['expected'])} (chênh lệch {number(diff)}).")
    en = (f"Total row: {_mid(where_en)} states {number(row['actual'])}; the unit rows {units} "
          f"add up to {number(row['expected'])} (difference {number(diff)}).")
    return vi, en


def _mid(where: str) -> str:
    """'Ô E33 (...)' placed inside a sentence: 'ô E33 (...)'."""
    return where[:1].lower() + where[1:]


def _earlier(row: Mapping, cell_word: str, file_word: str) -> str:
    """Where the earlier month's figure is: 'ô D9, tệp T8.xlsx'."""
    parts = [f"{cell_word} {row['ref_cell']}" if row.get("ref_cell") else "", f"{file_word} {row['ref_file']}" if row.get("ref_file") else ""]
    return ", ".join(x for x in parts if x)


def _stock(row: Mapping) -> tuple[str, str]:
    where_vi, where_en = _where(row)
    prev_at, prev_at_en = _earlier(row, "ô", "tệp"), _earlier(row, "cell", "file")
    fall = row["expected"] - row["actual"]
    vi = (f"Số lũy kế giảm: tháng {month_vi(row['ref_period'])} là {number(row['expected'])} ({prev_at}); "
          f"{_mid(where_vi)} ghi {number(row['actual'])} (giảm {number(fall)}).")
    en = (f"A cumulative figure fell: {number(row['expected'])} in {row['ref_period']} ({prev_at_en}); "
          f"{_mid(where_en)} states {number(row['actual'])} (down {number(fall)}).")
    return _unit_level_note(vi, en, row)


def _unit_level_note(vi: str, en: str, row: Mapping) -> tuple[str, str]:
    """A province-level comparison made because the units changed (p06.reconcile.kinds.history) says so."""
    if "unit level not comparable" not in (row.get("detail") or ""):
        return vi, en
    vi += f" Đơn vị báo cáo đã thay đổi so với tháng {month_vi(row['ref_period'])}: so sánh ở cấp tỉnh."
    en += f" The reporting units changed since {row['ref_period']}: compared at the province level."
    before = reference.old_provinces(None, period_end(row["ref_period"])) if row.get("ref_period") else []
    if before and not reference.old_provinces(None, period_end(row["period"])):
        names = ", ".join(reference.short_province_name(p.name_vi) for p in before)
        vi += f" Số liệu tháng {month_vi(row['ref_period'])} là tổng của các tỉnh cũ {names}."
        en += f" The figure of {row['ref_period']} is the sum of the old provinces {names}."
    return vi, en


def _outlier(rule: Rule, row: Mapping) -> tuple[str, str]:
    where_vi, where_en = _where(row)
    score = format_number(row["lhs"], 1)
    limit = format_number(row["rhs"], 1)
    if (row.get("detail") or "").split(";")[0] == "z":
        vi = (f"{where_vi} ghi {number(row['actual'])}; chỉ số z hiệu chỉnh {score} vượt ngưỡng {limit} "
              f"(mức thường gặp {number(row['expected'])}).")
        en = (f"{where_en} states {number(row['actual'])}; modified z-score {score} above {limit} "
              f"(typical {number(row['expected'])}).")
    else:
        vi = (f"{where_vi} ghi {number(row['actual'])}; tháng {month_vi(row['ref_period'])} là {number(row['expected'])} "
              f"(thay đổi {score} lần, quá ngưỡng {limit} lần; chênh lệch {number(row['actual'] - row['expected'])}).")
        en = (f"{where_en} states {number(row['actual'])}; {number(row['expected'])} in {row['ref_period']} "
              f"(a {score}-fold change, above {limit}; difference {number(row['actual'] - row['expected'])}).")
    return _unit_level_note(vi, en, row)


def _completeness_units(row: Mapping) -> tuple[str, str]:
    unit = f"{row['unit_code']} – {row['unit_name']}"
    where_vi, where_en = _where(row)
    n = int(row["actual"] or 0)
    if row.get("detail") == "no_delivery":
        short = reference.short_province_name(row["unit_name"])
        return (f"Không có tệp của {short} ({row['unit_code']}) cho tháng {month_vi(row['period'])}: số liệu toàn "
                f"tỉnh tháng này chưa gồm {short}.",
                f"No delivery from {short} ({row['unit_code']}) for {row['period']}: the province figure of the "
                f"month does not include {short}.")
    if row.get("detail") == "missing":
        return f"Thiếu đơn vị {unit}. {where_vi}.", f"Unit {unit} is missing. {where_en}."
    if row.get("detail") == "unexpected":
        return (f"Đơn vị {unit} không có trong danh mục đơn vị phải báo cáo. {where_vi}.",
                f"Unit {unit} is not among the units expected. {where_en}.")
    return f"Đơn vị {unit} xuất hiện {n} lần. {where_vi}.", f"Unit {unit} appears {n} times. {where_en}."


def _completeness_figures(row: Mapping, label_vi: str, label_en: str) -> tuple[str, str]:
    unit = f"{row['unit_code']} – {row['unit_name']}"
    where_vi, where_en = _where(row)
    return (f"{unit} chưa báo cáo {label_vi.lower()} ({_mid(where_vi)} để trống); số liệu toàn tỉnh chỉ cộng các "
            "đơn vị đã báo cáo.",
            f"{unit} left {label_en[:1].lower() + label_en[1:]} blank ({_mid(where_en)}); the province figure sums "
            "only the units that reported it.")


def _completeness_sources(row: Mapping, source: catalog.Source | None) -> tuple[str, str]:
    dept_vi = source.department_vi if source else row["source"]
    dept_en = source.department_en if source else row["source"]
    return (f"Chưa nhận được số liệu của {dept_vi} (nguồn {row['source']}) cho tháng {month_vi(row['period'])}.",
            f"No delivery from the {dept_en} (source {row['source']}) for {row['period']}.")


def render(rule: Rule, row: Mapping, source: catalog.Source | None) -> tuple[str, str]:
    """(message_vi, message_en) for one failed rule instance (an item row as a dict)."""
    label_vi, label_en = _label(source, row.get("measure"))
    if rule.kind == "compare":
        vi, en = _compare(rule, row)
        label_vi, label_en = rule.description_vi, rule.description_en
    elif rule.kind == "stated_ratio":
        vi, en = _stated_ratio(row)
    elif rule.kind == "stated_total":
        vi, en = _stated_total(row)
    elif rule.kind == "stock_not_falling":
        vi, en = _stock(row)
    elif rule.kind == "outlier":
        vi, en = _outlier(rule, row)
        label_vi, label_en = f"{label_vi} – {rule.description_vi}", f"{label_en} – {rule.description_en}"
    elif rule.kind == "completeness_units":
        return _completeness_units(row)
    elif rule.kind == "completeness_figures":
        return _completeness_figures(row, label_vi, label_en)
    else:
        return _completeness_sources(row, source)
    unit = row.get("unit_name") or row.get("unit_code")
    if row.get("unit_kind") in catalog.common()["unit_kinds_named_with_code"]:
        unit = f"{row['unit_code']} {unit}"
    return f"{unit} – {label_vi}: {vi}", f"{unit} – {label_en}: {en}"
