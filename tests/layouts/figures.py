"""Known figures of every source: the unit rows of the September 2023 sample deliveries, read once.

A `KnownTable` is one table of a source (one sheet of its sample): its units in sample order, the
figures of each unit (counts and texts as the sample holds them; ratios computed from their parts when
rendered), and the group label above each unit where the sample has one (services under a department).
Province totals are computed here, never taken from the sample's total row.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

from p06 import catalog, config
from p06.catalog import Measure, Source
from p06.ingest.reader import read_file

PERIOD = "2023-09"
SAMPLE_RAW = next(p for p in (config.REPO_DIR / "raw", Path("/work/shared/samples/raw")) if (p / PERIOD).is_dir())


@dataclass(frozen=True)
class KnownUnit:
    code: str
    name: str                      # the reference name, as the reader returns it
    group: str | None = None       # group label row above it in the sample (a department above its services)


@dataclass(frozen=True)
class KnownTable:
    source_id: str
    sheet: str
    unit_kind: str
    measures: tuple[str, ...]                         # in the sample's column order
    units: tuple[KnownUnit, ...]
    values: dict[tuple[str, str], float | str | None]  # (unit code, measure) -> count, text or None (blank)

    @property
    def source(self) -> Source:
        return catalog.sources()[self.source_id]

    def measure(self, measure_id: str) -> Measure:
        return self.source.measure(measure_id)

    @property
    def label(self) -> str:
        return f"{self.source_id}/{self.sheet}"


def ratio_percent(num: float | None, den: float | None, decimals: int) -> Decimal | None:
    """num/den in percent points, rounded half up to `decimals` (what a department's sheet shows)."""
    if num is None or not den:
        return None
    q = Decimal(1).scaleb(-decimals)
    return (Decimal(repr(float(num))) * 100 / Decimal(repr(float(den)))).quantize(q, rounding=ROUND_HALF_UP)


def unit_total(values: dict, codes, measure_id: str) -> float | None:
    """The sum of the units' figures of a count (blank figures count as nothing; all blank -> None)."""
    present = [values[(c, measure_id)] for c in codes if values.get((c, measure_id)) is not None]
    return float(sum(present)) if present else None


@cache
def known_tables() -> tuple[KnownTable, ...]:
    """Every table of every source's 2023-09 sample, as unit figures."""
    tables = []
    sources = catalog.sources()
    for source_id, source in sources.items():
        for path in sorted((SAMPLE_RAW / PERIOD / source_id).iterdir()):
            read = read_file(path, source, PERIOD)
            assert not read.problems, f"sample {path} no longer reads cleanly: {read.problems[:3]}"
            sheets: dict[str, list[dict]] = {}
            for o in read.observations:
                sheets.setdefault(o["sheet"], []).append(o)
            for sheet, rows in sheets.items():
                unit_kind = source.unit_kind_in(PERIOD)
                unit_rows = [o for o in rows if o["unit_kind"] == unit_kind]
                by_cell_order = sorted(unit_rows, key=lambda o: o["row"])
                measures: list[str] = []
                for o in sorted(unit_rows, key=lambda o: (o["row"], _column_index(o["cell"]))):
                    if o["measure"] not in measures:
                        measures.append(o["measure"])
                units: dict[str, KnownUnit] = {}
                values: dict[tuple[str, str], float | str | None] = {}
                for o in by_cell_order:
                    units.setdefault(o["unit_code"], KnownUnit(o["unit_code"], o["unit_name"], o["group_label"]))
                    m = source.measure(o["measure"])
                    if m.kind == "count":
                        values[(o["unit_code"], m.id)] = o["value"]
                    elif m.kind == "text":
                        values[(o["unit_code"], m.id)] = o["value_text"]
                tables.append(KnownTable(source_id, sheet, unit_kind, tuple(measures),
                                         tuple(units.values()), values))
    return tuple(tables)


def _column_index(cell: str) -> int:
    letters = "".join(ch for ch in cell if ch.isalpha())
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch.upper()) - 64
    return n


def largest_count(table: KnownTable) -> int | None:
    """Index (among the table's counts) of the count with the most figures of four digits or more (they
    show a thousands separator), or None when no count has at least two."""
    counts = [m for m in table.measures if table.measure(m).kind == "count"]
    big = [sum(1 for (_, mm), v in table.values.items() if mm == m and v is not None and v >= 1000) for m in counts]
    return big.index(max(big)) if max(big) >= 2 else None
