"""Reporting periods longer than a month, by label: quarter '2023-Q3', half-year '2023-H1', nine months
'2023-9M', year '2023' (and the month '2023-09' itself).

A period is its months; the previous period is the one of the same kind just before it (2023-Q3 -> 2023-Q2,
2023-H1 -> 2022-H2, 2023-9M -> 2022-9M: nine months come once a year), and the same period a year earlier.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("month", "quarter", "half_year", "nine_months", "year")
_LABEL = re.compile(r"(?P<year>\d{4})(?:-(?:(?P<month>0[1-9]|1[0-2])|Q(?P<quarter>[1-4])|H(?P<half>[12])|(?P<nine>9M)))?")


class PeriodLabelError(ValueError):
    """A label that names no period."""


@dataclass(frozen=True)
class ReportPeriod:
    label: str          # '2023-Q3'
    kind: str           # one of KINDS
    year: int
    index: int          # month, quarter or half number; 1 for nine months and a year
    first: int          # first month number
    last: int           # last month number

    @property
    def months(self) -> list[str]:
        return [f"{self.year:04d}-{m:02d}" for m in range(self.first, self.last + 1)]

    @property
    def first_month(self) -> str:
        return self.months[0]

    @property
    def last_month(self) -> str:
        return self.months[-1]

    def previous(self) -> "ReportPeriod":
        """The period of the same kind just before."""
        if self.kind in ("nine_months", "year"):
            return self.year_earlier()
        per_year = {"month": 12, "quarter": 4, "half_year": 2}[self.kind]
        year, index = (self.year - 1, per_year) if self.index == 1 else (self.year, self.index - 1)
        return _make(self.kind, year, index)

    def year_earlier(self) -> "ReportPeriod":
        return _make(self.kind, self.year - 1, self.index)


def _make(kind: str, year: int, index: int) -> ReportPeriod:
    if kind == "month":
        return ReportPeriod(f"{year:04d}-{index:02d}", kind, year, index, index, index)
    if kind == "quarter":
        return ReportPeriod(f"{year:04d}-Q{index}", kind, year, index, 3 * index - 2, 3 * index)
    if kind == "half_year":
        return ReportPeriod(f"{year:04d}-H{index}", kind, year, index, 6 * index - 5, 6 * index)
    if kind == "nine_months":
        return ReportPeriod(f"{year:04d}-9M", kind, year, 1, 1, 9)
    return ReportPeriod(f"{year:04d}", "year", year, 1, 1, 12)


def parse(label: str) -> ReportPeriod:
    """'2023-09', '2023-Q3', '2023-H1', '2023-9M' or '2023'."""
    m = _LABEL.fullmatch(label.strip())
    if not m:
        raise PeriodLabelError(f"a period is a month 2023-09, a quarter 2023-Q3, a half-year 2023-H1, "
                               f"nine months 2023-9M or a year 2023; found {label!r}")
    year = int(m["year"])
    if m["month"]:
        return _make("month", year, int(m["month"]))
    if m["quarter"]:
        return _make("quarter", year, int(m["quarter"]))
    if m["half"]:
        return _make("half_year", year, int(m["half"]))
    if m["nine"]:
        return _make("nine_months", year, 1)
    return _make("year", year, 1)


def containing(month: str) -> list[ReportPeriod]:
    """The longer periods a month belongs to: its quarter, half-year, nine months (months 1-9) and year."""
    year, number = int(month[:4]), int(month[5:7])
    found = [_make("quarter", year, (number - 1) // 3 + 1), _make("half_year", year, 1 if number <= 6 else 2)]
    if number <= 9:
        found.append(_make("nine_months", year, 1))
    return found + [_make("year", year, 1)]
