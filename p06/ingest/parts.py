"""A delivery is a set of files: which file supplies which part of a source-month.

A table (sheet) of a file supplies its measures for its units (the unit rows; the total row when the table
has none). Files that cover different units or tables are parts of one delivery, all in use. A file that
covers units of a table that an earlier file covered is a re-send of those: it supersedes them only, per
table and unit. Two tables are "the same table" when they share a measure; an older table whose units
are all re-sent is superseded whole; one whose units are re-sent in part keeps its other units, and its
own total and subtotal rows leave use (they summed figures no longer in force).

A part's total row covers only its own units: when several parts (file and sheet) supply the unit rows of
a measure, each part's total row is kept as a claim of that part, a stated subtotal whose code names
its file and sheet (`staging.part_total_code`), reconciled against that part's units only and never
taken for the province's total; a part's regional subtotal row likewise names its part
(`staging.part_subtotal_code`). An old province's file of a merged province (its rows carry `old_province`)
keeps its total row as that old province's, reconciled against that old province's units.

Files are ordered by when the warehouse first saw them (then modification time). Two files first seen at
the same time that claim the same units of the same table cannot be ordered: both are refused, named.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from p06 import staging
from p06.ingest.problems import Problem
from p06.ingest.reader import FileRead

AGGREGATE_KINDS = ("province", "subtotal")      # a file's own total and subtotal rows
Unit = tuple[str, str, str | None]              # (unit_kind, unit_code, old_province: a merged province's file)


@dataclass
class Part:
    """What one table (sheet) of a file supplies, and what later files took from it."""
    file: str
    sheet: str
    measures: frozenset[str]
    units: set[Unit]
    superseded: set[Unit] = field(default_factory=set)
    superseded_by: set[str] = field(default_factory=set)

    @property
    def in_use(self) -> set[Unit]:
        return self.units - self.superseded

    def describe(self) -> str:
        text = f"'{self.sheet}' {len(self.in_use)} unit(s)"
        if self.superseded:
            text += f" ({len(self.superseded)} re-sent in {', '.join(sorted(self.superseded_by))})"
        return text


def _table_units(read: FileRead, sheet: str) -> set[Unit]:
    obs = [o for o in read.observations if o["sheet"] == sheet]
    units = {_unit(o) for o in obs if o["unit_kind"] not in AGGREGATE_KINDS}
    return units or {_unit(o) for o in obs if o["unit_kind"] == "province"}


def _unit(o: dict) -> Unit:
    """A row's unit: its kind and code, and the old province whose file it is (before a merger each old
    province's file lists the same public services: they are not re-sends of each other)."""
    return o["unit_kind"], o["unit_code"], o.get("old_province")


def assemble(reads: list[FileRead], seen: list[datetime] | None = None) -> tuple[list[FileRead], list[FileRead],
                                                                                list[Part], list[Problem]]:
    """Reads of a source-month's files, newest first (`seen`: when each was first seen, same order), made into
    one delivery: (reads in use, cut to what they supply; reads wholly superseded; parts; conflicts)."""
    seen = seen or [None] * len(reads)
    claims: list[tuple[int, frozenset[str], set[Unit]]] = []     # tables of newer files: (file index, measures, units)
    parts: list[Part] = []
    conflicts: list[Problem] = []
    active, superseded = [], []
    for i, read in enumerate(reads):
        if not read.tables:
            # unreadable or no table: it cannot say what it covers; a newer file with tables replaces it
            (superseded if claims else active).append(read)
            continue
        mine = []
        for table in read.tables:
            part = Part(read.file, table.sheet, table.measures, _table_units(read, table.sheet))
            for j, measures, units in claims:
                overlap = part.units & units if measures & table.measures else set()
                if not overlap:
                    continue
                if seen[j] is not None and seen[j] == seen[i]:
                    conflicts.append(_conflict(reads[j].file, read.file, table.sheet, overlap))
                part.superseded |= overlap
                part.superseded_by.add(reads[j].file)
            mine.append(part)
        claims += [(i, p.measures, set(p.units)) for p in mine]
        kept = [p for p in mine if p.in_use]
        if not kept:
            superseded.append(read)
            continue
        _cut(read, mine)
        parts += kept
        active.append(read)
    _mark_part_totals(active, parts)
    return active, superseded, parts, conflicts


def _conflict(newer: str, older: str, sheet: str, units: set[Unit]) -> Problem:
    named = ", ".join(sorted(code for _, code, _ in units)[:5]) + (" ..." if len(units) > 5 else "")
    return Problem(f"{newer}, {older}", f"both files claim the same units of one table ({len(units)} unit(s): {named}; "
                   f"sheet '{sheet}' of {older}) and were first seen at the same time: which is the re-send cannot be told",
                   sheet=sheet, expected="one of them removed, or the re-send filed after the other was loaded")


def _cut(read: FileRead, parts: list[Part]) -> None:
    """Keep only what the file still supplies: drop superseded tables whole; of a table re-sent in part, the
    re-sent units' rows and its own total and subtotal rows (with the problems of the rows dropped)."""
    gone = {p.sheet for p in parts if not p.in_use}
    partial = {p.sheet: p.superseded for p in parts if p.in_use and p.superseded}

    def dropped(o: dict) -> bool:
        if o["sheet"] in gone:
            return True
        units = partial.get(o["sheet"])
        return bool(units) and (_unit(o) in units or o["unit_kind"] in AGGREGATE_KINDS)

    rows = {(o["sheet"], o.get("row")) for o in read.observations if dropped(o)}
    read.observations = [o for o in read.observations if not dropped(o)]
    read.problems = [p for p in read.problems if p.sheet not in gone and (p.sheet, p.row) not in rows]
    read.tables = [t for t in read.tables if t.sheet not in gone]
    read.readings = [r for r in read.readings if r.sheet not in gone]


def _mark_part_totals(active: list[FileRead], parts: list[Part]) -> None:
    """A total row of a part covers only the part's units: when several parts supply unit rows of a measure,
    each part's total row of it becomes a stated subtotal named after its file and sheet."""
    suppliers: dict[str, set[tuple[str, str]]] = {}
    for read in active:
        for o in read.observations:
            if o["unit_kind"] not in AGGREGATE_KINDS:
                suppliers.setdefault(o["measure"], set()).add((read.file, o["sheet"]))
    for read in active:
        for o in read.observations:
            if len(suppliers.get(o["measure"], ())) < 2:
                continue
            if o["unit_kind"] == "province" and not o.get("old_province"):
                o.update(unit_kind="subtotal", unit_code=staging.part_total_code(read.file, o["sheet"]),
                         group_label=None)
            elif o["unit_kind"] == "subtotal":         # a regional subtotal: of this part's units of its block
                o.update(unit_code=staging.part_subtotal_code(o["unit_code"], read.file, o["sheet"]))


def describe(parts: list[Part], file: str) -> str | None:
    """What a file supplies, for its record and the run's line: "'Phụ lục III' 10 unit(s); ..."."""
    mine = [p.describe() for p in parts if p.file == file]
    return "; ".join(mine) or None
