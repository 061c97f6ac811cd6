"""Which old province a file of a merged province's month before the merger belongs to.

Before 1 July 2025 each old province's departments sent their own file (Tỉnh Nam Định's police, Tỉnh Hà
Nam's ...). A file is read by its old province's units of its month, so the reader first decides whose file
it is, from three things a careful person would look at together: the title above the header ("CÔNG AN TỈNH
NAM ĐỊNH"), the total row ("Toàn tỉnh Nam Định", or the province code in the code column) and the units it
lists. A name alone can mislead (Phường Hà Nam, Xã Bắc Quang exist later in the new province), so the units
must fit the province the title or total row names; when nothing names one, the units decide only if they
fit a single old province. Anything else is refused, naming the candidates.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from p06 import reference
from p06.ingest.headers import Layout
from p06.ingest.problems import Problem
from p06.ingest.units import UnitMatcher, code_key
from p06.ingest.workbook import Grid
from p06.reference import Unit
from p06.vntext import match_key


@dataclass
class Decision:
    province: Unit                   # the old province whose file it is
    matcher: UnitMatcher             # its units of the month
    how: str                         # what decided it, for `p06 check` and the record


def _name_keys(province: Unit) -> list[str]:
    """'tinh nam dinh' (and 'tp ho chi minh' for a city): how a title or total row names the province."""
    key = match_key(province.name_vi)
    keys = [key]
    if key.startswith("thanh pho "):
        keys.append("tp " + key.removeprefix("thanh pho "))
    return keys


def _names(text: str, province: Unit) -> bool:
    padded = f" {match_key(text)} "
    return any(f" {k} " in padded for k in _name_keys(province))


def decide(grid: Grid, layout: Layout, unit_kind: str, on: date | None, parts: list[Unit]) -> Decision | Problem:
    """The old province of one sheet's table, or the problem saying why it cannot be told."""
    title = [v for r in range(layout.header_row) for v in grid.rows[r] if isinstance(v, str) and v.strip()]
    label_cols = [c.index for c in (layout.number_col, layout.code_col, layout.name_col) if c]
    rows = range(layout.first_data_row, grid.n_rows)
    labels = [v for r in rows for c in label_cols if isinstance(v := grid.value(r, c), str) and v.strip()]
    codes = ({code_key(grid.value(r, layout.code_col.index)) for r in rows
              if grid.value(r, layout.code_col.index) is not None} if layout.code_col else set())
    named: dict[str, list[str]] = {}           # province code -> where it is named
    for p in parts:
        where = [f"title '{t}'" for t in title if _names(t, p)][:1]
        where += [f"total row '{t}'" for t in labels if _names(t, p)][:1]
        if p.unit_code in codes:
            where.append(f"code {p.unit_code} in the code column")
        if where:
            named[p.unit_code] = where
    matchers = {p.unit_code: UnitMatcher(unit_kind, on, p.unit_code,
                                         units=reference.old_province_units(unit_kind, p.unit_code, on)) for p in parts}
    fits = {p.unit_code: _fitting_rows(grid, layout, matchers[p.unit_code]) for p in parts}
    by_code = {p.unit_code: p for p in parts}

    def listed(codes) -> str:
        return " or ".join(f"{by_code[c].name_vi} ({c}: {', '.join(named.get(c, [])) or 'not named'}; "
                           f"{fits[c]} rows are its units)" for c in codes)

    merged = reference.province_name(on=None)
    expected = (f"one old province's file: a title or total row naming {' or '.join(p.name_vi for p in parts)} "
                f"and the units of that province in {on:%Y-%m}" if on else "one old province's file")
    if len(named) > 1:
        return Problem(grid.file, f"the sheet names more than one of the old provinces of {merged}: "
                       f"{listed(sorted(named))}", sheet=grid.sheet, expected=expected)
    best = max(fits.values(), default=0)
    if named:
        (code, where), = named.items()
        if fits[code] < best:
            others = [c for c in fits if c != code and fits[c] == best]
            return Problem(grid.file, f"the sheet names {by_code[code].name_vi} ({', '.join(where)}) but lists "
                           f"the units of another old province: {listed([code, *others])}", sheet=grid.sheet,
                           expected=expected)
        return Decision(by_code[code], matchers[code], f"{by_code[code].name_vi} ({code}), named by its "
                        f"{', '.join(where)}; {fits[code]} rows are its units")
    fitting = [c for c, n in fits.items() if n]
    if len(fitting) == 1:
        code = fitting[0]
        return Decision(by_code[code], matchers[code], f"{by_code[code].name_vi} ({code}): no title or total row "
                        f"names a province; its {fits[code]} unit rows are this province's units only")
    return Problem(grid.file, f"the sheet could be the file of {listed(sorted(fitting) or sorted(fits))}: its title and total row "
                   f"name no old province of {merged}", sheet=grid.sheet, expected=expected)


def _fitting_rows(grid: Grid, layout: Layout, matcher: UnitMatcher) -> int:
    """Rows below the header whose code or name is one of the matcher's units."""
    n = 0
    for r in range(layout.first_data_row, grid.n_rows):
        code = grid.value(r, layout.code_col.index) if layout.code_col else None
        name = grid.value(r, layout.name_col.index) if layout.name_col else None
        if isinstance(code, str) and not code.strip():
            code = None
        unit = matcher.by_code(code) if code is not None else matcher.by_name(name) if name is not None else None
        n += unit is not None
    return n
