"""catalog/common.yaml: reader settings shared by every source."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from p06.declared.base import Declared

Texts = list[str]


class Common(Declared):
    """Declarations shared by every source. Code reads them as a plain dict: `catalog.common()["key"]`."""

    total_row_labels: Texts = Field(min_length=1)
    """Labels of a delivery's own total row (matched after normalisation, in any label column)."""
    total_row_prefixes: Texts = [""]
    """Words before the province's own name that make a total row label ('Toàn' + 'tỉnh Thanh Hóa')."""
    unit_name_headers: dict[str, Texts]
    """Headers of the column naming the unit of a row, by unit kind ('any': for every kind)."""
    unit_code_headers: dict[str, Texts]
    """Headers of the column holding the unit's code, by unit kind."""
    row_number_headers: Texts
    """Row-number column headers (tell unit rows from group label rows)."""
    name_prefixes: dict[str, Texts]
    """Prefixes of unit names (normalised) and the spellings that stand for them."""
    ratio_fraction_max: float = Field(gt=0)
    """A ratio column is read as fractions when every value is at most this."""
    as_of_wordings: Texts
    """How a title or note states the cut-off date, on normalised text: {d}, {m}, {y} for day, month, year."""
    unit_kinds_named_with_code: Texts = []
    """Unit kinds named with their code in finding messages."""
    reader_limits: dict[str, PositiveInt] | None = None
    """Bounds of what a delivery can hold (rows, columns, cells, seconds ...): beyond them it is refused."""
    scope_headers: dict[Literal["month", "cumulative"], Texts] | None = None
    """Group headers that mark a column group as the month's figures or the cumulative ones."""
    footer_markers: Texts | None = None
    """Texts that end the table (notes, place-and-date lines, signature blocks)."""
    subtotal_row_labels: Texts | None = None
    """Labels of regional or group subtotal rows ('Khối miền núi')."""
    unit_of_measure_words: Texts | None = None
    """Words of a units row under the header ('(%)', 'người', 'hồ sơ'): a row of only these is not data."""
