"""Which provinces the nation expects, from the reference (catalog/reference: admin_units.csv, unit_crosswalk.csv).

A copy comes from a province of today's list (the 34 since 1 July 2025): a province whose unit has ended (Hà Nam,
35, until 30/06/2025) sends nothing of its own any more; its months before the merger are in the copy of the
province it became (Ninh Bình, 37), whose warehouse loads its old provinces' deliveries.

The provinces expected for a month are today's provinces that cover the provinces in force on the month's last
day: for a month since July 2025 the 34 themselves; for a month before, the 63 of that day followed through the
crosswalk to the province each became, i.e. the same 34, each merged one standing for its old provinces. A later
change of the list (a new merger) is followed the same way, so every month is expected from the copies a
province of today sends.
"""
from __future__ import annotations

from datetime import timedelta
from functools import cache

from p06 import periods, reference
from p06.reference import Unit


class RefusedProvince(ValueError):
    """A copy's province is not one of today's provinces."""


@cache
def _provinces() -> tuple[Unit, ...]:
    """Every province of the reference, before and after 1 July 2025 (read once per process)."""
    return tuple(reference.all_units("province"))


def current() -> dict[str, Unit]:
    """Today's provinces (those still in force), by code."""
    return {u.unit_code: u for u in _provinces() if u.valid_to is None}


def _today_of(unit: Unit, now: dict[str, Unit], seen: frozenset = frozenset()) -> set[str]:
    """Codes of today's provinces that took the unit's area (itself when still in force)."""
    if unit.valid_to is None:
        return {unit.unit_code}
    found: set[str] = set()
    for link in reference.successors(unit):
        if link.new.unit_kind == "province" and link.new.key not in seen:
            found |= _today_of(link.new, now, seen | {unit.key})
    return found


def expected(period: str) -> list[Unit]:
    """Today's provinces expected to report the month (see the module's docstring), by code."""
    return list(_expected(period))


@cache
def _expected(period: str) -> tuple[Unit, ...]:
    now = current()
    day = periods.period_end(period)
    codes: set[str] = set()
    for unit in _provinces():
        if unit.valid_on(day):
            codes |= _today_of(unit, now)
    return tuple(now[c] for c in sorted(codes) if c in now)


def check(code: str | None, path: str) -> Unit:
    """Today's province of a copy's code; RefusedProvince naming the file when there is none."""
    if code is None:
        raise RefusedProvince(f"{path}: the copy does not say which province it was made for (ref.meta has no "
                              "'province'): it is not a province's published copy, or one made before provinces "
                              "were recorded; run `p06 run` on it again and send the new copy")
    now = current()
    if code in now:
        return now[code]
    ended = [u for u in _provinces() if u.unit_code == code]
    if not ended:
        raise RefusedProvince(f"{path}: province code {code} is not in the reference "
                              "(catalog/reference/admin_units.csv)")
    unit = ended[-1]
    became = sorted(_today_of(unit, now))
    into = ", ".join(f"{now[c].name_vi} ({c})" for c in became) or "no province of today's list"
    since = unit.valid_to + timedelta(days=1)
    raise RefusedProvince(f"{path}: the copy was made for {unit.name_vi} ({code}), a province that ended on "
                          f"{unit.valid_to:%d/%m/%Y}; since {since:%d/%m/%Y} it is part of {into}, whose copy "
                          "carries its figures (also for the months before the merger)")


def old_provinces(code: str) -> set[str]:
    """Codes of the provinces that ended into today's province `code` (35 and 36 for 37), its own excluded."""
    now = current()
    return {u.unit_code for u in _provinces()
            if u.valid_to is not None and u.unit_code != code and _today_of(u, now) == {code}}


def name(code: str, period: str | None = None) -> str:
    """A province's name: today's (the months before a merger are those of the province it became)."""
    unit = current().get(code)
    return unit.name_vi if unit else reference.province_name(code, periods.period_end(period) if period else None)
