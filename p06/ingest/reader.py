"""Read one delivery file exactly as the pipeline does: typed figures traced to their cells, and problems.

One generic reader serves every source; what differs between sources is declared in catalog/.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from numbers import Number
from pathlib import Path
from typing import Any

from p06 import catalog
from p06.catalog import Measure, Source
from p06.ingest.as_of import date_problems, default_as_of, find_as_of
from p06.ingest.headers import Column, Layout, find_layout
from p06.ingest.problems import Problem
from p06.ingest.ratios import scale_ratios
from p06.ingest.units import UnitMatcher, code_key
from p06.ingest.workbook import (
    Grid,
    UnreadableFile,
    cell_ref,
    column_letter,
    open_grids,
)
from p06.vntext import NumberFormatError, canonical_text, match_key, parse_number

COLUMN_LABEL = re.compile(r"^\(?(\d{1,2}|[A-Z])\)?(\s*=.*)?$")     # (1), 2, A, 3=2/1, (4) = (3)/(2)


@dataclass(frozen=True)
class Table:
    """A sheet's table of the source: where its header starts and which measures it holds."""
    sheet: str
    header_row: int                  # 1-based, as the spreadsheet shows it
    measures: frozenset[str]


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

    @property
    def measures(self) -> set[str]:
        """Measures found in its headers."""
        return {m for t in self.tables for m in t.measures}


def _is_column_number_row(values: list[Any]) -> bool:
    """The '(1) (2) (3)' or 'A B 1 2 3=2/1' row some templates put under the header: column labels
    only, the numbered ones counting up by one (so a row of small figures is never taken for it)."""
    present = [str(v).strip() for v in values if v is not None and str(v).strip()]
    labels = [COLUMN_LABEL.match(v) for v in present]
    if len(present) < 3 or not all(labels):
        return False
    numbers = [int(m.group(1)) for m in labels if m.group(1).isdigit()]
    return all(b == a + 1 for a, b in zip(numbers, numbers[1:]))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = canonical_text(value)
    return text or None


def _is_number(value: Any) -> bool:
    try:
        return parse_number(value).value is not None
    except NumberFormatError:
        return False


class SheetReader:
    """One sheet's table as observations (one per unit row, total row and measure); what cannot be read
    becomes a problem naming its row and column."""

    def __init__(self, grid: Grid, layout: Layout, source: Source, matcher: UnitMatcher, province: tuple[str, str]):
        self.grid, self.layout, self.source, self.matcher = grid, layout, source, matcher
        self.province_code, self.province_name = province
        self.total_labels = {match_key(t) for t in catalog.common()["total_row_labels"]}
        self.problems: list[Problem] = []

    def problem(self, r: int, col: Column | None, message: str, expected: str | None = None) -> None:
        self.problems.append(Problem(
            self.grid.file, message, sheet=self.grid.sheet, row=r + 1,
            column=column_letter(col.index) if col else None, header=col.label if col else None, expected=expected,
        ))

    def label_cells(self, r: int) -> list[Any]:
        cols = [c for c in (self.layout.number_col, self.layout.code_col, self.layout.name_col) if c]
        return [self.grid.value(r, c.index) for c in cols]

    def is_total_row(self, r: int) -> bool:
        """A row labelled 'Tổng cộng', 'Toàn tỉnh', ... or carrying the province code in the code column."""
        if any(isinstance(v, str) and match_key(v) in self.total_labels for v in self.label_cells(r)):
            return True
        code = self.grid.value(r, self.layout.code_col.index) if self.layout.code_col else None
        return code is not None and code_key(code) == self.province_code

    def rows(self) -> list[dict]:
        """Observations of every unit and total row of the sheet."""
        out: list[dict] = []
        group: str | None = None
        seen: dict[str, int] = {}           # unit code -> 0-based row where it was first listed
        for r in range(self.layout.first_data_row, self.grid.n_rows):
            values = self.grid.rows[r]
            if not any(v is not None and str(v).strip() for v in values):
                continue
            if not seen and _is_column_number_row(values):
                continue
            cells = {mid: self.grid.value(r, col.index) for mid, col in self.layout.measures.items()}
            unit = self.row_unit(r, cells)
            if isinstance(unit, str):
                group = unit
                continue
            if unit is None:
                continue
            unit_kind, unit_code, unit_name = unit
            if unit_code in seen:
                self.problem(r, self.layout.name_col or self.layout.code_col,
                             f"{unit_name} ({unit_code}) is listed twice, in rows {seen[unit_code] + 1} and {r + 1}",
                             expected="each unit once per sheet")
                continue
            seen[unit_code] = r
            for mid, col in self.layout.measures.items():
                measure = self.source.measure(mid)
                obs = self.figure(r, col, measure, cells[mid])
                if obs is None:
                    continue
                obs.update(unit_kind=unit_kind, unit_code=unit_code, unit_name=unit_name, measure=mid,
                           group_label=group if unit_kind != "province" else None,
                           stated=unit_kind == "province" or measure.kind == "ratio",
                           sheet=self.grid.sheet, cell=cell_ref(r, col.index), row=r + 1)
                out.append(obs)
        scale_ratios(self.source, out)
        return out

    def row_unit(self, r: int, cells: dict[str, Any]) -> tuple[str, str, str] | str | None:
        """(unit_kind, unit_code, unit_name) of a row; a text for a group label row (a department above
        its services); None for a row to skip (notes, signatures, or a problem already reported)."""
        if self.is_total_row(r):
            return "province", self.province_code, self.province_name
        name = _text(self.grid.value(r, self.layout.name_col.index)) if self.layout.name_col else None
        code = self.grid.value(r, self.layout.code_col.index) if self.layout.code_col else None
        unit = self.matcher.by_code(code) if code is not None else self.matcher.by_name(name)
        if unit is None and name is None and code is None:
            if any(_is_number(v) for v in cells.values()):
                self.problem(r, self.layout.name_col, "a row with figures but no unit name", expected=self.matcher.describe())
            return None
        if unit is None:
            has_figures = any(v is not None and str(v).strip()
                              for mid, v in cells.items() if self.source.measure(mid).kind != "text")
            if not has_figures and name:
                return name
            col = self.layout.code_col if code is not None else self.layout.name_col
            what = f"unit code '{code}'" if code is not None else f"unit name '{name}'"
            self.problem(r, col, f"{what} matches no unit", expected=self.matcher.describe())
            return None
        if code is not None and name and self.matcher.by_name(name) not in (None, unit):
            self.problem(r, self.layout.name_col, f"code {code} is {unit.name_vi} but the name says '{name}'",
                         expected="a code and a name of the same unit")
            return None
        return unit.unit_kind, unit.unit_code, unit.name_vi

    def figure(self, r: int, col: Column, measure: Measure, raw: Any) -> dict | None:
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
            parsed = parse_number(raw)
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
    common = catalog.common()
    province = (str(common["province_code"]), common["province_name_vi"])
    dates: dict[str, tuple[date, int, int]] = {}      # sheet -> (as-of date, row, column)
    unheaded: list[Problem] = []       # measure headers without a unit column
    for grid in grids:
        layout = find_layout(grid, source)
        if layout is None:
            continue
        if not layout.has_units:
            unheaded.append(_no_unit_column(grid, layout, source))
            continue
        found = (find_as_of(grid, range(layout.first_data_row))
                 or find_as_of(grid, range(layout.first_data_row, grid.n_rows), max_col=2))
        on = found[0] if found else default_as_of(period)
        sheet = SheetReader(grid, layout, source, UnitMatcher(source.unit_kind, on), province)
        rows = sheet.rows()
        table = Table(grid.sheet, layout.header_row + 1, frozenset(layout.measures))
        if not rows and not sheet.problems:
            result.empty.append((table, _no_rows(grid, layout, source)))
            continue
        result.tables.append(table)
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
    distinct = {d for d, _, _ in dates.values()}
    result.as_of_date = min(distinct) if distinct else None
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


def _no_unit_column(grid: Grid, layout: Layout, source: Source) -> Problem:
    """Measure headers found on a sheet, but no header of the unit column the source's rows need."""
    names = catalog.common()["unit_name_headers"].get(source.unit_kind, [])
    found = ", ".join(f"'{col.label}'" for col in layout.measures.values())
    return Problem(grid.file, f"the header names {found} but no column of unit names or codes", sheet=grid.sheet,
                   row=layout.header_row + 1, expected=f"a unit column headed such as '{names[0]}' (or another header "
                   f"of unit_name_headers / unit_code_headers in catalog/common.yaml)" if names else None)
