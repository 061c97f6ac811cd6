"""Read one delivery file exactly as the pipeline does: typed figures traced to their cells, and problems.

One generic reader serves every source; what differs between sources is declared in catalog/.
For every figure it returns what a careful person reading the sheet would write down, or a
problem saying why it cannot: where two readings are possible (two columns under one header,
a hidden column or row that would change a figure, a column whose number styles disagree) it
refuses and names both candidates. How each table was read is kept (`TableReading`) so
`p06 check` can show it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from numbers import Number
from pathlib import Path
from typing import Any

from p06 import catalog, reference
from p06.catalog import Measure, Source
from p06.ingest import old_province
from p06.ingest.as_of import date_problems, default_as_of, find_as_of
from p06.ingest.headers import Column, Conflict, Layout, find_layout, header_column
from p06.ingest.numbers import ColumnStyle, column_style, parse_in_style
from p06.ingest.problems import Problem
from p06.ingest.ratios import scale_ratios
from p06.ingest.units import UnitMatcher, code_key
from p06.ingest.workbook import Grid, UnreadableFile, cell_ref, column_letter, open_grids
from p06.reference import UndeclaredUnitKind
from p06.vntext import NumberFormatError, canonical_text, match_key, parse_number

SUBTOTAL = "subtotal"                 # unit_kind of a stated regional or group subtotal row
ROMAN = re.compile(r"^(?=[IVXLC]+\.?$)M*(C[MD]|D?C{0,3})(X[CL]|L?X{0,3})(I[XV]|V?I{0,3})\.?$")
PLACE_DATE = re.compile(r"\bngay \d{1,2} thang \d{1,2} nam \d{4}\b")


@dataclass(frozen=True)
class Table:
    """A sheet's table of the source: where its header starts and which measures it holds."""
    sheet: str
    header_row: int                  # 1-based, as the spreadsheet shows it
    measures: frozenset[str]


@dataclass
class TableReading:
    """How one table was read: header cells per measure, what each row was taken for, number styles."""
    sheet: str
    header_rows: tuple[int, int]                              # 1-based, first and last
    measures: dict[str, str] = field(default_factory=dict)    # measure -> 'column E (E5:E6 ...)'
    unit_column: str | None = None
    styles: dict[str, str] = field(default_factory=dict)      # measure -> number style of its column
    rows: dict[str, list[int]] = field(default_factory=dict)  # unit | total | subtotal | group | ignored -> rows
    notes: list[str] = field(default_factory=list)

    def add_row(self, kind: str, r: int) -> None:
        self.rows.setdefault(kind, []).append(r + 1)


@dataclass
class FileRead:
    """What one file holds for a source."""
    file: str
    observations: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    empty: list[tuple[Table, Problem]] = field(default_factory=list)     # headers with no rows below
    as_of_date: date | None = None
    grids: list[Grid] = field(default_factory=list)
    unreadable: bool = False
    readings: list[TableReading] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)                       # what was seen and not read

    @property
    def measures(self) -> set[str]:
        """Measures found in its headers."""
        return {m for t in self.tables for m in t.measures}

    def all_notes(self) -> list[str]:
        """What was seen and not read (hidden rows, columns, sheets; rows after the table; no as-of date)."""
        return self.notes + [f"sheet '{t.sheet}': {n}" for t in self.readings for n in t.notes]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = canonical_text(value)
    return text or None


def _is_number(value: Any) -> bool:
    try:
        return parse_number(value).value is not None
    except NumberFormatError:
        return isinstance(value, str) and bool(re.fullmatch(r"[-+]?[\d.,\s\u00a0]+%?", value.strip()))


def _keys(words) -> list[str]:
    return sorted({match_key(w) for w in words}, key=len, reverse=True)


@dataclass
class Row:
    """A data row as the reader took it."""
    r: int
    kind: str                        # unit | total | subtotal
    unit: tuple[str, str, str]       # (unit_kind, unit_code, unit_name)
    group: str | None = None


class SheetReader:
    """One sheet's table as observations (one per unit row, total row, subtotal row and measure); what
    cannot be read becomes a problem naming its row and column."""

    def __init__(self, grid: Grid, layout: Layout, source: Source, matcher: UnitMatcher, province: tuple[str, str]):
        self.grid, self.layout, self.source, self.matcher = grid, layout, source, matcher
        self.province_code, self.province_name = province
        common = catalog.common()
        name = match_key(self.province_name)            # 'tinh thanh hoa': 'Toàn tỉnh Thanh Hóa' is a total label
        self.total_labels = {match_key(t) for t in common["total_row_labels"]} | {
            f"{match_key(p)} {name}".strip() for p in common.get("total_row_prefixes", [""])}
        self.subtotal_labels = _keys(common.get("subtotal_row_labels", []))
        self.footer_markers = _keys(common.get("footer_markers", []))
        self.hidden_rows = grid.hidden_rows
        self.problems: list[Problem] = []
        self.reading = TableReading(grid.sheet, (layout.header_row + 1, layout.header_row + layout.depth))

    def problem(self, r: int | None, col: Column | None, message: str, expected: str | None = None) -> None:
        self.problems.append(Problem(
            self.grid.file, message, sheet=self.grid.sheet, row=r + 1 if r is not None else None,
            column=column_letter(col.index) if col else None, header=col.label if col else None, expected=expected,
        ))

    # ------------------------------------------------------------ rows

    def label_cells(self, r: int) -> list[Any]:
        cols = [c for c in (self.layout.number_col, self.layout.code_col, self.layout.name_col) if c]
        return [self.grid.value(r, c.index) for c in cols]

    def is_total_row(self, r: int) -> bool:
        """A row labelled 'Tổng cộng', 'Toàn tỉnh', ... or carrying the province code in the code column."""
        if any(isinstance(v, str) and match_key(v) in self.total_labels for v in self.label_cells(r)):
            return True
        code = self.grid.value(r, self.layout.code_col.index) if self.layout.code_col else None
        return code is not None and code_key(code) == self.province_code

    def has_figures(self, r: int) -> bool:
        return any(_is_number(self.grid.value(r, col.index)) for mid, col in self.layout.measures.items()
                   if self.source.measure(mid).kind != "text")

    def is_footer(self, r: int) -> bool:
        """A note, a place-and-date line or a signature block: text only, no figures, no unit."""
        if self.has_figures(r) or self.row_unit(r, quiet=True)[0] in ("unit", "total"):
            return False
        for value in self.grid.rows[r]:
            if isinstance(value, str):
                key = match_key(value)
                if PLACE_DATE.search(key) or any(key == m or key.startswith(m + " ") for m in self.footer_markers):
                    return True
        return False

    def subtotal_label(self, r: int, name: str | None) -> str | None:
        """The label of a regional or group subtotal row ('Khối miền núi', 'II. Khối xã'), else None."""
        number = self.grid.value(r, self.layout.number_col.index) if self.layout.number_col else None
        key = match_key(name or "")
        roman = isinstance(number, str) and bool(ROMAN.match(number.strip()))
        stripped = re.sub(r"^([ivxlc]+|[a-z])\s+", "", key) if name else key
        if any(stripped == s or stripped.startswith(s + " ") for s in self.subtotal_labels) or (roman and name):
            return name
        return None

    def classify(self) -> list[Row]:
        """Unit, total and subtotal rows of the table, in sheet order; the rest noted or reported."""
        rows: list[Row] = []
        group: str | None = None
        open_block: list[Row] = []            # unit rows since the last subtotal or group row
        seen: dict[str, int] = {}             # unit code -> 0-based row where it was first listed
        end = None
        first, last = self.layout.first_data_row, self.grid.n_rows
        for r in range(first, last):
            values = self.grid.rows[r]
            if not any(v is not None and str(v).strip() for v in values):
                continue
            if r in self.layout.skipped_rows:
                continue
            if rows and self.is_footer(r):
                end = r
                break
            kind, unit = self.row_unit(r, quiet=r in self.hidden_rows)
            if r in self.hidden_rows:
                if kind in ("unit", "total", SUBTOTAL) and self.has_figures(r):
                    what = unit[2] if isinstance(unit, tuple) else unit
                    self.problem(r, None, f"row {r + 1} ({what}) is hidden but holds figures: a reader of the sheet "
                                 "does not see it", expected="the row shown (unhide it) or deleted")
                    continue
                self.reading.add_row("ignored", r)
                self.reading.notes.append(f"hidden row {r + 1} holds no figures; not read")
                continue
            if kind == "group":
                group = unit
                open_block = []
                self.reading.add_row("group", r)
                continue
            if kind == "ignored":
                self.reading.add_row("ignored", r)
                continue
            if kind == SUBTOTAL:
                covered = self._covered(r, unit, open_block)
                for row in covered:
                    row.group = unit
                rows.append(Row(r, SUBTOTAL, (SUBTOTAL, unit, unit), unit))
                open_block = []
                if not match_key(unit).startswith(("cong", "tong")):
                    group = unit               # a block heading: the units below belong to it
                self.reading.add_row(SUBTOTAL, r)
                continue
            if kind == "total":
                rows.append(Row(r, "total", unit))
                self.reading.add_row("total", r)
                continue
            unit_kind, unit_code, unit_name = unit
            if unit_code in seen:
                self.problem(r, self.layout.name_col or self.layout.code_col,
                             f"{unit_name} ({unit_code}) is listed twice, in rows {seen[unit_code] + 1} and {r + 1}",
                             expected="each unit once per sheet")
                continue
            seen[unit_code] = r
            row = Row(r, "unit", unit, group)
            rows.append(row)
            open_block.append(row)
            self.reading.add_row("unit", r)
        if end is not None:
            self._after_the_table(end, last)
        self._fit_block_headings(rows)
        return rows

    def _fit_block_headings(self, rows: list[Row]) -> None:
        """A block heading ('Khối miền núi' above its units) covers the units below it up to the next block;
        where a shorter run of them adds up to the heading's figures and the whole run does not, the block
        ends there (a careful reader checks the sums): the rest are no longer labelled with it."""
        counts = [col for mid, col in self.layout.measures.items() if self.source.measure(mid).kind == "count"]

        def value(r: int, col: Column) -> float:
            try:
                return parse_number(self.grid.value(r, col.index)).value or 0.0
            except NumberFormatError:
                return 0.0

        for i, head in enumerate(rows):
            if head.kind != SUBTOTAL or match_key(head.group).startswith(("cong", "tong")):
                continue
            block = []
            for row in rows[i + 1:]:
                if row.kind != "unit" or row.group != head.group:
                    break
                block.append(row)
            if not block or not counts:
                continue
            target = [value(head.r, col) for col in counts]
            sums, best = [0.0] * len(counts), (0, len(block))
            for k, row in enumerate(block, start=1):
                sums = [s + value(row.r, col) for s, col in zip(sums, counts)]
                hits = sum(abs(s - t) < 1e-9 for s, t in zip(sums, target))
                if hits and hits >= best[0]:
                    best = (hits, k)
            for row in block[best[1]:]:
                row.group = None

    def _covered(self, r: int, label: str, before: list[Row]) -> list[Row]:
        """The unit rows a subtotal covers: those above it since the last block ('Cộng khối ...'), or, for
        a block heading ('Khối miền núi'), none yet: the units below are given its label as they come."""
        key = match_key(label)
        return before if key.startswith(("cong", "tong")) or not self._rows_below_are_units(r) else []

    def _rows_below_are_units(self, r: int) -> bool:
        for below in range(r + 1, min(r + 4, self.grid.n_rows)):
            if any(v is not None and str(v).strip() for v in self.grid.rows[below]):
                kind, _ = self.row_unit(below, quiet=True)
                return kind == "unit"
        return False

    def _after_the_table(self, end: int, last: int) -> None:
        """Rows after a footer are notes; a unit row with figures there makes the table's end uncertain."""
        marker = next((str(v).strip() for v in self.grid.rows[end] if isinstance(v, str) and v.strip()), "")
        self.reading.notes.append(f"the table ends at row {end + 1} ('{marker[:40]}'); rows {end + 1}-{last} not read")
        for r in range(end + 1, last):
            kind, unit = self.row_unit(r, quiet=True)
            if kind == "unit" and self.has_figures(r):
                self.problem(r, self.layout.name_col, f"row {r + 1} lists {unit[2]} with figures below the end of the "
                             f"table (row {end + 1}: '{marker[:40]}')",
                             expected="every unit row above the notes and signatures")
                return

    def row_unit(self, r: int, quiet: bool = False) -> tuple[str, Any]:
        """What a row is: ('unit', (kind, code, name)), ('total', ...), (SUBTOTAL, label), ('group', label), or
        ('ignored', None) for a row to skip (after reporting a problem, unless `quiet`)."""
        if self.is_total_row(r):
            return "total", ("province", self.province_code, self.province_name)
        name = _text(self.grid.value(r, self.layout.name_col.index)) if self.layout.name_col else None
        code = self.grid.value(r, self.layout.code_col.index) if self.layout.code_col else None
        code = None if isinstance(code, str) and not code.strip() else code
        unit = self.matcher.by_code(code) if code is not None else self.matcher.by_name(name)
        has_figures = self.has_figures(r)
        if unit is None and name is None and code is None:
            if has_figures and not quiet:
                self.problem(r, self.layout.name_col, "a row with figures but no unit name", expected=self.matcher.describe())
            return "ignored", None
        if unit is None:
            label = self.subtotal_label(r, name)
            if label and has_figures:
                return SUBTOTAL, canonical_text(label)
            if not has_figures and name and code is None:
                return "group", name
            if not quiet:
                col = self.layout.code_col if code is not None else self.layout.name_col
                reason = self.matcher.explain(code if code is not None else name)     # when it was a unit, or of where
                if "matches no unit" in reason:
                    what = f"unit code '{code}'" if code is not None else f"unit name '{name}'"
                    self.problem(r, col, f"{what} matches no unit", expected=self.matcher.describe())
                else:
                    self.problem(r, col, reason, expected=self.matcher.describe())
            return "ignored", None
        if code is not None and name and self.matcher.by_name(name) not in (None, unit):
            if not quiet:
                self.problem(r, self.layout.name_col, f"code {code} is {unit.name_vi} but the name says '{name}'",
                             expected="a code and a name of the same unit")
            return "ignored", None
        return "unit", (unit.unit_kind, unit.unit_code, unit.name_vi)

    # ------------------------------------------------------------ figures

    def observations(self) -> list[dict]:
        """Observations of every unit, total and subtotal row of the sheet."""
        rows = self.classify()
        out: list[dict] = []
        for mid, col in self.layout.measures.items():
            measure = self.source.measure(mid)
            self.reading.measures[mid] = col.describe()
            style = self._style(rows, col, measure)
            if style is None:
                continue
            for row in rows:
                obs = self.figure(row.r, col, measure, self.grid.value(row.r, col.index), style.style)
                if obs is None:
                    continue
                unit_kind, unit_code, unit_name = row.unit
                obs.update(unit_kind=unit_kind, unit_code=unit_code, unit_name=unit_name, measure=mid,
                           group_label=row.group if row.kind != "total" else None,
                           stated=row.kind != "unit" or measure.kind == "ratio",
                           sheet=self.grid.sheet, cell=cell_ref(row.r, col.index), row=row.r + 1)
                out.append(obs)
        scale_ratios(self.source, out)
        return [o for o in out if self._within_bounds(o)]

    def _within_bounds(self, obs: dict) -> bool:
        """A ratio beyond what its measure allows (a share above 100%) is refused, naming the cell."""
        measure = self.source.measure(obs["measure"])
        if measure.kind != "ratio" or measure.ratio_max is None or obs["value"] is None:
            return True
        if obs["value"] <= measure.ratio_max + 1e-9:
            return True
        col = self.layout.measures[obs["measure"]]
        raw = self.grid.value(obs["row"] - 1, col.index)
        self.problem(obs["row"] - 1, col, f"the ratio {raw!r} reads as {obs['value'] * 100:g}%, above the "
                     f"{measure.ratio_max * 100:g}% that '{measure.label_vi}' can reach",
                     expected=f"a ratio of at most {measure.ratio_max * 100:g}% (96,20%, 0,962 or 96,2)")
        return False

    def _style(self, rows: list[Row], col: Column, measure: Measure) -> ColumnStyle | None:
        """The column's number style, or None after reporting why it cannot be decided."""
        if measure.kind == "text":
            return ColumnStyle(None)
        cells = [(row.r, self.grid.value(row.r, col.index)) for row in rows]
        style = column_style(cells, measure.kind)
        if style.conflict:
            (ra, a), (rb, b) = style.conflict
            self.problem(ra, col, f"the column's numbers are written in two styles: {cell_ref(ra, col.index)} '{a}' and "
                         f"{cell_ref(rb, col.index)} '{b}' cannot both be read with the same thousands separator and "
                         "decimal mark", expected="one number style per column (e.g. 3.421.346 and 96,20 throughout)")
            return None
        if style.ambiguous:
            r, raw, readings = style.ambiguous
            options = " or ".join(f"{value:g} ({s.name})" for s, value in readings)
            self.problem(r, col, f"'{raw}' can be read as {options}, and no cell of the column tells which",
                         expected="numbers whose thousands separator and decimal mark are unambiguous "
                         "(write 3.421 as 3421, or send true numbers)")
            return None
        if style.style is not None:
            self.reading.styles[measure.id] = style.style.name.split(" (")[0]
        elif any(isinstance(v, str) and v.strip() for _, v in cells):
            self.reading.styles[measure.id] = "digits only"
        else:
            self.reading.styles[measure.id] = "numbers"
        return style

    def figure(self, r: int, col: Column, measure: Measure, raw: Any, style) -> dict | None:
        """One cell as an observation (value, value_text, decimals), or None after reporting a problem."""
        formula = self.grid.unsaved_formula(r, col.index)
        if formula:
            self.problem(r, col, f"the cell holds the formula {formula} but not its value",
                         expected="a file saved by Excel or LibreOffice, which store the value of each formula")
            return None
        if measure.kind == "text":
            return {"value": None, "value_text": _text(raw), "decimals": None}
        kind = "a count (a whole number such as 3.421.346)" if measure.kind == "count" else "a ratio such as 96,20%, 0,962 or 96,2"
        try:
            parsed = parse_in_style(raw, style)
        except NumberFormatError as exc:
            detail = str(exc).removeprefix("expected ").split(", found ")[0]
            self.problem(r, col, f"'{raw}' is not a number", expected=f"{kind}; {detail}" if "such as" not in detail else kind)
            return None
        if measure.kind == "count" and parsed.value is not None and (parsed.percent or not parsed.value.is_integer()):
            hint = ""
            if isinstance(raw, float) and (raw * 1000).is_integer():
                hint = f" (if it means {round(raw * 1000)}, its thousands dot was read as a decimal point)"
            self.problem(r, col, f"{raw!r} is not a whole number{hint}", expected=kind)
            return None
        # A number format shows on numbers only: a text cell reads as it is written.
        number_format = self.grid.number_format(r, col.index) if isinstance(raw, Number) else None
        return {"value": parsed.value, "value_text": None, "decimals": parsed.decimals, "_parsed": parsed,
                "_format": number_format}

    # ------------------------------------------------------------ the layout's own problems

    def layout_problems(self) -> None:
        """Columns a careful reader could not choose between, and hidden columns that would be read."""
        for conflict in self.layout.conflicts:
            self.problems.append(_conflict_problem(self.grid, self.layout, self.source, conflict))
        hidden = [c for c in self.layout.columns if c.hidden and c not in self.layout.measures.values()
                  and not any(c in k.columns for k in self.layout.conflicts)]
        if hidden:
            self.reading.notes.append("hidden columns not read: " + ", ".join(c.describe() for c in hidden))


def _conflict_problem(grid: Grid, layout: Layout, source: Source, conflict: Conflict) -> Problem:
    measure = source.measure(conflict.measure)
    names = " and ".join(c.describe() for c in conflict.columns)
    first = conflict.columns[0]
    if conflict.reason == "scope":
        words = sorted({c.scope_text or c.scope for c in conflict.columns})
        scope_vi = {"month": "the month's figure", "cumulative": "the cumulative figure"}
        message = (f"'{measure.label_vi}' is {scope_vi[measure.scope]}, but its column is under "
                   f"'{', '.join(words)}' ({scope_vi[conflict.columns[0].scope]}): {names}")
        expected = (f"a column of {scope_vi[measure.scope]} ('Lũy kế' for a cumulative figure, 'Trong tháng' for "
                    "the month's); one is never read as the other")
    elif conflict.reason == "hidden" and len(conflict.columns) == 1:
        message = f"the column of '{measure.label_vi}' is hidden: {names}; a reader of the sheet does not see it"
        expected = "the column shown (unhide it) or deleted"
    elif conflict.reason == "hidden":
        message = f"'{measure.label_vi}' fits two columns, one of them hidden: {names}"
        expected = "one column per figure: delete the hidden copy"
    else:
        message = f"'{measure.label_vi}' fits two columns with the same header: {names}"
        expected = ("one column per figure; if one is the month's figure and the other the cumulative one, "
                    "head them 'Trong tháng' and 'Lũy kế'")
    return Problem(grid.file, message, sheet=grid.sheet, row=layout.header_row + 1, column=column_letter(first.index),
                   header=first.label, expected=expected)


def read_file(path: Path, source: Source, period: str | None = None) -> FileRead:
    """Read one delivery file for a source. Never raises for bad content: problems are returned."""
    result = FileRead(path.name)
    try:
        grids = open_grids(path)
    except UnreadableFile as exc:
        result.problems.append(exc.problem)
        result.unreadable = True
        return result
    result.grids = grids
    result.notes += list(dict.fromkeys(n for g in grids for n in g.notes))   # the file layer's remarks
    dates: dict[str, tuple[date, int, int]] = {}      # sheet -> (as-of date, row, column)
    unheaded: list[Problem] = []       # measure headers without a unit column
    for grid in grids:
        unit_kind = _unit_kind(source, period, grid)
        if grid.hidden:
            if find_layout(grid, source, unit_kind) is not None:
                result.notes.append(f"hidden sheet '{grid.sheet}' holds a table of {source.id}: not read "
                                    "(a hidden sheet is never the data sheet)")
            continue
        layout = find_layout(grid, source, unit_kind)
        if layout is None:
            continue
        found = (find_as_of(grid, range(layout.header_row))
                 or find_as_of(grid, range(layout.first_data_row, grid.n_rows), max_col=2))
        on = found[0] if found else default_as_of(period)
        province = (reference.province_code(), reference.province_name(on=on))
        parts = reference.old_provinces(on=on)          # a merged province's month before the merger
        try:
            matcher = UnitMatcher(unit_kind, on, units=[u for p in parts for u in reference.old_province_units(
                unit_kind, p.unit_code, on)] if parts else None)
        except UndeclaredUnitKind as exc:
            result.problems.append(Problem(path.name, str(exc), sheet=grid.sheet,
                                           expected=f"{unit_kind} units declared for the province"))
            continue
        if not layout.has_units:
            layout.name_col = _unit_column_by_content(grid, layout, matcher)
            if layout.name_col is None:
                unheaded.append(_no_unit_column(grid, layout, unit_kind))
                continue
            sheet_note = f"unit column found by its contents: {layout.name_col.describe()}"
        else:
            sheet_note = None
        part = None
        if parts:
            decided = old_province.decide(grid, layout, unit_kind, on, parts)
            if isinstance(decided, Problem):
                result.problems.append(decided)
                continue
            part, matcher = decided.province.unit_code, decided.matcher
            province = (part, decided.province.name_vi)
            result.notes.append(f"sheet '{grid.sheet}': old province {decided.how}")
        sheet = SheetReader(grid, layout, source, matcher, province)
        if sheet_note:
            sheet.reading.notes.append(sheet_note)
        sheet.layout_problems()
        rows = sheet.observations()
        for obs in rows:
            obs["old_province"] = part
        sheet.reading.unit_column = "; codes in ".join(c.describe() for c in (layout.name_col, layout.code_col) if c)
        table = Table(grid.sheet, layout.header_row + 1,
                      frozenset(layout.measures) | frozenset(c.measure for c in layout.conflicts))
        if not rows and not sheet.problems:
            result.empty.append((table, _no_rows(grid, layout, source)))
            continue
        result.tables.append(table)
        result.readings.append(sheet.reading)
        if found:
            dates[grid.sheet] = found
        result.observations.extend(rows)
        result.problems.extend(sheet.problems)
    if not result.tables:
        result.problems.extend([p for _, p in result.empty] or unheaded or [Problem(
            path.name, f"no sheet has a table of {source.id}",
            expected=f"a header row naming a unit column and measures such as '{source.measures[0].headers[0][-1]}'")])
        return result
    result.problems.extend(date_problems(path.name, dates, period))
    olds = sorted({o["old_province"] for o in result.observations if o.get("old_province")})
    if len(olds) > 1:
        result.problems.append(Problem(path.name, f"the sheets of the file are of different old provinces "
                                       f"({', '.join(reference.province_name(c, result.as_of_date or None) for c in olds)})",
                                       expected="one old province per file"))
    distinct = {d for d, _, _ in dates.values()}
    result.as_of_date = min(distinct) if distinct else None
    if result.as_of_date is None:
        result.notes.append("the file states no as-of (cut-off) date")
    for obs in result.observations:
        obs["file"] = path.name
        obs["as_of_date"] = result.as_of_date
        obs.pop("_parsed", None)
        obs.pop("_format", None)
    return result


def _no_rows(grid: Grid, layout: Layout, source: Source) -> Problem:
    """A header with nothing below it (the template sent back): no table, so it never stands in for data."""
    return Problem(grid.file, f"the table of {source.id} has no rows below its header (row {layout.header_row + 1})",
                   sheet=grid.sheet, row=layout.first_data_row + 1, expected="one row per unit below the header")


def _unit_column_by_content(grid: Grid, layout: Layout, matcher: UnitMatcher) -> Column | None:
    """A column whose header names no declared unit heading but whose cells are the units' names (at least
    two, and most of its filled cells): what a careful reader would take for the unit column."""
    taken = {c.index for c in layout.measures.values()} | {c.index for k in layout.conflicts for c in k.columns}
    rows = range(layout.first_data_row, min(grid.n_rows, layout.first_data_row + 400))
    best: tuple[int, int] | None = None
    for c in range(grid.n_cols):
        if c in taken:
            continue
        texts = [v for v in (grid.value(r, c) for r in rows) if isinstance(v, str) and v.strip()]
        hits = sum(matcher.by_name(v) is not None for v in texts)
        if hits >= 2 and hits * 2 > len(texts) and (best is None or hits > best[0]):
            best = (hits, c)
    if best is None:
        return None
    header = next((col for col in layout.columns if col.index == best[1]), None)
    return header or header_column(best[1], ("(no header)",))


def _unit_kind(source: Source, period: str | None, grid: Grid) -> str:
    """The kind of unit the source's rows are in that month (districts until 2025-06, communes after); without
    a folder month, the month of the sheet's as-of date; without either, the source's first kind."""
    if period is None:
        found = find_as_of(grid, range(min(grid.n_rows, 40)))
        period = found[0].strftime("%Y-%m") if found else None
    if period is None:
        return source.unit_kinds[0].unit_kind
    try:
        return source.unit_kind_in(period)
    except ValueError:          # a month outside every declared span: the nearest span's kind
        return (source.unit_kinds[0] if period < (source.unit_kinds[0].from_ or "") else source.unit_kinds[-1]).unit_kind


def _no_unit_column(grid: Grid, layout: Layout, unit_kind: str) -> Problem:
    """Measure headers found on a sheet, but no header of the unit column the source's rows need."""
    names = catalog.common()["unit_name_headers"].get(unit_kind, [])
    found = ", ".join(f"'{col.label}'" for col in layout.measures.values())
    return Problem(grid.file, f"the header names {found} but no column of unit names or codes", sheet=grid.sheet,
                   row=layout.header_row + 1, expected=f"a unit column headed such as '{names[0]}' (or another header "
                   f"of unit_name_headers / unit_code_headers in catalog/common.yaml)" if names else None)
