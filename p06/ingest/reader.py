"""Read one delivery file exactly as the pipeline does: typed figures traced to their cells, and problems.

One generic reader serves every source; what differs between sources is declared in catalog/.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from p06 import catalog
from p06.catalog import Measure, Source
from p06.ingest.headers import Column, Layout, find_layout
from p06.ingest.problems import Problem
from p06.ingest.units import UnitMatcher
from p06.ingest.workbook import Grid, UnreadableFile, cell_ref, column_letter, open_grids
from p06.vntext import NumberFormatError, ParsedNumber, canonical_text, match_key, parse_number

AS_OF_PATTERNS = [
    re.compile(r"den ngay (\d{1,2}) (\d{1,2}) (\d{4})"),
    re.compile(r"den ngay (\d{1,2}) thang (\d{1,2}) nam (\d{4})"),
    re.compile(r"tinh den (\d{1,2}) (\d{1,2}) (\d{4})"),
]
COLUMN_NUMBER = re.compile(r"^\(?\d{1,2}\)?$")


@dataclass
class FileRead:
    """What one file holds for a source."""
    file: str
    observations: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    measures: set[str] = field(default_factory=set)     # measures found in its headers
    as_of_date: date | None = None
    grids: list[Grid] = field(default_factory=list)
    unreadable: bool = False


def read_as_of(texts: list[Any]) -> date | None:
    """The cut-off date in a title such as '(Số liệu tính đến ngày 15/9/2023)'."""
    for text in texts:
        if not isinstance(text, str):
            continue
        key = match_key(text)
        for pattern in AS_OF_PATTERNS:
            m = pattern.search(key)
            if m:
                d, mth, y = (int(g) for g in m.groups())
                try:
                    return date(y, mth, d)
                except ValueError:
                    continue
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


def _percent_decimals(number_format: str | None) -> int | None:
    if not number_format or "%" not in number_format:
        return None
    m = re.search(r"\.(0+)", number_format)
    return len(m.group(1)) if m else 0


def _float_decimals(x: float) -> int:
    text = repr(float(x))
    if "e" in text or "." not in text:
        return 0
    decimals = len(text.split(".")[1].rstrip("0"))
    return decimals


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
        return any(isinstance(v, str) and match_key(v) in self.total_labels for v in self.label_cells(r))

    def rows(self) -> list[dict]:
        """Observations of every unit and total row of the sheet."""
        out: list[dict] = []
        group: str | None = None
        measure_cols = self.layout.measures
        for r in range(self.layout.first_data_row, self.grid.n_rows):
            values = self.grid.rows[r]
            if not any(v is not None and str(v).strip() for v in values) or _is_column_number_row(values):
                continue
            cells = {mid: self.grid.value(r, col.index) for mid, col in measure_cols.items()}
            has_figures = any(
                v is not None and str(v).strip() for mid, v in cells.items() if self.source.measure(mid).kind != "text"
            )
            name = _text(self.grid.value(r, self.layout.name_col.index)) if self.layout.name_col else None
            code = self.grid.value(r, self.layout.code_col.index) if self.layout.code_col else None
            if self.is_total_row(r):
                unit_kind, unit_code, unit_name = "province", self.province_code, self.province_name
            else:
                unit = self.matcher.by_code(code) if code is not None else self.matcher.by_name(name)
                if unit is None and name is None and code is None:
                    if any(_is_number(v) for v in cells.values()):
                        self.problem(r, self.layout.name_col, "a row with figures but no unit name",
                                     expected=self.matcher.describe())
                    continue          # notes and signatures under the table
                if unit is None:
                    if not has_figures and name:
                        group = name  # a group label row (e.g. a department above its services)
                        continue
                    col = self.layout.code_col if code is not None else self.layout.name_col
                    self.problem(r, col, f"unit '{code if code is not None else name}' matches no unit",
                                 expected=self.matcher.describe())
                    continue
                if code is not None and name and self.matcher.by_name(name) not in (None, unit):
                    self.problem(r, self.layout.name_col, f"code {code} is {unit.name_vi} but the name says '{name}'",
                                 expected="a code and a name of the same unit")
                    continue
                unit_kind, unit_code, unit_name = unit.unit_kind, unit.unit_code, unit.name_vi
            for mid, col in measure_cols.items():
                obs = self.figure(r, col, self.source.measure(mid), cells[mid])
                if obs is None:
                    continue
                obs.update(unit_kind=unit_kind, unit_code=unit_code, unit_name=unit_name, group_label=group,
                           measure=mid, stated=unit_kind == "province" or self.source.measure(mid).kind == "ratio",
                           sheet=self.grid.sheet, cell=cell_ref(r, col.index), row=r + 1)
                out.append(obs)
        self.scale_ratios(out)
        return out

    def figure(self, r: int, col: Column, measure: Measure, raw: Any) -> dict | None:
        if measure.kind == "text":
            return {"value": None, "value_text": _text(raw), "decimals": None}
        try:
            parsed = parse_number(raw)
        except NumberFormatError as exc:
            kind = "a count" if measure.kind == "count" else "a ratio"
            self.problem(r, col, f"'{raw}' is not a number", expected=f"{kind} ({exc})")
            return None
        obs = {"value": parsed.value, "value_text": None, "decimals": parsed.decimals, "_parsed": parsed,
               "_format": self.grid.number_format(r, col.index)}
        if measure.kind == "count" and parsed.value is not None:
            if parsed.percent or not float(parsed.value).is_integer():
                hint = " (a count typed as '3.421' and read as a decimal?)" if isinstance(raw, float) else ""
                self.problem(r, col, f"{raw!r} is not a whole number{hint}", expected="a count of persons, records or dossiers")
                return None
        return obs

    def scale_ratios(self, observations: list[dict]) -> None:
        """Store every ratio as a fraction, with the decimals it showed in percent terms.

        '96,20%' and cells formatted as percent are unambiguous; bare numbers (0.962 or 96.2)
        take the scale that agrees with the ratio of their parts on the same row, and fall back
        to the declared `ratio_fraction_max` when the parts are missing.
        """
        by_row: dict[tuple[int, str], dict] = {(o["row"], o["measure"]): o for o in observations}
        fraction_max = float(catalog.common()["ratio_fraction_max"])
        for m in self.source.measures:
            if m.kind != "ratio":
                continue
            cells = [o for o in observations if o["measure"] == m.id and o["value"] is not None]
            bare = [o for o in cells if not o["_parsed"].percent and _percent_decimals(o["_format"]) is None]
            votes = 0
            for o in bare:
                num, den = (by_row.get((o["row"], part)) for part in m.ratio_of)
                if num and den and num["value"] is not None and den["value"]:
                    actual = num["value"] / den["value"]
                    votes += 1 if abs(o["value"] - actual) <= abs(o["value"] / 100 - actual) else -1
            as_fraction = votes > 0 or (votes == 0 and all(o["value"] <= fraction_max for o in bare))
            for o in cells:
                parsed: ParsedNumber = o["_parsed"]
                fmt_decimals = _percent_decimals(o["_format"])
                if parsed.percent:
                    o["value"] = parsed.value / 100
                elif fmt_decimals is not None:
                    o["decimals"] = fmt_decimals
                elif as_fraction:
                    shown = parsed.decimals if parsed.decimals is not None else _float_decimals(parsed.value)
                    o["decimals"] = max(shown - 2, 0)
                    continue
                else:
                    o["value"] = parsed.value / 100
                    if o["decimals"] is None:
                        o["decimals"] = _float_decimals(parsed.value)
                    continue
                if o["decimals"] is None:
                    o["decimals"] = _float_decimals(parsed.value) if not parsed.percent else 0


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
    dates: dict[str, date] = {}
    found_table = False
    for grid in grids:
        layout = find_layout(grid, source)
        if layout is None:
            continue
        found_table = True
        title = [v for row in grid.rows[:layout.header_row] for v in row]
        footer = [v for row in grid.rows[layout.first_data_row:] for v in row[:2]]
        as_of = read_as_of(title) or read_as_of(footer)
        if as_of:
            dates[grid.sheet] = as_of
        sheet = SheetReader(grid, layout, source, UnitMatcher(source.unit_kind, as_of), province)
        result.observations.extend(sheet.rows())
        result.problems.extend(sheet.problems)
        result.measures |= set(layout.measures)
    if not found_table:
        result.problems.append(Problem(
            path.name, f"no sheet has a table of {source.id}",
            expected=f"a header row naming a unit column and measures such as '{source.measures[0].headers[0][-1]}'"))
        return result
    distinct = set(dates.values())
    if len(distinct) > 1:
        result.problems.append(Problem(path.name, f"sheets give different as-of dates: {sorted(d.isoformat() for d in distinct)}",
                                       expected="one cut-off date for the delivery"))
    result.as_of_date = min(distinct) if distinct else None
    if period and result.as_of_date and result.as_of_date.strftime("%Y-%m") != period:
        sheet = next(s for s, d in dates.items() if d == result.as_of_date)
        result.problems.append(Problem(
            path.name, f"the title says the figures are as of {result.as_of_date:%d/%m/%Y}, which is not in {period}",
            sheet=sheet, expected=f"an as-of date in {period} (the month of the folder raw/{period}/)"))
    for obs in result.observations:
        obs["file"] = path.name
        obs["as_of_date"] = result.as_of_date
        obs.pop("_parsed", None)
        obs.pop("_format", None)
    return result
