"""The cut-off ("as of") date of a delivery, read from the text of its sheets with the wordings
declared in catalog/common.yaml."""
from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from p06 import catalog
from p06.ingest.problems import Problem
from p06.ingest.workbook import Grid, cell_ref, column_letter
from p06.periods import period_end
from p06.vntext import match_key

_FIELDS = {"d": r"(?P<d>\d{1,2})", "m": r"(?P<m>\d{1,2})", "y": r"(?P<y>\d{4}|\d{2})"}   # '15/09/23': 2023


@lru_cache(maxsize=4)
def _patterns(wordings: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    patterns = []
    for wording in wordings:
        regex = re.escape(str(wording).strip())
        for name, group in _FIELDS.items():
            if regex.count(re.escape(f"{{{name}}}")) != 1:
                raise ValueError(f"common.yaml: as_of_wordings: {wording!r} needs {{d}}, {{m}} and {{y}} once each")
            regex = regex.replace(re.escape(f"{{{name}}}"), group)
        patterns.append(re.compile(rf"\b{regex}\b"))
    return tuple(patterns)


def read_as_of(text: Any) -> date | None:
    """The cut-off date in a title such as '(Số liệu tính đến ngày 15/9/2023)'."""
    if not isinstance(text, str):
        return None
    key = match_key(text)
    for pattern in _patterns(tuple(catalog.common()["as_of_wordings"])):
        for m in pattern.finditer(key):
            year = int(m["y"]) + (2000 if len(m["y"]) == 2 else 0)
            try:
                return date(year, int(m["m"]), int(m["d"]))
            except ValueError:
                continue
    return None


def _lead_in(text: Any) -> bool:
    """A text that introduces a date given in the next cell: 'Số liệu tính đến ngày:', 'Tính đến'."""
    if not isinstance(text, str):
        return False
    key = match_key(text)
    return any(key.endswith(w) for w in ("den ngay", "den het ngay", "tinh den", "tinh den het", "ngay chot so lieu",
                                          "thoi diem bao cao", "so lieu tinh den ngay"))


def find_as_of(grid: Grid, rows: range, max_col: int | None = None) -> tuple[date, int, int] | None:
    """The first cut-off date written in the given rows, with its cell (0-based row, column)."""
    for r in rows:
        cells = grid.rows[r][:max_col]
        for c, value in enumerate(cells):
            found = read_as_of(value)
            if found:
                return found, r, c
            # a date after its lead-in text, in a cell of its own: 'Số liệu tính đến ngày:' | 15/09/2023
            before = next((v for v in reversed(cells[:c]) if v is not None and str(v).strip()), None)
            if value is not None and _lead_in(before):
                if isinstance(value, (date, datetime)):
                    return (value.date() if isinstance(value, datetime) else value), r, c
                found = read_as_of(f"{before} {value}") if isinstance(value, str) else None
                if found:
                    return found, r, c
    return None


def default_as_of(period: str | None) -> date | None:
    """The day a delivery of `period` (YYYY-MM) that states no cut-off date is taken to be as of (for
    which units it must list): the month's last day, as the published completeness table takes it."""
    return period_end(period) if period else None


def date_problems(file: str, dates: dict[str, tuple[date, int, int]], period: str | None) -> list[Problem]:
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
