"""Declared data the code reads: sources and their measures, shared reader settings, reference units.

Adding a header alias, a measure or a source is an edit to `catalog/`, not to Python.
"""
from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import yaml

from p06 import config

MEASURE_KINDS = {"count", "ratio", "text"}
NATURES = {"stock", "flow", "level", "target", None}


@dataclass(frozen=True)
class Measure:
    id: str
    label_vi: str
    label_en: str
    kind: str                                   # count | ratio | text
    headers: tuple[tuple[str, ...], ...]        # each alias is a header path: (group, leaf) or (leaf,)
    nature: str | None = None                   # stock (cumulative, must not fall) | flow | level | target
    required: bool = False
    ratio_of: tuple[str, str] | None = None     # (numerator, denominator) of a stated ratio


@dataclass(frozen=True)
class Source:
    id: str
    department_vi: str
    department_en: str
    unit_kind: str
    measures: tuple[Measure, ...]
    declaration_sha: str

    def measure(self, measure_id: str) -> Measure:
        return next(m for m in self.measures if m.id == measure_id)


@dataclass(frozen=True)
class Unit:
    unit_kind: str
    unit_code: str
    name_vi: str
    name_en: str
    parent_code: str
    group_vi: str
    valid_from: date
    valid_to: date | None
    aliases: tuple[str, ...] = field(default=())

    def valid_on(self, day: date | None) -> bool:
        if day is None:
            return True
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


def _read_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _header_path(alias: str) -> tuple[str, ...]:
    """'Group > Leaf' names a leaf under a merged group header; a plain text names a single header."""
    return tuple(part.strip() for part in str(alias).split(" > "))


SOURCE_FIELDS = {"source", "department_vi", "department_en", "unit_kind", "measures"}
MEASURE_FIELDS = {"id", "label_vi", "label_en", "kind", "nature", "required", "ratio_of", "headers"}


def _unknown_fields(where: str, entry: dict, allowed: set[str]) -> None:
    """A misspelt field would silently change what is read: refuse it."""
    unknown = set(entry) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(allowed)}")


def _source_from(path: Path) -> Source:
    doc = _read_yaml(path)
    _unknown_fields(path.name, doc, SOURCE_FIELDS)
    measures = []
    for m in doc["measures"]:
        _unknown_fields(f"{path.name}: measure {m.get('id')}", m, MEASURE_FIELDS)
        if m["kind"] not in MEASURE_KINDS:
            raise ValueError(f"{path.name}: measure {m['id']}: kind must be one of {sorted(MEASURE_KINDS)}")
        if m.get("nature") not in NATURES:
            raise ValueError(f"{path.name}: measure {m['id']}: nature must be one of {sorted(n for n in NATURES if n)}")
        measures.append(Measure(
            id=m["id"], label_vi=m["label_vi"], label_en=m["label_en"], kind=m["kind"],
            headers=tuple(_header_path(alias) for alias in m["headers"]),
            nature=m.get("nature"), required=bool(m.get("required", False)),
            ratio_of=tuple(m["ratio_of"]) if m.get("ratio_of") else None,
        ))
    ids = {m.id for m in measures}
    for m in measures:
        if m.ratio_of and not set(m.ratio_of) <= ids:
            raise ValueError(f"{path.name}: ratio {m.id} refers to undeclared measures {m.ratio_of}")
    return Source(
        id=doc["source"], department_vi=doc["department_vi"], department_en=doc["department_en"],
        unit_kind=doc["unit_kind"], measures=tuple(measures),
        declaration_sha=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


@cache
def sources(catalog_dir: Path = config.CATALOG_DIR) -> dict[str, Source]:
    """Every declared source, by id, in file-name order."""
    found = {}
    for path in sorted((catalog_dir / "sources").glob("*.yaml")):
        src = _source_from(path)
        found[src.id] = src
    return found


@cache
def common(catalog_dir: Path = config.CATALOG_DIR) -> dict:
    return _read_yaml(catalog_dir / "common.yaml")


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


@cache
def units(catalog_dir: Path = config.CATALOG_DIR) -> tuple[Unit, ...]:
    with open(catalog_dir / "units.csv", encoding="utf-8", newline="") as fh:
        return tuple(
            Unit(
                unit_kind=r["unit_kind"], unit_code=r["unit_code"], name_vi=r["name_vi"],
                name_en=r["name_en"], parent_code=r["parent_code"], group_vi=r["group_vi"],
                valid_from=_date(r["valid_from"]) or date.min, valid_to=_date(r["valid_to"]),
                aliases=tuple(a for a in r["aliases"].split("|") if a),
            )
            for r in csv.DictReader(fh)
        )


def expected_units(unit_kind: str, on: date | None) -> list[Unit]:
    """Units a delivery of this kind should list on a day (all valid ones)."""
    return [u for u in units() if u.unit_kind == unit_kind and u.valid_on(on)]


def reference_sha(catalog_dir: Path = config.CATALOG_DIR) -> str:
    """Fingerprint of the shared declarations: a change makes unchanged files be read again."""
    h = hashlib.sha256()
    for name in ("common.yaml", "units.csv"):
        h.update((catalog_dir / name).read_bytes())
    return h.hexdigest()
