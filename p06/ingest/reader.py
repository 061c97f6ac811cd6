"""Read one delivery file exactly as the pipeline does: typed figures traced to their cells, and problems.

One generic reader serves every source; what differs between sources is declared in catalog/.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from numbers import Number
from pathlib import Path
from typing import Any

from p06 import catalog
from p06.catalog import Measure, Source
from p06.ingest.headers import Column, Layout, find_layout
from p06.ingest.problems import Problem
from p06.ingest.units import UnitMatcher, code_key
from p06.ingest.workbook import Grid, UnreadableFile, cell_ref, column_letter, open_grids
from p06.vntext import NumberFormatError, ParsedNumber, canonical_text, match_key, parse_number

AS_OF_PATTERNS = [
    re.compile(r"den ngay (\d{1,2}) (\d{1,2}) (\d{4})"),
    re.compile(r"den ngay (\d{1,2}) thang (\d{1,2}) nam (\d{4})"),
    re.compile(r"tinh den (\d{1,2}) (\d{1,2}) (\d{4})"),
]
COLUMN_NUMBER = re.compile(r"^\(?\d{1,2}\)?$")


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
    as_of_date: date | None = None
    grids: list[Grid] = field(default_factory=list)
    unreadable: bool = False

    @property
    def measures(self) -> set[str]:
        """Measures found in its headers."""
        return {m for t in self.tables for m in t.measures}


def read_as_of(text: Any) -> date | None:
    """The cut-off date in a title such as '(Số liệu tính đến ngày 15/9/2023)'."""
    if not isinstance(text, str):
        return None
    key = match_key(text)
    for pattern in AS_OF_PATTERNS:
        for m in pattern.finditer(key):
            d, month, year = (int(g) for g in m.groups())
            try:
                return date(year, month, d)
            except ValueError:
                continue
    return None


def find_as_of(grid: Grid, rows: range, max_col: int | None = None) -> tuple[date, int, int] | None:
    """The first cut-off date written in the given rows, with its cell (0-based row, column)."""
    for r in rows:
        for c, value in enumerate(grid.rows[r][:max_col]):
            found = read_as_of(value)
            if found:
                return found, r, c
    return None


def _is_column_number_row(values: list[Any]) -> bool:
    """The '(1) (2) (3)' row some templates put under the header."""
    present = [v for v in values if v is not None and str(v).strip()]
    return len(present) >= 3 and all(COLUMN_NUMBER.match(str(v).strip()) for v in present)


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


def _number_format(number_format: str | None) -> tuple[bool, int | None]:
    """(shown as percent, decimals shown) of a cell's number format: '0.00%' -> (True, 2), '0.0' -> (False, 1),
    '0.00"%"' -> (False, 2) (a quoted or escaped % is a literal sign), 'General' or '@' -> (False, None)."""
    if not number_format or number_format.lower() in ("general", "@"):
        return False, None
    section = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", number_format.split(";")[0])
    m = re.search(r"\.([0#?]+)", section)
    return "%" in section, len(m.group(1)) if m else 0


def _percent_points_to_fraction(x: float) -> float:
    """96.2 -> 0.962 exactly (not 0.9620000000000001)."""
    return float(Decimal(repr(float(x))) / 100)


def _float_decimals(x: float) -> int:
    """Digits after the decimal point of a number's shortest form: 91.4 -> 1, 100.0 -> 0."""
    text = repr(float(x))
    return 0 if "e" in text or "." not in text else len(text.split(".")[1].rstrip("0"))


class SheetReader:
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
            if not any(v is not None and str(v).strip() for v in values) or _is_column_number_row(values):
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
        self.scale_ratios(out)
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

    def scale_ratios(self, observations: list[dict]) -> None:
        """Store every ratio as a fraction, with the decimals it showed in percent terms.

        '96,20%' and cells formatted as percent are unambiguous; bare numbers (0.962 or 96.2)
        take the scale that agrees with the ratio of their parts on the same row, and fall back
        to the declared `ratio_fraction_max` when the parts are missing.
        """
        by_row = {(o["row"], o["measure"]): o for o in observations}
        for m in self.source.measures:
            if m.kind != "ratio":
                continue
            cells = [o for o in observations if o["measure"] == m.id and o["value"] is not None]
            bare = [o for o in cells if not o["_parsed"].percent and not _number_format(o["_format"])[0]]
            as_fraction = self.bare_ratios_are_fractions(m, bare, by_row)
            for o in cells:
                parsed: ParsedNumber = o["_parsed"]
                percent_format, format_decimals = _number_format(o["_format"])
                if parsed.percent:                      # '96,20%'
                    o["value"], o["decimals"] = _percent_points_to_fraction(parsed.value), parsed.decimals
                    continue
                shown = next(d for d in (format_decimals, parsed.decimals, _float_decimals(parsed.value)) if d is not None)
                if percent_format:                      # 0.962 shown as 96,20%
                    o["decimals"] = shown
                elif as_fraction:                       # 0.962
                    o["decimals"] = max(shown - 2, 0)
                else:                                   # 96.2
                    o["value"], o["decimals"] = _percent_points_to_fraction(parsed.value), shown

    @staticmethod
    def bare_ratios_are_fractions(m: Measure, bare: list[dict], by_row: dict[tuple[int, str], dict]) -> bool:
        """Whether a ratio column's bare numbers are fractions (0.962) rather than percent points (96.2)."""
        votes = 0
        for o in bare:
            num, den = (by_row.get((o["row"], part)) for part in m.ratio_of)
            if num and den and num["value"] is not None and den["value"]:
                actual = num["value"] / den["value"]
                votes += 1 if abs(o["value"] - actual) <= abs(o["value"] / 100 - actual) else -1
        fraction_max = float(catalog.common()["ratio_fraction_max"])
        return votes > 0 or (votes == 0 and all(o["value"] <= fraction_max for o in bare))


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
    for grid in grids:
        layout = find_layout(grid, source)
        if layout is None:
            continue
        result.tables.append(Table(grid.sheet, layout.header_row + 1, frozenset(layout.measures)))
        found = (find_as_of(grid, range(layout.first_data_row))
                 or find_as_of(grid, range(layout.first_data_row, grid.n_rows), max_col=2))
        if found:
            dates[grid.sheet] = found
        sheet = SheetReader(grid, layout, source, UnitMatcher(source.unit_kind, found[0] if found else None), province)
        result.observations.extend(sheet.rows())
        result.problems.extend(sheet.problems)
    if not result.tables:
        result.problems.append(Problem(
            path.name, f"no sheet has a table of {source.id}",
            expected=f"a header row naming a unit column and measures such as '{source.measures[0].headers[0][-1]}'"))
        return result
    result.problems.extend(_date_problems(path.name, dates, period))
    distinct = {d for d, _, _ in dates.values()}
    result.as_of_date = min(distinct) if distinct else None
    for obs in result.observations:
        obs["file"] = path.name
        obs["as_of_date"] = result.as_of_date
        obs.pop("_parsed", None)
        obs.pop("_format", None)
    return result


def _date_problems(file: str, dates: dict[str, tuple[date, int, int]], period: str | None) -> list[Problem]:
    """A cut-off date outside the folder's month, or sheets disagreeing on it, named by the cell that says it."""
    problems = []
    if len({d for d, _, _ in dates.values()}) > 1:
        cells = ", ".join(f"'{sheet}'!{cell_ref(r, c)} {d:%d/%m/%Y}" for sheet, (d, r, c) in dates.items())
        problems.append(Problem(file, f"sheets give different as-of dates: {cells}", expected="one cut-off date for the delivery"))
    for sheet, (d, r, c) in dates.items():
        if period and d.strftime("%Y-%m") != period:
            problems.append(Problem(
                file, f"the sheet says the figures are as of {d:%d/%m/%Y}, which is not in {period}",
                sheet=sheet, row=r + 1, column=column_letter(c),
                expected=f"an as-of date in {period} (the month of the folder raw/{period}/)"))
    return problems
