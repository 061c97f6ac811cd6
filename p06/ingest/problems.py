"""What goes wrong with a delivery, said so a department can fix it: file, sheet, row, column, expectation."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    message: str
    sheet: str | None = None
    row: int | None = None          # 1-based, as the spreadsheet shows it
    column: str | None = None       # column letter
    header: str | None = None       # the column's header text
    expected: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.sheet:
            where.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}" + (f" ({self.header})" if self.header else ""))
        text = ", ".join(where) + f": {self.message}"
        if self.expected:
            text += f"; expected {self.expected}"
        return text

    @property
    def cell(self) -> str | None:
        return f"{self.column}{self.row}" if self.column and self.row is not None else None


def summarize(problems: list[Problem], limit: int = 5) -> str:
    """One message for the delivery record: the first few problems and a count of the rest."""
    lines = [str(p) for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"... and {len(problems) - limit} more problem(s)")
    return "\n".join(lines)
