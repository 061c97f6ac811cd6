"""The dashboards' declarations (catalog/dashboard.yaml), as a typed model: a misspelt field is an error."""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from p06 import config
from p06.declared.base import Declared, validate_file

FILE = config.CATALOG_DIR / "dashboard.yaml"
Status = Literal["received", "late", "rejected", "missing", "withdrawn", "not_expected"]


class StatusLook(Declared):
    label: str
    """The status as the page names it."""
    color: str
    """Its colour (CSS)."""


class Flag(Declared):
    partial: str
    """Why a figure is partial (Jinja2: reporting, expected)."""
    warning: str
    """Why a figure has a warning (Jinja2: count, department, first)."""
    error: str
    """Why a figure has an error (Jinja2: count, department, first)."""


class DashboardTexts(Declared):
    """What the dashboards say and how they judge."""

    trend_months: int
    """Months shown by the trends, the unit panel and the delivery grid, the period's own included."""
    lower_is_better: tuple[str, ...] = ()
    """Indicator codes where a lower value is better."""
    group_notes: dict[int, str] = {}
    """Said under a utility group that has no province indicator."""
    flag: Flag
    """Why a figure is flagged, by quality."""
    flag_mark: dict[Literal["partial", "warning", "error"], str]
    """The short mark beside a flagged figure."""
    late_days_after_cutoff: int | None = None
    """A delivery is late when received more than this many days after its cut-off day; null: when received
    after the month's first publication."""
    delivery_status: dict[Status, StatusLook]
    """Label and colour of each delivery status."""
    finding_status: dict[Literal["open", "accepted", "resolved"], str]
    """A finding's status as the page names it."""
    severity: dict[Literal["error", "warning"], str]
    """A finding's severity as the page names it."""
    levels: dict[str, str]
    """Unit levels as the pages name them."""
    unit_break: str
    """The note of a break in the units between two months (Jinja2: month, before, after)."""
    unit_break_mark: str
    """The short label of that break on the charts."""


@cache
def texts(path: Path = FILE) -> DashboardTexts:
    return validate_file(DashboardTexts, path)
