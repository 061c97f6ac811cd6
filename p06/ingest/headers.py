"""Find a sheet's header and which column holds which declared measure.

Headers may be one or two rows, with merged group cells above their leaves; a leaf is
identified by group + leaf text. Matching ignores case, spacing, Unicode form, diacritics
and tone placement (all through `match_key`), column order, and blank or note columns.
"""
from __future__ import annotations

from dataclasses import dataclass

from p06 import catalog
from p06.catalog import Measure, Source
from p06.ingest.workbook import Grid
from p06.vntext import canonical_text, match_key

MAX_HEADER_SCAN = 40


@dataclass(frozen=True)
class Column:
    index: int
    path: tuple[str, ...]          # header text as delivered: (group, leaf) or (leaf,)

    @property
    def label(self) -> str:
        return " / ".join(self.path)


@dataclass
class Layout:
    """Where a sheet's table is: header rows, data start, and the role of each column."""
    header_row: int                 # 0-based first header row
    depth: int                      # 1 or 2 header rows
    name_col: Column | None
    code_col: Column | None
    number_col: Column | None
    measures: dict[str, Column]     # measure id -> column
    grouped: int = 0                # measures found by their full 'Group > Leaf' header

    @property
    def has_units(self) -> bool:
        return self.name_col is not None or self.code_col is not None

    @property
    def first_data_row(self) -> int:
        return self.header_row + self.depth

    @property
    def rank(self) -> tuple[int, int, int]:
        """Better layouts rank higher: more measures and a unit column first; on a tie, the one whose
        second header row names groups of the declared headers, else the shallower one (a title
        line above a one-row header is not a group row)."""
        score = 2 * len(self.measures) + 3 * self.has_units
        return score, self.grouped, -self.depth


def _key_path(path: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(match_key(p) for p in path)


def _column_paths(grid: Grid, r: int, depth: int) -> list[Column]:
    columns = []
    group = None
    for c in range(grid.n_cols):
        top = grid.filled(r, c)
        top = canonical_text(top) if top is not None else ""
        if depth == 1:
            if top:
                columns.append(Column(c, (top,)))
            continue
        same_merge = grid.merged_origin(r + 1, c) == grid.merged_origin(r, c)
        bottom = "" if same_merge else canonical_text(grid.filled(r + 1, c) or "")
        if top and bottom:
            group = top
            columns.append(Column(c, (top, bottom)))
        elif top:
            group = None
            columns.append(Column(c, (top,)))
        elif bottom:
            # A group written once, not merged: leaves to its right inherit it.
            columns.append(Column(c, (group, bottom) if group else (bottom,)))
    return columns


def _match_measures(columns: list[Column], measures: tuple[Measure, ...]) -> dict[str, Column]:
    by_path = {}
    for col in columns:
        by_path.setdefault(_key_path(col.path), col)
    leaves: dict[str, list[Column]] = {}
    for col in columns:
        leaves.setdefault(match_key(col.path[-1]), []).append(col)

    found: dict[str, Column] = {}
    taken: set[int] = set()
    for exact in (True, False):
        for m in measures:
            if m.id in found:
                continue
            for alias in m.headers:
                key = _key_path(alias)
                if exact:
                    col = by_path.get(key)
                elif len(key) == 1 and len(leaves.get(key[0], [])) == 1:
                    col = leaves[key[0]][0]      # a leaf alone identifies a column only when unique
                else:
                    col = None
                if col is not None and col.index not in taken:
                    found[m.id] = col
                    taken.add(col.index)
                    break
    # A ratio column only counts where one of its parts is on the same sheet.
    for m in measures:
        if m.kind == "ratio" and m.id in found and not (set(m.ratio_of) & set(found)):
            del found[m.id]
    return found


def _match_role(columns: list[Column], aliases: list[str], taken: set[int]) -> Column | None:
    keys = {match_key(a) for a in aliases}
    for col in columns:
        if col.index not in taken and match_key(col.path[-1]) in keys:
            return col
    return None


def find_layout(grid: Grid, source: Source) -> Layout | None:
    """The best-scoring header position in the sheet, or None when no row names a count of the source.

    A layout without a unit column (`has_units` false) is no table: its header is not understood."""
    common = catalog.common()
    best: Layout | None = None
    for r in range(min(MAX_HEADER_SCAN, grid.n_rows)):
        for depth in (1, 2):
            if r + depth > grid.n_rows:
                continue
            columns = _column_paths(grid, r, depth)
            if not columns:
                continue
            measures = _match_measures(columns, source.measures)
            if not any(source.measure(mid).kind == "count" for mid in measures):
                continue
            taken = {c.index for c in measures.values()}
            code_col = _match_role(columns, common["unit_code_headers"].get(source.unit_kind, []), taken)
            taken |= {code_col.index} if code_col else set()
            name_col = _match_role(columns, common["unit_name_headers"].get(source.unit_kind, []), taken)
            taken |= {name_col.index} if name_col else set()
            number_col = _match_role(columns, common["row_number_headers"], taken)
            grouped = sum(len(col.path) == 2 and _key_path(col.path) in {_key_path(a) for a in source.measure(mid).headers}
                          for mid, col in measures.items())
            layout = Layout(r, depth, name_col, code_col, number_col, measures, grouped)
            if best is None or layout.rank > best.rank:
                best = layout
    return best
