"""Match unit names and codes as departments write them to the reference units (p06.reference).

Tolerant of type prefixes and their abbreviations (catalog/common.yaml `name_prefixes`: "Thành phố/TP",
"Huyện/H.", "Xã/X.", "Phường/P.", ...), case, diacritics, tone placement, and a code written in the name cell
("14758 - Phường Hàm Rồng", "Phường Hàm Rồng (14758)"). Two units whose names differ only by type or
diacritics (Xã Đồng Tiến, Phường Đông Tiến) are told apart by the type, the diacritics or the code.
"""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta
from functools import cache

from p06 import catalog, reference
from p06.reference import ADMIN_KINDS, Unit
from p06.vntext import canonical_text, match_key

_CODE_FIRST = re.compile(r"^\s*([A-Za-z]*\d+[A-Za-z0-9-]*)\s*(?:[-–—:.)]\s*|\s+)(.+?)\s*$")
_CODE_LAST = re.compile(r"^\s*(.+?)\s*[(\[]\s*(?:mã\s*)?([A-Za-z]*\d+[A-Za-z0-9-]*)\s*[)\]]\s*$", re.IGNORECASE)


def code_key(code) -> str:
    """A unit code as text, however the cell held it: 380, 380.0, ' 380 ', 'cct01' -> '380', 'CCT01'."""
    if isinstance(code, float) and code.is_integer():
        code = int(code)
    return str(code).strip().upper()


def _exact_key(name) -> str:
    """Like match_key but keeping diacritics: 'Xã  Đồng Tiến' -> 'xã đồng tiến'."""
    return re.sub(r"[\W_]+", " ", canonical_text(name).casefold()).strip()


def _ascii(key: str) -> str:
    return match_key(key)


def _prefixes() -> list[tuple[str, str]]:
    """(variant, canonical) pairs, longest variant first."""
    pairs = [(v, canonical) for canonical, variants in catalog.common()["name_prefixes"].items() for v in variants]
    return sorted(pairs, key=lambda p: len(p[0]), reverse=True)


def _split(name, prefixes: list[tuple[str, str]]) -> tuple[str | None, str, str]:
    """(canonical prefix or None, base name in ascii, base name with diacritics) of a written name."""
    exact = _exact_key(name)
    ascii_key = _ascii(exact)
    for variant, canonical in prefixes:
        if ascii_key.startswith(variant + " "):
            words = len(variant.split())
            return canonical, " ".join(ascii_key.split()[words:]), " ".join(exact.split()[words:])
    return None, ascii_key, exact


class _Names:
    """Units by code and by the keys of their names: with their type prefix and without, with and without
    diacritics. A key may lead to several units (ambiguous)."""

    def __init__(self, units: list[Unit], prefixes: list[tuple[str, str]]):
        self.units, self.prefixes = units, prefixes
        self.by_code: dict[str, list[Unit]] = defaultdict(list)
        self.keys: dict[str, list[Unit]] = defaultdict(list)
        for unit in units:
            self.by_code[unit.unit_code.upper()].append(unit)
            for name in (unit.name_vi, *unit.aliases):
                prefix, base, exact = _split(name, prefixes)
                keys = [f"base {base}", f"=base {exact}"]
                if prefix:
                    keys += [f"{prefix} {base}", f"={prefix} {exact}"]
                for key in keys:
                    if unit not in self.keys[key]:
                        self.keys[key].append(unit)

    def candidates(self, name) -> list[Unit]:
        """The units a written name may mean: the first of these keys that leads to any unit: its type and
        exact spelling, its type and plain letters, then (no type written, or a word taken for a type as in
        "Quan Hóa") the whole name, exactly then in plain letters."""
        prefix, base, exact = _split(name, self.prefixes)
        tries = [f"={prefix} {exact}", f"{prefix} {base}"] if prefix else []
        whole = _exact_key(name)
        tries += [f"=base {whole}", f"base {_ascii(whole)}"]
        return next((self.keys[key] for key in tries if self.keys.get(key)), [])

    def lookup(self, text: str) -> list[Unit]:
        """Units a code, a name, or a code and name in one cell may mean."""
        found = self.by_code.get(code_key(text)) or self.candidates(text)
        if not found:
            for pattern, group in ((_CODE_FIRST, 1), (_CODE_LAST, 2)):
                m = pattern.match(text)
                if m and self.by_code.get(code_key(m.group(group))):
                    return self.by_code[code_key(m.group(group))]
        return list(found)


def _unit_of(kind: str) -> str:
    """'commune unit', 'tax unit' (not 'tax unit unit')."""
    label = kind.replace("_", " ")
    return label if label.endswith("unit") else f"{label} unit"


def _units_of(kind: str) -> str:
    return _unit_of(kind.replace(" ", "_")) + "s"


def _day(d: date) -> str:
    return f"{d:%d/%m/%Y}"


def _basis(links, own: str = "") -> str:
    """' (Nghị quyết 1104/NQ-UBTVQH15)': the resolutions a change rests on, else the list that shows it."""
    texts = sorted({k.basis for k in links if k.basis} | ({own} if own else set()))
    numbers = sorted({n.strip() for t in texts for n in re.findall(r"Nghị quyết (\d+/[\w/-]+)", t)})
    if numbers:
        return f" (Nghị quyết {', '.join(numbers)})"
    return f" ({texts[0]})" if texts else ""


def _plural(kind: str) -> str:
    return kind.replace("_", " ") + ("es" if kind.endswith("x") else "s")


class UnitMatcher:
    """Units of one kind valid on a day in a province (default: the configured one), found by code or by
    any spelling of their name; `explain` says why a name or code matches none."""

    def __init__(self, unit_kind: str, on: date | None = None, province: str | None = None,
                 units: list[Unit] | None = None):
        self.unit_kind = unit_kind
        self.on = on
        self.province = province or reference.province_code()
        if units is None:                      # UndeclaredUnitKind: where to declare
            units = reference.units(unit_kind, self.province, on)
        self.units = units
        self._prefixes = _prefixes()
        self._by_code = {u.unit_code.upper(): u for u in self.units}
        self._widths = sorted({len(c) for c in self._by_code if c.isdigit()})
        self._names = _Names(self.units, self._prefixes)
        self._all_times: _Names | None = None

    def by_code(self, code) -> Unit | None:
        if code is None:
            return None
        key = code_key(code)
        unit = self._by_code.get(key)
        if unit is None and key.isdigit():      # a number cell drops leading zeros: 4 -> 00004
            unit = next((self._by_code[key.zfill(w)] for w in self._widths if key.zfill(w) in self._by_code), None)
        return unit

    def _code_and_name(self, text: str) -> tuple[str, str] | None:
        """('14758', 'Phường Hàm Rồng') from '14758 - Phường Hàm Rồng' or 'Phường Hàm Rồng (14758)'."""
        for pattern, code_group, name_group in ((_CODE_FIRST, 1, 2), (_CODE_LAST, 2, 1)):
            m = pattern.match(text)
            if m and self.by_code(m.group(code_group)) is not None:
                return m.group(code_group), m.group(name_group)
        return None

    def by_name(self, name) -> Unit | None:
        """The unit a name means, or None (no such unit, several units, or a code in the cell that
        names another unit than the name)."""
        if name is None or not str(name).strip():
            return None
        found = self._names.candidates(name)
        if len(found) == 1:
            return found[0]
        split = self._code_and_name(str(name))
        if split:
            unit = self.by_code(split[0])
            named = self._names.candidates(split[1])
            return unit if not named or unit in named else None
        return None

    def describe(self, limit: int = 4) -> str:
        kind = self.unit_kind.replace("_", " ")
        when = f" in {self.on:%Y-%m}" if self.on else ""
        province = reference.province_name(self.province, self.on)
        if not self.units:
            ended = reference.kind_ended(self.unit_kind, self.province) if self.unit_kind in ADMIN_KINDS else None
            why = f"; {_plural(self.unit_kind)} were abolished on {_day(ended)}" if ended and self.on and ended <= self.on else ""
            return f"units of a kind that exists{when} (there are no {_units_of(kind)} of {province}{when}{why})"
        names = ", ".join(u.name_vi for u in self.units[:limit])
        return f"one of the {len(self.units)} {_units_of(kind)} of {province}{when} ({names}, ...)"

    # ------------------------------------------------------------------ why a name or code matches no unit

    def explain(self, name_or_code) -> str:
        """Why a name or code matches no unit of this matcher: it names a unit of another time (ended or
        not yet begun), of another kind, of another province, or several units; else no unit at all."""
        text = canonical_text(name_or_code)
        if not text:
            return f"no unit given: expected {self.describe()}"
        split = self._code_and_name(text)
        if split and self.by_name(split[1]) not in (None, self.by_code(split[0])):
            return (f"code {split[0]} is {self.by_code(split[0]).name_vi} but the name says '{split[1]}': "
                    "expected a code and a name of the same unit")
        ambiguous = self._names.candidates(text)
        if len(ambiguous) > 1:
            listed = " or ".join(f"{u.name_vi} ({u.unit_code})" for u in ambiguous[:4])
            return f"'{text}' could be {listed}: write the unit's type (Xã, Phường, ...) and name in full, or its code"
        found = self._elsewhere(text)
        if found:
            return found
        return f"'{text}' matches no unit: expected {self.describe()}"

    def _same_name_other_type(self, text: str) -> str | None:
        """'Xã Hàm Rồng' where the province has Phường Hàm Rồng: the name is right, the type written is not."""
        prefix, base, exact = _split(text, self._prefixes)
        if not prefix:
            return None
        units = self._names.keys.get(f"=base {exact}") or self._names.keys.get(f"base {base}") or []
        if not units or any(_split(u.name_vi, self._prefixes)[0] == prefix for u in units):
            return None
        listed = " or ".join(f"{u.name_vi} ({u.unit_code})" for u in units[:3])
        home = reference.province_name(self.province, self.on)
        return f"'{text}': {home} has no unit of that type and name, but has {listed}: write its type as it is, or its code"

    def _elsewhere(self, text: str) -> str | None:
        units = self._any_time().lookup(text)
        if units:
            return self._other_time_or_kind(units)
        other_type = self._same_name_other_type(text)
        if other_type:
            return other_type
        national = [u for u in _national().lookup(text) if u.province_code != self.province]
        if national:
            now = [u for u in national if u.valid_on(self.on)] or national
            unit = now[0]
            where = ", ".join(sorted({reference.province_name(u.province_code, self.on or u.valid_to) for u in now}))
            home = reference.province_name(self.province, self.on)
            return f"{unit.name_vi} ({unit.unit_code}) is a unit of {where}, not of {home}"
        return None

    def _any_time(self) -> _Names:
        """The province's administrative units (and units of this kind) of any time."""
        if self._all_times is None:
            units = [u for k in ADMIN_KINDS if k != "province" for u in reference.units(k, self.province)]
            units += [u for k in reference.declared_kinds(self.province) for u in reference.units(k, self.province)]
            self._all_times = _Names(units, self._prefixes)
        return self._all_times

    def _other_time_or_kind(self, units: list[Unit]) -> str:
        on = self.on
        same_kind = [u for u in units if u.unit_kind == self.unit_kind] or units
        unit = sorted(same_kind, key=lambda u: abs(((u.valid_to or u.valid_from or date.min) - (on or date.min)).days)
                      if on else 0)[0]
        month = f"; not a unit in {on:%Y-%m}" if on else ""
        if on and unit.valid_to and unit.valid_to < on:
            ended = unit.valid_to + timedelta(days=1)
            links = [k for k in reference.successors(unit) if k.effective_date == ended]
            why = _basis(links, unit.ended_by)
            became = [k for k in links if k.coverage == "whole" and k.new.unit_kind == unit.unit_kind]
            if became and became[0].change == "renamed":
                return f"{unit.name_vi}: renamed {became[0].new.name_vi} on {_day(ended)}{why}{month}"
            if became:
                return f"{unit.name_vi}: merged into {became[0].new.name_vi} on {_day(ended)}{why}{month}"
            later = ", ".join(sorted({k.new.name_vi for k in links})[:6])
            if links and all(k.change == "split" for k in links):
                return f"{unit.name_vi}: divided between {later} on {_day(ended)}{why}{month}"
            area = f"; its area is now in {later}" if later else ""
            if reference.kind_ended(unit.unit_kind, self.province) == ended:
                return f"{unit.name_vi}: {_plural(unit.unit_kind)} were abolished on {_day(ended)}{month}{area}"
            return f"{unit.name_vi}: no longer a unit after {_day(unit.valid_to)}{why}{month}{area}"
        if on and unit.valid_from and unit.valid_from > on:
            before = [k for k in reference.predecessors(unit) if k.effective_date == unit.valid_from and k.change]
            was = ", ".join(sorted({k.old.name_vi for k in before if k.old.valid_on(on)})[:6])
            earlier = f"; until then {was}" if was else ""
            return f"{unit.name_vi}: a unit only from {_day(unit.valid_from)}{_basis(before, unit.began_by)}{earlier}{month}"
        if unit.unit_kind == self.unit_kind and unit.valid_on(on):
            return f"{unit.name_vi} ({unit.unit_code}) is one of the units expected: {self.describe()}"
        return (f"{unit.name_vi} ({unit.unit_code}) is a {_unit_of(unit.unit_kind)}, but this delivery's "
                f"rows are expected to be {_units_of(self.unit_kind)}: {self.describe()}")


@cache
def _national() -> _Names:
    """Administrative units of the whole country below the province, built only to explain a miss."""
    return _Names([u for u in reference.all_units() if u.unit_kind != "province"], _prefixes())
