"""Report months ('YYYY-MM'): the month before, and the last day (the cut-off assumed when a delivery states none)."""
from __future__ import annotations

import calendar
from datetime import date


def previous_period(period: str) -> str:
    """'2023-09' -> '2023-08'; '2024-01' -> '2023-12'."""
    year, month = int(period[:4]), int(period[5:7])
    year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return f"{year:04d}-{month:02d}"


def period_end(period: str) -> date:
    """The month's last day."""
    year, month = int(period[:4]), int(period[5:7])
    return date(year, month, calendar.monthrange(year, month)[1])


def next_period(period: str) -> str:
    """'2023-12' -> '2024-01'."""
    year, month = int(period[:4]), int(period[5:7])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}"


def shift(period: str, months: int) -> str:
    """'2023-09' shifted by -11 -> '2022-10'."""
    index = int(period[:4]) * 12 + int(period[5:7]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"
