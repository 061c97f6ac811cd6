"""The features of a generated delivery (`Layout`) and what the reader must return for it (`Expected`)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import date

from p06.vntext import match_key

AS_OF = date(2023, 9, 15)

# Variations a careful person cannot read unambiguously: the reader must refuse them, with these names.
REFUSALS = (
    "hidden duplicate column",      # a hidden column with the same header as a visible one, other figures
    "hidden unit row",              # a unit listed only in a hidden row
    "duplicate visible header",     # two visible columns with the same header, other figures
    "mixed number styles",          # one text cell of a count column with the other thousands separator
    "wrong period only",            # each count only under the group word of the other scope ('Trong tháng' over a cumulative measure)
    "unlabelled period pair",       # the same leaves under 'Đợt 1' and 'Đợt 2'
    "ratio beyond its maximum",     # one unit's ratio 250% where the measure declares ratio_max 1 (100%)
)


@dataclass(frozen=True)
class Layout:
    """One delivery's office habits. Defaults are the plainest layout; every field is one variation."""
    table: str                                   # KnownTable.label: source/sheet of the sample
    fmt: str = "xlsx"                            # xlsx | csv
    csv_delimiter: str = ","
    csv_encoding: str = "utf-8"                  # utf-8 | utf-8-sig (with BOM) | utf-16 (with BOM)
    titles: int = 1                              # title lines above the header
    merged_titles: bool = False
    as_of: str = "text"                          # text | date cell | short year | none
    header_aliases: tuple[int, ...] = ()         # per measure: index into its declared headers (modulo)
    header_spelling: str = "as declared"         # spelling of every measure header (see spelling.SPELLINGS)
    group_style: str = "merged"                  # merged | written once | repeated | flattened
    joiner: str = " - "                          # flattened 'Group<joiner>Leaf'; '(' means 'Group (Leaf)'
    super_header: bool = False                   # a third header row spanning every measure column
    units_row: bool = False                      # '(%)', 'người', 'hồ sơ' under the header
    column_numbers: str = "none"                 # none | (1) (2) | A B 1 2
    unit_header: int = 0                         # index into common.yaml unit_name_headers of the kind
    unit_header_spelling: str = "as declared"
    code_column: bool = False                    # a unit code column (Mã ĐVHC, Mã CQT, ...)
    number_column: str = "STT"                   # STT | none | some blank
    shuffle_columns: bool = False
    blank_columns: int = 0
    note_column: bool = False
    total_row: str = "absent"                    # top | bottom | absent
    total_label: int = 0                         # index into common.yaml total_row_labels
    total_label_spelling: str = "as declared"
    name_form: str = "as declared"               # see spelling.NAME_FORMS
    name_spelling: str = "as declared"
    subtotals: str = "none"                      # none | 2 blocks | 3 blocks (district tables)
    footer: tuple[str, ...] = ()                 # notes | place and date | signature | blank rows
    count_styles: tuple[str, ...] = ()           # per count measure: number | text . | text , | text space | text nbsp | some text
    ratio_styles: tuple[str, ...] = ()           # per ratio measure, see render.RATIO_STYLES
    ratio_decimals: tuple[int, ...] = ()         # per ratio measure: decimals of the percent shown
    periods: str = "none"                        # none | month and cumulative | wrong period only | unlabelled period pair
    period_words: tuple[int, int] = (0, 0)       # indices into common.yaml scope_headers month, cumulative
    month_first: bool = True
    hidden: str = "none"                         # none | helper column | blank row | old sheet | hidden duplicate column | hidden unit row
    instruction_sheet: bool = False
    duplicate_visible: bool = False
    mixed_styles: bool = False
    ratio_beyond_max: bool = False
    seed: int = 0

    def features(self) -> list[str]:
        """The fields that differ from the plainest layout, as 'name=value'."""
        plain = Layout(self.table)
        return [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                if f.name != "table" and getattr(self, f.name) != getattr(plain, f.name)]


@dataclass
class ExpectedFigure:
    value: float | None
    text: str | None
    cell: str                    # where the generator wrote it
    unit_kind: str
    stated: bool


@dataclass
class Expected:
    """Either figures (the reader returns exactly these, and no problem) or a refusal."""
    figures: dict[tuple[str, str], ExpectedFigure] = field(default_factory=dict)
    as_of: date | None = AS_OF
    refusal: str | None = None                   # one of REFUSALS
    must_name: list[tuple[str, list[str]]] = field(default_factory=list)   # (what, regex alternatives)
    subtotals: bool = False                      # subtotal rows were rendered (their observations are allowed)

    def refuse(self, variation: str, *names: tuple[str, list[str]]) -> None:
        assert variation in REFUSALS, variation
        self.refusal = variation
        self.must_name.extend(names)

    def unnamed(self, text: str) -> list[str]:
        """What the problems' text fails to name."""
        texts = (text, match_key(text))
        return [what for what, patterns in self.must_name
                if not any(re.search(p, t) for p in patterns for t in texts)]


def names_cell(ref: str) -> tuple[str, list[str]]:
    """A cell named as 'C9' or 'row 9, column C'."""
    col, row = re.match(r"([A-Z]+)(\d+)", ref).groups()
    return f"cell {ref}", [rf"\b{ref}\b", rf"(?i:row) {row}\b.*(?i:column) {col}\b", rf"(?i:column) {col}\b.*(?i:row) {row}\b"]


def names_any_cell(what: str, refs: list[str]) -> tuple[str, list[str]]:
    return what, [p for ref in refs for p in names_cell(ref)[1]]


def names_column(letter: str, *texts: str) -> tuple[str, list[str]]:
    """A column named by its letter ('column D', a cell 'D7') or by one of its header texts."""
    shown = f" ({' / '.join(texts)})" if any(texts) else ""
    return f"column {letter}{shown}", [
        rf"(?i:column|cột) {letter}\b", rf"\b{letter}\d+\b", *[re.escape(match_key(t)) for t in texts if t]]


def names_word(word: str) -> tuple[str, list[str]]:
    return f"'{word}'", [rf"(?i){re.escape(word)}", re.escape(match_key(word))]
