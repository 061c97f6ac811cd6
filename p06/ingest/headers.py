"""Find a sheet's header and which column holds which declared measure.

A header is one to three rows. A column's header is the texts stacked above it (merged group
cells fill every column they span; a group written once, unmerged, covers the leaves to its
right). A cell may also hold a flattened group header ("Group - Leaf", "Group / Leaf",
"Group: Leaf", "Group (Leaf)", a line break): every reading is tried. Groups that say whether a
column is the month's figure or the cumulative one ("Trong tháng", "Lũy kế", ...) are taken
out of the path and kept as the column's `scope`. Matching ignores case, spacing, Unicode form,
diacritics and tone placement (`match_key`).

Where a declared header fits two columns that a careful reader could not tell apart, the
layout records the conflict instead of choosing: the reader refuses it naming both cells.
"""
from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import dataclass, field
from functools import cache

from p06 import catalog
from p06.catalog import Measure, Source
from p06.ingest.workbook import Grid, cell_ref
from p06.vntext import canonical_text, match_key

MAX_HEADER_SCAN = 40
MAX_DEPTH = 3
COLUMN_LABEL = re.compile(r"^\(?(\d{1,2}|[A-Z])\)?(\s*=.*)?$")     # (1), 2, A, 3=2/1, (4) = (3)/(2)
# Flattened group headers: "Group - Leaf", "Group – Leaf", "Group / Leaf", "Group: Leaf", a line break.
_SEPARATORS = re.compile(r"\s+[-–—]\s+|\s+/\s+|\s*:\s+|\s*:$|\s*\n\s*")


@dataclass(frozen=True)
class Column:
    index: int
    path: tuple[str, ...]           # header texts as delivered, top to bottom (scope groups taken out)
    cells: tuple[str, ...]          # the header cells read (A1 references)
    readings: frozenset[tuple[str, ...]]   # every reading of the path as match keys
    scope: str | None = None        # month | cumulative, when a header group says so
    hidden: bool = False
    scope_text: str | None = None   # the header text that says it ('Trong tháng')

    @property
    def label(self) -> str:
        return " / ".join(self.path)

    @property
    def leaves(self) -> set[str]:
        return {r[-1] for r in self.readings}

    def describe(self) -> str:
        """'column E (E5:E6 'Tài khoản định danh điện tử / Chỉ tiêu giao')'."""
        cells = ", ".join(dict.fromkeys(self.cells))
        return f"column {cell_ref(0, self.index).rstrip('1')} ({cells} '{self.label}'{', hidden' if self.hidden else ''})"


@dataclass(frozen=True)
class Conflict:
    """A measure that two or more columns could hold: refused, naming every candidate."""
    measure: str
    columns: tuple[Column, ...]
    reason: str                     # 'duplicate' | 'hidden' | 'scope'


@dataclass
class Layout:
    """Where a sheet's table is: header rows, data start, and the role of each column."""
    header_row: int                 # 0-based first header row
    depth: int                      # 1 to 3 header rows
    first_data_row: int             # after any units row or column-number row under the header
    name_col: Column | None
    code_col: Column | None
    number_col: Column | None
    measures: dict[str, Column]     # measure id -> column
    columns: list[Column] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    grouped: int = 0                # measures found by their full 'Group > Leaf' header
    skipped_rows: tuple[int, ...] = ()   # units rows and column-number rows under the header

    @property
    def has_units(self) -> bool:
        return self.name_col is not None or self.code_col is not None

    @property
    def rank(self) -> tuple[int, ...]:
        """Better layouts rank higher: more measures and a unit column first, then fewer conflicts; on a
        tie, the one whose group rows name groups of the declared headers, else the shallower one (a
        title line above a header is not a group row)."""
        score = 2 * (len(self.measures) + len(self.conflicts)) + 3 * self.has_units
        return score, -len(self.conflicts), self.grouped, -self.depth


# ---------------------------------------------------------------- readings of a header


def _splits(text: str) -> list[tuple[str, ...]]:
    """A header cell's readings: as written, and split into (group, leaf) at each flattening separator."""
    readings = [(text,)]
    for m in _SEPARATORS.finditer(text):
        group, leaf = text[:m.start()].strip(), text[m.end():].strip()
        if group and leaf:
            readings.append((group, leaf))
    split = _trailing_parenthesis(text)
    if split:
        readings.append(split)                       # 'Group (Leaf)'
    return readings


def _trailing_parenthesis(text: str) -> tuple[str, str] | None:
    """'Group (Leaf)' -> (Group, Leaf), the group and the leaf may hold parentheses of their own:
    'Tổng số hồ sơ (bao gồm cả trực tiếp và trực tuyến) (Tổng hồ sơ)'."""
    text = text.rstrip()
    if not text.endswith(")"):
        return None
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[i], 0)
        if depth == 0:
            group, leaf = text[:i].strip(), text[i + 1:-1].strip()
            return (group, leaf) if group and leaf else None
    return None


def _scopes() -> dict[str, list[str]]:
    """The declared scope wordings as match keys, longest first per scope (a longer wording wins)."""
    return {s: sorted((match_key(w) for w in words), key=len, reverse=True)
            for s, words in catalog.common().get("scope_headers", {}).items()}


def _scope_of(key: str, scopes: dict[str, list[str]]) -> tuple[str | None, str]:
    """('cumulative', rest) when a header part is or starts/ends with a scope wording ('Lũy kế ...');
    `scopes` as `_scopes()` gives them (longest first)."""
    for scope, words in scopes.items():
        for word in words:
            if key == word:
                return scope, ""
            if key.startswith(word + " "):
                return scope, key[len(word) + 1:]
            if key.endswith(" " + word):
                return scope, key[:-len(word) - 1]
    return None, key


def _column(index: int, texts: list[str], cells: list[str], hidden: bool, scopes: dict[str, list[str]]) -> Column | None:
    """A column from its stacked header texts; None when it has no header text."""
    scope, scope_text = None, None
    per_part: list[list[tuple[str, ...]]] = []
    path = []
    for text in texts:
        options: list[tuple[str, ...]] = []
        for reading in _splits(text):
            keys = []
            for part in reading:
                part_scope, rest = _scope_of(match_key(part), scopes)
                if part_scope and not scope:
                    scope, scope_text = part_scope, canonical_text(part)
                if rest:
                    keys.append(rest)
            if keys:
                options.append(tuple(keys))
                if len(keys) > 1 and keys[-1] in _unit_words():
                    options.append(tuple(keys[:-1]))      # 'Tổng số trẻ em - (người)': the unit of measure
        if options:
            per_part.append(options)
            path.append(canonical_text(text))
        elif _scope_of(match_key(text), scopes)[0]:
            continue                # the part was a scope group only
    if not per_part:
        return None
    readings = frozenset(tuple(k for part in combo for k in part) for combo in itertools.product(*per_part))
    return Column(index, tuple(path), tuple(cells), readings, scope, hidden, scope_text)


def header_column(index: int, texts: tuple[str, ...], hidden: bool = False) -> Column | None:
    """A column from its header texts, top to bottom (cells unknown): for tests and tools."""
    scopes = _scopes()
    return _column(index, list(texts), [cell_ref(0, index)] * len(texts), hidden, scopes)


def _is_column_number_row(values: list) -> bool:
    """The '(1) (2) (3)' or 'A B 1 2 3=2/1' row some templates put under the header: column labels
    only, the numbered ones counting up by one (so a row of small figures is never taken for it)."""
    present = [str(v).strip() for v in values if v is not None and str(v).strip()]
    labels = [COLUMN_LABEL.match(v) for v in present]
    if len(present) < 3 or not all(labels):
        return False
    numbers = [int(m.group(1)) for m in labels if m.group(1).isdigit()]
    return all(b == a + 1 for a, b in zip(numbers, numbers[1:]))


def _is_units_row(values: list, unit_words: set[str]) -> bool:
    """A row of units of measure under the header: '(%)', 'người', 'hồ sơ', 'Đơn vị tính: người'."""
    present = [match_key(v) for v in values if v is not None and str(v).strip()]
    return len(present) >= 2 and all(v in unit_words or not v for v in present)


@cache
def _unit_words() -> frozenset[str]:
    return frozenset(match_key(w) for w in catalog.common().get("unit_of_measure_words", []))


def _columns(grid: Grid, r: int, depth: int, scopes: dict[str, list[str]]) -> list[Column]:
    """Every column's header read from rows r .. r+depth-1."""
    hidden_cols = grid.hidden_cols
    groups: list[str | None] = [None] * depth          # a group written once covers the leaves to its right
    columns = []
    for c in range(grid.n_cols):
        texts, cells = [], []
        for i in range(depth):
            row = r + i
            if i and grid.merged_origin(row, c) == grid.merged_origin(row - 1, c):
                continue                                 # a header merged downwards is read once
            value = grid.filled(row, c)
            text = str(value).strip() if value is not None else ""
            below = i + 1 < depth and any(str(grid.filled(r + j, c) or "").strip() for j in range(i + 1, depth))
            if text:
                groups[i] = text if below else None
                texts.append(text)
                cells.append(cell_ref(*grid.merged_origin(row, c)))
            elif below and groups[i] and grid.merged_origin(row, c) == (row, c):
                texts.append(groups[i])
                cells.append(cell_ref(row, c))
        col = _column(c, texts, cells, c in hidden_cols, scopes) if texts else None
        if col is not None:
            columns.append(col)
    return columns


def _with_scope_above(grid: Grid, r: int, columns: list[Column], scopes: dict[str, list[str]]) -> list[Column]:
    """Columns under a scope group in the rows just above the header ('Trong tháng' over the leaves read as a
    shallower header) take that group's scope: a month's column is never read as the cumulative figure."""
    above: dict[int, tuple[str, str]] = {}
    headed = {col.index for col in columns}    # a column under a group written once has a header in some row
    for row in range(r - 1, max(r - MAX_DEPTH, -1), -1):
        if not any(v is not None and str(v).strip() for v in grid.rows[row]):
            break                              # a blank row: the title lines above say nothing of columns
        current: tuple[str, str] | None = None
        for c in range(grid.n_cols):
            value = grid.filled(row, c)
            text = str(value).strip() if value is not None else ""
            if text:
                scope, rest = _scope_of(match_key(text), scopes)
                current = (scope, canonical_text(text)) if scope and not rest else None
            elif c not in headed:
                current = None                 # a column without a header (in any of its rows) ends a group written once
            if current and c not in above:
                above[c] = current
    if not above:
        return columns
    return [dataclasses.replace(col, scope=above[col.index][0], scope_text=above[col.index][1])
            if col.scope is None and col.index in above else col for col in columns]


# ---------------------------------------------------------------- matching


def _alias_keys(measure: Measure) -> list[tuple[str, ...]]:
    return _header_keys(tuple(tuple(alias) for alias in measure.headers))


@cache
def _header_keys(headers: tuple[tuple[str, ...], ...]) -> list[tuple[str, ...]]:
    return [tuple(match_key(p) for p in alias) for alias in headers]


@cache
def _text_keys(text: str, scopes: tuple) -> frozenset[str]:
    """Every key a header cell's text can give a column (each part of each reading, scope wordings taken
    out): a superset of the leaves of any column the text is part of."""
    return frozenset(_scope_of(match_key(part), dict(scopes))[1] for reading in _splits(text) for part in reading)


def _row_keys(grid: Grid, row: int, scopes: dict[str, list[str]]) -> frozenset[str]:
    """The keys of every cell shown in a row (`_text_keys`)."""
    frozen = tuple((s, tuple(words)) for s, words in scopes.items())
    keys: set[str] = set()
    for c in range(grid.n_cols):
        value = grid.filled(row, c)
        text = str(value).strip() if value is not None else ""
        if text:
            keys |= _text_keys(text, frozen)
    return frozenset(keys)


def _strong(col: Column, alias: tuple[str, ...]) -> bool:
    """The column's whole header is the alias, or ends with the alias's group and leaf."""
    return any(r == alias or (len(alias) > 1 and r[-len(alias):] == alias) for r in col.readings)


def _fits_scope(col: Column, measure: Measure) -> bool:
    return col.scope is None or col.scope == measure.scope


def _choose(candidates: list[Column], measure: Measure) -> tuple[Column | None, Conflict | None]:
    """One column for the measure, or the conflict that stops a careful reader from choosing."""
    scoped = [c for c in candidates if c.scope == measure.scope]
    candidates = scoped or candidates
    if len(candidates) == 1:
        col = candidates[0]
        return (None, Conflict(measure.id, (col,), "hidden")) if col.hidden else (col, None)
    visible = [c for c in candidates if not c.hidden]
    reason = "hidden" if len(visible) < len(candidates) else "duplicate"
    return None, Conflict(measure.id, tuple(candidates), reason)


def match_measures(columns: list[Column], measures: tuple[Measure, ...]) -> tuple[dict[str, Column], list[Conflict]]:
    """Measures found in the columns: first by whole headers, then by a leaf that only one column has."""
    found: dict[str, Column] = {}
    conflicts: list[Conflict] = []
    taken: set[int] = set()
    settled: set[str] = set()
    for strong in (True, False):
        for m in measures:
            if m.id in settled:
                continue
            for alias in _alias_keys(m):
                if strong:
                    candidates = [c for c in columns if c.index not in taken and _fits_scope(c, m) and _strong(c, alias)]
                elif len(alias) == 1:
                    holders = [c for c in columns if alias[0] in c.leaves and _fits_scope(c, m)]
                    free = [c for c in holders if c.index not in taken]
                    # a leaf alone identifies a column only when no other column has that leaf; two free
                    # columns with the leaf are two candidates (a careful reader could not choose)
                    candidates = free if len(holders) == 1 or len(free) > 1 else []
                else:
                    candidates = []
                if not candidates:
                    continue
                col, conflict = _choose(candidates, m)
                settled.add(m.id)
                if conflict:
                    conflicts.append(conflict)
                    taken |= {c.index for c in conflict.columns}
                else:
                    found[m.id] = col
                    taken.add(col.index)
                break
    # A measure found only under the other scope's group ('Trong tháng' for a cumulative figure) is named.
    for m in measures:
        if m.id in settled:
            continue
        other = [c for c in columns if c.index not in taken and c.scope and c.scope != m.scope
                 and any(_strong(c, a) or (len(a) == 1 and a[0] in c.leaves) for a in _alias_keys(m))]
        if other:
            conflicts.append(Conflict(m.id, tuple(other), "scope"))
    # A ratio column only counts where one of its parts is on the same sheet.
    present = set(found) | {k.measure for k in conflicts if k.reason != "scope"}
    for m in measures:
        if m.kind == "ratio" and m.id in found and not (set(m.ratio_of) & present):
            del found[m.id]
    conflicts = [k for k in conflicts if not (by_id(measures, k.measure).kind == "ratio"
                                              and not set(by_id(measures, k.measure).ratio_of) & present)]
    return found, conflicts


def by_id(measures: tuple[Measure, ...], measure_id: str) -> Measure:
    return next(m for m in measures if m.id == measure_id)


def _match_role(columns: list[Column], aliases: list[str], taken: set[int]) -> Column | None:
    keys = {match_key(a) for a in aliases}
    for col in columns:
        if col.index not in taken and (col.leaves & keys or any(r in {(k,) for k in keys} for r in col.readings)):
            return col
    return None


def _role_headers(kind: str, unit_kind: str) -> list[str]:
    declared = catalog.common()[kind]
    if isinstance(declared, dict):
        return list(declared.get(unit_kind, [])) + list(declared.get("any", []))
    return list(declared)


def _under_header(grid: Grid, start: int, unit_words: set[str]) -> list[int]:
    """Rows under the header that belong to it: units rows and a column-number row. Rows of text only (units
    with words not declared) above a column-number row belong to it too."""
    rows = []
    for r in range(start, min(start + 3, grid.n_rows)):
        if _is_column_number_row(grid.rows[r]):
            return list(range(start, r + 1))
        if _is_units_row(grid.rows[r], unit_words):
            rows.append(r)
        elif any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in grid.rows[r]):
            break                          # figures: the data begins
    # no column-number row: only the recognised units rows right under the header
    kept = []
    for r in range(start, start + len(rows)):
        if r not in rows:
            break
        kept.append(r)
    return kept


def find_layout(grid: Grid, source: Source, unit_kind: str | None = None) -> Layout | None:
    """The best-scoring header position in the sheet, or None when no row names a count of the source.

    A layout without a unit column (`has_units` false) is no table: its header is not understood."""
    unit_kind = unit_kind or source.unit_kinds[0].unit_kind
    scopes = _scopes()
    unit_words = _unit_words()
    # A header names a count of the source: its leaf is the last part of a count's declared header. Rows
    # none of whose cells can give such a leaf are no header rows (checked once, not at every depth).
    count_leaves = {alias[-1] for m in source.measures if m.kind == "count" for alias in _alias_keys(m)}
    names_count = [bool(_row_keys(grid, row, scopes) & count_leaves)
                   for row in range(min(MAX_HEADER_SCAN + MAX_DEPTH - 1, grid.n_rows))]
    best: Layout | None = None
    for r in range(min(MAX_HEADER_SCAN, grid.n_rows)):
        for depth in range(1, MAX_DEPTH + 1):
            if r + depth > grid.n_rows or not any(names_count[r:r + depth]):
                continue
            rows = [grid.rows[r + i] for i in range(depth)]
            if any(_is_column_number_row(v) or _is_units_row(v, unit_words) for v in rows[1:]):
                continue                 # a units or column-number row ends the header
            columns = _with_scope_above(grid, r, _columns(grid, r, depth, scopes), scopes)
            if not columns:
                continue
            measures, conflicts = match_measures(columns, source.measures)
            if not any(source.measure(mid).kind == "count" for mid in [*measures, *(c.measure for c in conflicts)]):
                continue
            taken = {c.index for c in measures.values()} | {c.index for k in conflicts for c in k.columns}
            code_col = _match_role(columns, _role_headers("unit_code_headers", unit_kind), taken)
            taken |= {code_col.index} if code_col else set()
            name_col = _match_role(columns, _role_headers("unit_name_headers", unit_kind), taken)
            taken |= {name_col.index} if name_col else set()
            number_col = _match_role(columns, catalog.common()["row_number_headers"], taken)
            grouped = sum(any(len(a) > 1 and _strong(col, a) for a in _alias_keys(source.measure(mid)))
                          for mid, col in measures.items())
            skipped = _under_header(grid, r + depth, unit_words)
            first = r + depth + len(skipped)
            layout = Layout(r, depth, first, name_col, code_col, number_col, measures, columns, conflicts, grouped,
                            tuple(skipped))
            if best is None or layout.rank > best.rank:
                best = layout
    return best
