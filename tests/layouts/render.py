"""Render a known table in a `Layout` as an .xlsx or .csv delivery, with what the reader must return.

The sheet is built as plain cells first (`Sheet`: values, number formats, merges, hidden rows and
columns), then written by openpyxl or the csv module. Every figure's cell is recorded so a failure
can say where the generator wrote it.
"""
from __future__ import annotations

import csv
import random
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter

from p06 import catalog, config
from p06.vntext import match_key

from .figures import KnownTable, largest_count, ratio_percent, unit_total
from .model import (
    Expected,
    ExpectedFigure,
    Layout,
    names_any_cell,
    names_cell,
    names_column,
    names_word,
)
from .spelling import respell, unit_name

COUNT_STYLES = ("number", "text .", "text ,", "text space", "text nbsp", "some text")
RATIO_STYLES = ("fraction", "percent number", "percent format", "text 96,20%", "text 96,20", "text 0,962", "text 0.962")
CSV_RATIO_STYLES = ("fraction", "percent number", "text 96,20%", "text 96,20", "text 0,962", "text 0.962")
UNLABELLED_WORDS = ("Đợt 1", "Đợt 2")     # groups over the same leaves that say nothing of month or cumulative
SUPER_HEADER = "Kết quả thực hiện"
# Subtotal blocks of districts (Thanh Hóa's mountain districts; the cities and towns; the plains), each
# label in a few wordings; every wording starts with a label of common.yaml subtotal_row_labels.
MOUNTAIN = ("384", "385", "386", "387", "388", "389", "390", "391", "396", "402", "403")
TOWNS = ("380", "381", "382", "407")
BLOCKS = {
    "2 blocks": ((("Khối đồng bằng, ven biển", "Vùng đồng bằng, ven biển", "Các huyện đồng bằng"), None),
                 (("Khối miền núi", "Cộng khối miền núi", "Huyện miền núi"), MOUNTAIN)),
    "3 blocks": ((("Khối thành phố, thị xã", "Cộng khối thành phố, thị xã", "Nhóm thành phố, thị xã"), TOWNS),
                 (("Khối đồng bằng", "Vùng đồng bằng", "Huyện đồng bằng"), None),
                 (("Khối miền núi", "Vùng miền núi", "Miền núi"), MOUNTAIN)),
}


def scope_words(scope: str) -> list[str]:
    """Group headers of a scope ('month' | 'cumulative') as common.yaml declares them."""
    return list(catalog.common()["scope_headers"][scope])


def unit_words() -> list[str]:
    """Words of a units row for counts (common.yaml unit_of_measure_words, those that are words)."""
    return [w for w in catalog.common()["unit_of_measure_words"] if any(ch.isalpha() for ch in w)]


@dataclass
class Sheet:
    title: str
    cells: dict[tuple[int, int], Any] = field(default_factory=dict)          # 0-based (row, col) -> value
    formats: dict[tuple[int, int], str] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)    # r1, c1, r2, c2 inclusive
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)
    state: str = "visible"

    def put(self, r: int, c: int, value: Any, number_format: str | None = None) -> None:
        if value is None or value == "":
            return
        self.cells[(r, c)] = value
        if number_format:
            self.formats[(r, c)] = number_format

    @property
    def n_rows(self) -> int:
        return max((r for r, _ in self.cells), default=-1) + 1


@dataclass
class Delivery:
    path: Path
    layout: Layout
    table: KnownTable
    expected: Expected
    header_texts: dict[str, str]            # column letter -> header as rendered (for failure output)
    cells: dict[str, Any]                   # the data sheet's cells by reference ('C7')


@dataclass
class Col:
    role: str                                # stt | name | code | measure | blank | note | helper
    path: tuple[str, ...] = ()
    measure: str | None = None
    side: str = "known"                      # known | other (the other period's figures, an older copy)
    hidden: bool = False


def ref(r: int, c: int) -> str:
    return f"{get_column_letter(c + 1)}{r + 1}"


def thousands(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


class Renderer:
    """Builds the data sheet of one `Layout` of one table, and the expected outcome."""

    def __init__(self, table: KnownTable, lay: Layout):
        self.t, self.lay = table, lay
        self.rng = random.Random(lay.seed)
        self.source = table.source
        self.common = catalog.common()
        self.csv = lay.fmt == "csv"
        self.expected = Expected(as_of=None if lay.as_of == "none" else Expected().as_of)
        self.counts = [m for m in table.measures if table.measure(m).kind == "count"]
        self.ratios = [m for m in table.measures if table.measure(m).kind == "ratio"]
        self.other_values = self._other_values()

    # ------------------------------------------------------------------ figures

    def _other_values(self) -> dict[tuple[str, str], float | None]:
        """Figures of the other period (or an older copy): different from the known ones wherever non-zero."""
        out = {}
        for (code, m), v in self.t.values.items():
            if m in self.counts and v is not None:
                # one factor per unit, so a part stays within its whole in the other figures too
                r = random.Random(f"{self.lay.seed}/{code}")
                month = self.t.measure(m).scope == "month"      # the other figures are cumulative: larger
                out[(code, m)] = float(v * r.randint(3, 9)) if month else float(int(v * r.uniform(0.01, 0.2)))
        return out

    def value(self, code: str, m: str, side: str) -> float | None:
        return (self.other_values if side == "other" else self.t.values).get((code, m))

    def ratio(self, codes, m: str, side: str, decimals: int) -> Decimal | None:
        num, den = self.t.measure(m).ratio_of
        values = self.other_values if side == "other" else self.t.values
        return ratio_percent(unit_total(values, codes, num), unit_total(values, codes, den), decimals)

    # ------------------------------------------------------------------ columns

    def header(self, text: str) -> str:
        return respell(text, self.lay.header_spelling)

    def measure_path(self, i: int, m: str) -> tuple[str, ...]:
        aliases = self.t.measure(m).headers
        alias = aliases[self.lay.header_aliases[i] % len(aliases)] if self.lay.header_aliases else aliases[0]
        path = tuple(self.header(p) for p in alias)
        if len(path) == 2 and self.lay.group_style == "flattened":
            group, leaf = path
            path = (f"{group} ({leaf})" if self.lay.joiner == "(" else f"{group}{self.lay.joiner}{leaf}",)
        return path

    def period_words(self) -> dict[str, str]:
        """The group word over each scope's columns: {'month': ..., 'cumulative': ...} (drawn from
        common.yaml scope_headers), or 'Đợt 1' / 'Đợt 2' for the unlabelled pair."""
        lay = self.lay
        if lay.periods == "unlabelled period pair":
            return {"month": self.header(UNLABELLED_WORDS[0]), "cumulative": self.header(UNLABELLED_WORDS[1])}
        month, cumulative = scope_words("month"), scope_words("cumulative")
        return {"month": self.header(month[lay.period_words[0] % len(month)]),
                "cumulative": self.header(cumulative[lay.period_words[1] % len(cumulative)])}

    def scope(self, m: str) -> str:
        """The declared scope of a measure; in the unlabelled pair the known figures go under 'Đợt 2'."""
        return "cumulative" if self.lay.periods == "unlabelled period pair" else self.t.measure(m).scope

    def columns(self) -> list[Col]:
        lay = self.lay
        label = []
        if lay.number_column != "none":
            label.append(Col("stt", (respell(self.common["row_number_headers"][0], lay.unit_header_spelling),)))
        names = [*self.common["unit_name_headers"][self.t.unit_kind], *self.common["unit_name_headers"].get("any", [])]
        name = Col("name", (respell(names[lay.unit_header % len(names)], lay.unit_header_spelling),))
        codes = self.common["unit_code_headers"][self.t.unit_kind]
        code = Col("code", (respell(codes[lay.unit_header % len(codes)], lay.unit_header_spelling),))
        label += ([code, name] if lay.seed % 2 else [name, code]) if lay.code_column else [name]

        words = self.period_words()
        other_scope = {"month": "cumulative", "cumulative": "month"}
        groups: dict[str, list[Col]] = {"month": [], "cumulative": []}
        rest = []
        for i, m in enumerate(self.t.measures):
            path = self.measure_path(i, m)
            if lay.periods == "none" or m not in self.counts + self.ratios:
                rest.append(Col("measure", path, m))
            elif lay.periods == "wrong period only":
                if m in self.counts:        # the known figures under the other scope's word; ratios left out
                    wrong = other_scope[self.scope(m)]
                    groups[wrong].append(Col("measure", (words[wrong], *path), m))
            else:
                known = self.scope(m)
                groups[known].append(Col("measure", (words[known], *path), m))
                groups[other_scope[known]].append(Col("measure", (words[other_scope[known]], *path), m, side="other"))
        order = ["month", "cumulative"] if lay.month_first else ["cumulative", "month"]
        measures = [c for scope in order for c in groups[scope]] + rest
        if lay.super_header:
            measures = [Col(c.role, (self.header(SUPER_HEADER), *c.path), c.measure, c.side) for c in measures]
        if lay.shuffle_columns:
            measures = self._shuffled(measures)
        self.duplicated: Col | None = None
        if lay.hidden == "hidden duplicate column" or lay.duplicate_visible:
            i = next(i for i, c in enumerate(measures) if c.measure in self.counts and c.side == "known")
            copy = Col("measure", measures[i].path, measures[i].measure, side="other",
                       hidden=lay.hidden == "hidden duplicate column")
            measures.insert(i if copy.hidden or self.rng.random() < 0.5 else i + 1, copy)
            self.duplicated = copy
        keys = [tuple(match_key(p) for p in c.path) for c in measures if c.side == "known"]
        assert len(keys) == len(set(keys)), f"the generator rendered two measures under one header: {keys}"
        extras = []
        if lay.note_column:
            extras.append(Col("note", (respell("Ghi chú", lay.header_spelling),)))
        if lay.hidden == "helper column":
            extras.append(Col("helper", ("Cột phụ",), hidden=True))
        out = label + measures
        for _ in range(lay.blank_columns):
            out.insert(self._boundary(out), Col("blank"))
        for extra in extras:
            out.insert(self._boundary(out) if extra.role == "helper" else len(out), extra)
        return out

    def _shuffled(self, cols: list[Col]) -> list[Col]:
        """Columns in a drawn order, leaves of one group kept together (a merged group spans them)."""
        cols = cols[:]
        self.rng.shuffle(cols)
        first: dict[tuple[str, ...], int] = {}
        for i, c in enumerate(cols):
            for k in range(1, len(c.path) + 1):
                first.setdefault(c.path[:k], i)
        return sorted(cols, key=lambda c: tuple(first[c.path[:k]] for k in range(1, 4)))

    def _boundary(self, cols: list[Col]) -> int:
        """A position between two columns that share no group, after the label columns."""
        n_label = sum(c.role in ("stt", "name", "code") for c in cols)
        spots = [i for i in range(n_label, len(cols) + 1)
                 if i == len(cols) or i == n_label or len(cols[i - 1].path) < 2 or len(cols[i].path) < 2
                 or cols[i - 1].path[0] != cols[i].path[0]]
        return self.rng.choice(spots)

    # ------------------------------------------------------------------ the sheet

    def build(self, title: str, old: bool = False) -> Sheet:
        lay = self.lay
        sheet = Sheet(title)
        cols = self.columns()
        self.cols = cols
        width = len(cols)
        r = 0
        department = self.source.department_vi.upper()
        for line in [department, f"BÁO CÁO KẾT QUẢ THỰC HIỆN ĐỀ ÁN 06 - {self.t.sheet.upper()}",
                     "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"][:lay.titles]:
            sheet.put(r, 0, line)
            if lay.merged_titles and not self.csv:
                sheet.merges.append((r, 0, r, width - 1))
            r += 1
        if lay.as_of != "none":
            day = "15/8/2023" if old else "15/9/2023"
            if lay.as_of == "text":
                sheet.put(r, 0, f"(Số liệu tính đến ngày {day})")
            elif lay.as_of == "short year":
                sheet.put(r, 0, f"(Số liệu tính đến ngày {'15/08/23' if old else '15/09/23'})")
            else:
                sheet.put(r, 0, "Số liệu tính đến ngày:")
                when = datetime(2023, 8 if old else 9, 15)
                sheet.put(r, 1, when.strftime("%d/%m/%Y") if self.csv else when, None if self.csv else "dd/mm/yyyy")
            r += 1
        if lay.titles or lay.as_of != "none":
            r += 1                                   # a blank line above the header
        header_top = r
        r = self.header_rows(sheet, cols, header_top)
        self.header_texts = {get_column_letter(c + 1): " > ".join(col.path) for c, col in enumerate(cols) if col.path}
        if lay.units_row:
            for c, col in enumerate(cols):
                if col.role == "measure":
                    kind = self.t.measure(col.measure).kind
                    words = unit_words()
                    sheet.put(r, c, "(%)" if kind == "ratio" else words[(c + lay.seed) % len(words)]
                              if kind == "count" else None)
            r += 1
        if lay.column_numbers != "none":
            for c in range(width):
                if lay.column_numbers == "(1) (2)":
                    sheet.put(r, c, f"({c + 1})")
                else:
                    n_label = sum(col.role in ("stt", "name", "code") for col in cols)
                    sheet.put(r, c, "ABCDEFG"[c] if c < n_label else str(c - n_label + 1))
            r += 1
        r = self.body(sheet, cols, r, old)
        self.footer(sheet, cols, r)
        for c, col in enumerate(cols):
            if col.hidden:
                sheet.hidden_cols.add(c)
        return sheet

    def header_rows(self, sheet: Sheet, cols: list[Col], top: int) -> int:
        depth = max(len(c.path) for c in cols if c.path)
        style = "written once" if self.csv and self.lay.group_style == "merged" else self.lay.group_style
        for c, col in enumerate(cols):
            if not col.path:
                continue
            last = len(col.path) - 1
            sheet.put(top + last, c, col.path[last])
            if last < depth - 1 and not self.csv:
                sheet.merges.append((top + last, c, top + depth - 1, c))
        for level in range(depth - 1):
            c = 0
            while c < len(cols):
                col = cols[c]
                if len(col.path) <= level + 1:
                    c += 1
                    continue
                end = c
                while (end + 1 < len(cols) and len(cols[end + 1].path) > level + 1
                       and cols[end + 1].path[:level + 1] == col.path[:level + 1]):
                    end += 1
                for k in range(c, end + 1):
                    if k == c or style == "repeated":
                        sheet.put(top + level, k, col.path[level])
                if style == "merged" and end > c:
                    sheet.merges.append((top + level, c, top + level, end))
                c = end + 1
        return top + depth

    def unit_rows(self) -> list[tuple[str, Any, Any]]:
        """('unit', unit, None) and ('subtotal', label, codes) and ('group', label, None) rows, in order."""
        units = list(self.t.units)
        if self.lay.subtotals == "none" or self.t.unit_kind != "district":
            rows: list[tuple[str, Any, Any]] = []
            group = None
            for u in units:
                if u.group and u.group != group:
                    rows.append(("group", u.group, None))
                group = u.group
                rows.append(("unit", u, None))
            return rows
        blocks = BLOCKS[self.lay.subtotals]
        listed = {c for _, codes in blocks if codes for c in codes}
        rows = []
        declared = [match_key(w) for w in self.common["subtotal_row_labels"]]
        for wordings, codes in blocks:
            label = wordings[self.lay.seed % len(wordings)]
            assert any(match_key(label).startswith(w) for w in declared), f"{label!r}: not a declared subtotal label"
            members = [u for u in units if (u.code in codes if codes else u.code not in listed)]
            rows.append(("subtotal", label, [u.code for u in members]))
            rows.extend(("unit", u, None) for u in members)
        return rows

    def body(self, sheet: Sheet, cols: list[Col], r: int, old: bool) -> int:
        lay = self.lay
        all_codes = [u.code for u in self.t.units]
        total_label = respell(self.common["total_row_labels"][lay.total_label % len(self.common["total_row_labels"])],
                              lay.total_label_spelling)
        if lay.total_row == "top":
            r = self.figures_row(sheet, cols, r, ("total", total_label, all_codes), old)
        serial = 0
        roman = iter(("I", "II", "III"))
        hidden_unit = None
        if lay.hidden == "hidden unit row":
            hidden_unit = self.t.units[len(self.t.units) // 2].code
        for row in self.unit_rows():
            if row[0] == "unit":
                serial += 1
                if lay.hidden == "blank row" and serial == 3:
                    sheet.hidden_rows.add(r)
                    r += 1
                if row[1].code == hidden_unit:
                    sheet.hidden_rows.add(r)
                    self.expected.refuse("hidden unit row", names_word("hidden"))
            r = self.figures_row(sheet, cols, r, row, old, serial=serial, roman=roman)
        if lay.total_row == "bottom":
            r = self.figures_row(sheet, cols, r, ("total", total_label, all_codes), old)
        return r

    def figures_row(self, sheet: Sheet, cols: list[Col], r: int, row, old: bool, serial: int = 0, roman=None) -> int:
        lay = self.lay
        kind, what, codes = row
        for c, col in enumerate(cols):
            if col.role == "stt":
                if kind == "unit" and not (lay.number_column == "some blank" and serial % 3 == 0):
                    sheet.put(r, c, serial)
                elif kind == "subtotal" and roman is not None:
                    sheet.put(r, c, next(roman))
            elif col.role == "name":
                if kind == "unit":
                    sheet.put(r, c, respell(unit_name(what.name, lay.name_form), lay.name_spelling))
                else:
                    sheet.put(r, c, respell(what, lay.name_spelling) if kind != "total" else what)
            elif col.role == "code" and kind == "unit":
                code = what.code
                sheet.put(r, c, int(code) if code.isdigit() and not self.csv and lay.seed % 3 == 0 else code)
            elif col.role == "note" and kind == "unit" and serial % 4 == 1:
                sheet.put(r, c, "Đã rà soát" if serial % 8 == 1 else "Số liệu sơ bộ")
            elif col.role == "helper" and kind == "unit":
                sheet.put(r, c, serial * 10)
            elif col.role == "measure":
                m = self.t.measure(col.measure)
                unit_codes = [what.code] if kind == "unit" else codes
                side = "other" if (old or col.side == "other") else "known"
                if kind == "group":
                    continue
                if m.kind == "text":
                    value = self.t.values.get((what.code, m.id)) if kind == "unit" else None
                    sheet.put(r, c, value)
                    if kind == "unit" and not old and col.side == "known":
                        self.expect(what.code, m.id, None, value, ref(r, c), kind)
                elif m.kind == "count":
                    v = self.value(what.code, m.id, side) if kind == "unit" else unit_total(
                        self.other_values if side == "other" else self.t.values, unit_codes, m.id)
                    self.put_count(sheet, r, c, v, col)
                    if kind in ("unit", "total") and not old and col.side == "known":
                        self.expect(what.code if kind == "unit" else None, m.id, v, None, ref(r, c), kind)
                else:
                    i = self.ratios.index(m.id)
                    decimals = lay.ratio_decimals[i] if lay.ratio_decimals else 2
                    pp = self.ratio(unit_codes, m.id, side, decimals)
                    self.put_ratio(sheet, r, c, pp, decimals, lay.ratio_styles[i] if lay.ratio_styles else "fraction")
                    if kind in ("unit", "total") and not old and col.side == "known":
                        v = float(pp / 100) if pp is not None else None
                        self.expect(what.code if kind == "unit" else None, m.id, v, None, ref(r, c), kind)
        if kind == "subtotal":
            self.expected.subtotals = True
        return r + 1

    def expect(self, code: str | None, m: str, value, text, cell: str, kind: str) -> None:
        province = kind == "total"
        key = (config.province_code() if province else code, m)
        stated = province or self.t.measure(m).kind == "ratio"
        self.expected.figures[key] = ExpectedFigure(value, text, cell, "province" if province else self.t.unit_kind, stated)

    def put_count(self, sheet: Sheet, r: int, c: int, v: float | None, col: Col) -> None:
        if v is None:
            return
        n = int(v)
        i = self.counts.index(col.measure)
        style = self.lay.count_styles[i] if self.lay.count_styles else "number"
        if style == "number":
            value: Any = str(n) if self.csv else n
        elif style == "some text":
            value = thousands(n, ".") if n >= 1000 and (r + c) % 3 == 0 else (str(n) if self.csv else n)
        else:
            value = thousands(n, {"text .": ".", "text ,": ",", "text space": " ", "text nbsp": "\u00a0"}[style])
        sheet.put(r, c, value)

    def put_ratio(self, sheet: Sheet, r: int, c: int, pp: Decimal | None, decimals: int, style: str) -> None:
        if pp is None:
            return
        fraction = pp / 100
        if style == "fraction":
            sheet.put(r, c, str(fraction) if self.csv else float(fraction))
        elif style == "percent number":
            sheet.put(r, c, str(pp) if self.csv else float(pp))
        elif style == "percent format":
            sheet.put(r, c, float(fraction), "0" + ("." + "0" * decimals if decimals else "") + "%")
        elif style == "text 96,20%":
            sheet.put(r, c, f"{pp}%".replace(".", ","))
        elif style == "text 96,20":
            sheet.put(r, c, str(pp).replace(".", ","))
        elif style == "text 0,962":
            sheet.put(r, c, str(fraction).replace(".", ","))
        else:
            sheet.put(r, c, str(fraction))

    def footer(self, sheet: Sheet, cols: list[Col], r: int) -> None:
        right = max(len(cols) - 3, 1)
        for part in self.lay.footer:
            if part == "blank rows":
                r += 2
            elif part == "notes":
                sheet.put(r, 0, "Ghi chú: Số liệu do các đơn vị báo cáo, đã đối chiếu với CSDLQG về dân cư.")
                sheet.put(r + 1, 0, "- Có 02 đơn vị báo cáo chậm.")
                r += 2
            elif part == "place and date":
                sheet.put(r, right, "Thanh Hóa, ngày 16 tháng 9 năm 2023")
                r += 1
            elif part == "signature":
                name_col = next(c for c, col in enumerate(cols) if col.role == "name")
                sheet.put(r, name_col, "NGƯỜI LẬP BIỂU")
                sheet.put(r, right, "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC")
                sheet.put(r + 1, right, "(Ký, ghi rõ họ tên)")
                sheet.put(r + 4, name_col, "Nguyễn Văn An")
                sheet.put(r + 4, right, "Lê Thị Bình")
                r += 5

    # ------------------------------------------------------------------ refusals

    def refusals(self, sheet: Sheet) -> None:
        """Name what a refusal must name, for the refusing variations of this layout."""
        lay, cols = self.lay, self.cols
        letters = {c: get_column_letter(c + 1) for c in range(len(cols))}
        if lay.hidden == "hidden duplicate column":
            self.expected.refuse("hidden duplicate column", names_word("hidden"))
        if lay.duplicate_visible:
            dup = [c for c, col in enumerate(cols) if col.role == "measure" and col.path == self.duplicated.path]
            self.expected.refuse("duplicate visible header", *(names_column(letters[c]) for c in dup))
        if lay.periods == "wrong period only":
            used = {col.path[0] for col in cols if col.role == "measure" and len(col.path) > 1
                    and col.path[0] in self.period_words().values()}
            self.expected.refuse("wrong period only", ("the group word", [p for w in used for p in names_word(w)[1]]))
        if lay.periods == "unlabelled period pair":
            m = self.counts[0]
            pair = [c for c, col in enumerate(cols) if col.measure == m]
            self.expected.refuse("unlabelled period pair", *(names_column(letters[c], cols[c].path[0]) for c in pair))
        if lay.mixed_styles:
            self.mix_styles(sheet)
        if lay.ratio_beyond_max:
            self.ratio_beyond_max(sheet)

    def ratio_beyond_max(self, sheet: Sheet) -> None:
        """One unit's ratio written as 2,5 times the measure's declared maximum (250% of a part of its whole),
        in its column's style."""
        i, m = next((i, m) for i, m in enumerate(self.ratios) if self.t.measure(m).ratio_max is not None)
        c = next(c for c, col in enumerate(self.cols) if col.measure == m and col.side == "known" and not col.hidden)
        unit = self.t.units[len(self.t.units) // 2]
        r = int(re.match(r"[A-Z]+(\d+)", self.expected.figures[(unit.code, m)].cell).group(1)) - 1
        decimals = self.lay.ratio_decimals[i] if self.lay.ratio_decimals else 2
        pp = (Decimal(repr(self.t.measure(m).ratio_max)) * 250).quantize(Decimal(1).scaleb(-decimals))
        sheet.cells.pop((r, c), None)
        self.put_ratio(sheet, r, c, pp, decimals, self.lay.ratio_styles[i] if self.lay.ratio_styles else "fraction")
        self.expected.refuse("ratio beyond its maximum", names_cell(ref(r, c)))

    def mix_styles(self, sheet: Sheet) -> None:
        """One text count cell written with the other thousands separator than its column."""
        styles = self.lay.count_styles
        i = largest_count(self.t)
        m, sep = self.counts[i], {"text .": ",", "text ,": "."}[styles[i]]
        c = next(c for c, col in enumerate(self.cols) if col.measure == m and col.side == "known" and not col.hidden)
        cells = sorted((r, cc) for (r, cc), v in sheet.cells.items()
                       if cc == c and isinstance(v, str) and any(s in v for s in ".,") and v.replace(".", "").replace(",", "").isdigit())
        assert len(cells) >= 2, f"{m}: too few cells with a thousands separator to mix styles"
        odd = cells[len(cells) // 2]
        sheet.cells[odd] = sheet.cells[odd].replace({".": ",", ",": "."}[sep], sep)
        others = [ref(*x) for x in cells if x != odd]
        self.expected.refuse("mixed number styles", names_cell(ref(*odd)), names_any_cell("another cell of the column", others))


def render(table: KnownTable, lay: Layout, directory: Path) -> Delivery:
    """Write the delivery of `lay` under `directory` and say what the reader must return."""
    renderer = Renderer(table, lay)
    data = renderer.build(table.sheet)
    renderer.refusals(data)
    sheets = []
    if lay.instruction_sheet and lay.fmt == "xlsx":
        sheets.append(instruction_sheet(table))
    if lay.hidden == "old sheet" and lay.fmt == "xlsx":
        old = Renderer(table, lay).build(f"{table.sheet} (cũ)", old=True)
        old.state = "hidden"
        sheets.append(old)
    sheets.append(data)
    name = f"{table.source_id}_{lay.seed}.{lay.fmt}"
    path = directory / name
    if lay.fmt == "csv":
        write_csv(path, data, lay.csv_delimiter, lay.csv_encoding)
    else:
        write_xlsx(path, sheets)
    cells = {ref(r, c): v for (r, c), v in data.cells.items()}
    return Delivery(path, lay, table, renderer.expected, renderer.header_texts, cells)


def instruction_sheet(table: KnownTable) -> Sheet:
    sheet = Sheet("Hướng dẫn")
    first = table.measure(table.measures[0]).headers[0][-1]
    for r, line in enumerate(["HƯỚNG DẪN NHẬP SỐ LIỆU", "1. Nhập số liệu lũy kế đến ngày cuối kỳ báo cáo.",
                              f"2. Cột '{first}': ghi số nguyên, không ghi chữ.", "3. Không thêm, bớt cột.",
                              "4. Tỷ lệ ghi theo %, làm tròn 2 chữ số thập phân."]):
        sheet.put(r, 0, line)
    return sheet


def write_xlsx(path: Path, sheets: list[Sheet]) -> None:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for spec in sheets:
        ws = wb.create_sheet(spec.title)
        ws.sheet_state = spec.state
        covered = {(r, c) for r1, c1, r2, c2 in spec.merges for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
                   if (r, c) != (r1, c1)}
        for (r, c), value in spec.cells.items():
            if (r, c) in covered:
                continue
            cell = ws.cell(row=r + 1, column=c + 1, value=value)
            if (r, c) in spec.formats:
                cell.number_format = spec.formats[(r, c)]
        for r1, c1, r2, c2 in spec.merges:
            ws.merge_cells(start_row=r1 + 1, start_column=c1 + 1, end_row=r2 + 1, end_column=c2 + 1)
        for r in spec.hidden_rows:
            ws.row_dimensions[r + 1].hidden = True
        for c in spec.hidden_cols:
            ws.column_dimensions[get_column_letter(c + 1)].hidden = True
    wb.save(path)


def write_csv(path: Path, sheet: Sheet, delimiter: str, encoding: str) -> None:
    width = max((c for _, c in sheet.cells), default=0) + 1
    rows = [[sheet.cells.get((r, c), "") for c in range(width)] for r in range(sheet.n_rows)]
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
