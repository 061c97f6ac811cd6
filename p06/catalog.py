"""Declared data the code reads: sources and their measures, shared reader settings (units: p06/reference.py).

Adding a header alias, a measure or a source is an edit to `catalog/`, not to Python. Every file is
validated by the models of `p06/declared/` when read; a mistake fails naming the file and the field.
"""
from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from p06 import config
from p06.declared.base import shown, validate_file
from p06.declared.common import Common
from p06.declared.sources import Measure, MeasureKind, Nature, Scope, Source, UnitKindPeriod, header_path

__all__ = ["Common", "Measure", "MeasureKind", "Nature", "Scope", "Source", "UnitKindPeriod", "common",
           "header_path", "reference_sha", "sources"]

MEASURE_KINDS = set(MeasureKind.__args__)
NATURES = {*Nature.__args__, None}


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


def reference_sha(catalog_dir: Path = config.CATALOG_DIR) -> str:
    """Fingerprint of the shared declarations: a change makes unchanged files be read again."""
    h = hashlib.sha256()
    h.update((catalog_dir / "common.yaml").read_bytes())
    return h.hexdigest()
