"""Declared data the code reads: sources and their measures, shared reader settings, reference units.

Adding a header alias, a measure or a source is an edit to `catalog/`, not to Python. Every file is
validated by the models of `p06/declared/` when read; a mistake fails naming the file and the field.
"""
from __future__ import annotations

import csv
import hashlib
from datetime import date
from functools import cache
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from p06 import config
from p06.declared.base import describe, shown, validate_file
from p06.declared.common import Common
from p06.declared.sources import Measure, MeasureKind, Nature, Scope, Source, UnitKindPeriod, header_path
from p06.declared.units import Unit

__all__ = ["Common", "Measure", "MeasureKind", "Nature", "Scope", "Source", "Unit", "UnitKindPeriod", "common",
           "expected_units", "header_path", "reference_sha", "sources", "units"]

MEASURE_KINDS = set(MeasureKind.__args__)
NATURES = {*Nature.__args__, None}
UNIT_NOTE_COLUMNS = {"note"}          # units.csv columns for people, not read


def _source_from(path: Path) -> Source:
    return validate_file(Source, path, extra={"declaration_sha": hashlib.sha256(path.read_bytes()).hexdigest()})


@cache
def sources(catalog_dir: Path = config.CATALOG_DIR) -> dict[str, Source]:
    """Every declared source, by id, in file-name order."""
    found: dict[str, Source] = {}
    for path in sorted((catalog_dir / "sources").glob("*.yaml")):
        src = _source_from(path)
        if src.id in found:
            raise ValueError(f"{shown(path)}: source: {src.id} is declared by another file too")
        found[src.id] = src
    return found


@cache
def common(catalog_dir: Path = config.CATALOG_DIR) -> dict:
    """catalog/common.yaml, validated, as a plain dict (keys absent from the file stay absent)."""
    return validate_file(Common, catalog_dir / "common.yaml").model_dump(exclude_unset=True)


@cache
def units(catalog_dir: Path = config.CATALOG_DIR) -> tuple[Unit, ...]:
    path = catalog_dir / "units.csv"
    adapter = TypeAdapter(Unit)
    found = []
    with open(path, encoding="utf-8", newline="") as fh:
        for number, row in enumerate(csv.DictReader(fh), start=2):
            fields = {k: v for k, v in row.items() if k not in UNIT_NOTE_COLUMNS}
            try:
                found.append(adapter.validate_python(fields))
            except ValidationError as exc:
                raise describe(exc, f"{shown(path)}: row {number} ({row.get('unit_code')})", fields) from None
    return tuple(found)


def expected_units(unit_kind: str, on: date | None) -> list[Unit]:
    """Units a delivery of this kind should list on a day (all valid ones)."""
    return [u for u in units() if u.unit_kind == unit_kind and u.valid_on(on)]


def reference_sha(catalog_dir: Path = config.CATALOG_DIR) -> str:
    """Fingerprint of the shared declarations: a change makes unchanged files be read again."""
    h = hashlib.sha256()
    for name in ("common.yaml", "units.csv"):
        h.update((catalog_dir / name).read_bytes())
    return h.hexdigest()
