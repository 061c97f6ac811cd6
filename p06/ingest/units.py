"""Match unit names and codes as departments write them to the reference units in catalog/units.csv.

Tolerant of "Thành phố/TP/TP.", "Huyện/H.", "Thị xã/TX/TX.", case, diacritics and tone placement.
"""
from __future__ import annotations

from datetime import date

from p06 import catalog
from p06.catalog import Unit
from p06.vntext import match_key


def code_key(code) -> str:
    """A unit code as text, however the cell held it: 380, 380.0, ' 380 ', 'cct01' -> '380', 'CCT01'."""
    if isinstance(code, float) and code.is_integer():
        code = int(code)
    return str(code).strip().upper()


def _canonical_prefix(key: str, prefixes: dict[str, list[str]]) -> tuple[str | None, str]:
    """Split a normalised name into (canonical prefix, base name): 'tp thanh hoa' -> ('thanh pho', 'thanh hoa')."""
    for canonical, variants in prefixes.items():
        for variant in sorted(variants, key=len, reverse=True):
            if key.startswith(variant + " "):
                return canonical, key[len(variant) + 1:]
    return None, key


class UnitMatcher:
    """Units of one kind valid on a day, found by code or by any spelling of their name."""

    def __init__(self, unit_kind: str, on: date | None = None):
        self.unit_kind = unit_kind
        self.units = catalog.expected_units(unit_kind, on)
        self._prefixes = catalog.common()["name_prefixes"]
        self._by_code = {u.unit_code.upper(): u for u in self.units}
        self._by_name: dict[str, Unit | None] = {}
        for unit in self.units:
            for name in (unit.name_vi, *unit.aliases):
                prefix, base = _canonical_prefix(match_key(name), self._prefixes)
                self._add(f"{prefix} {base}" if prefix else base, unit)
                self._add(base, unit)

    def _add(self, key: str, unit: Unit) -> None:
        seen = self._by_name.get(key, unit)
        # A key two units share (e.g. a bare base name) is ambiguous: it matches neither.
        self._by_name[key] = unit if seen is unit else None

    def by_code(self, code) -> Unit | None:
        return None if code is None else self._by_code.get(code_key(code))

    def by_name(self, name) -> Unit | None:
        if name is None:
            return None
        prefix, base = _canonical_prefix(match_key(name), self._prefixes)
        if prefix and f"{prefix} {base}" in self._by_name:
            return self._by_name[f"{prefix} {base}"]
        return self._by_name.get(base)

    def describe(self, limit: int = 4) -> str:
        names = ", ".join(u.name_vi for u in self.units[:limit])
        return f"one of the {len(self.units)} {self.unit_kind.replace('_', ' ')} units of catalog/units.csv ({names}, ...)"
