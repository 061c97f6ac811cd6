"""How much a delivery may hold (catalog/common.yaml `reader_limits`), and the refusals that name them."""
from __future__ import annotations

from dataclasses import dataclass

from p06 import catalog
from p06.ingest.formats.grid import UnreadableFile, cell_ref, column_letter
from p06.ingest.problems import Problem


@dataclass(frozen=True)
class Limits:
    max_rows: int
    max_columns: int
    max_cells: int
    max_file_bytes: int
    max_part_bytes: int

    @classmethod
    def declared(cls) -> Limits:
        d = catalog.common()["reader_limits"]
        return cls(int(d["max_rows"]), int(d["max_columns"]), int(d["max_cells"]), int(d["max_file_megabytes"]) * 2**20,
                   int(d["max_part_megabytes"]) * 2**20)

    def check_cell(self, file: str, sheet: str, r: int, c: int) -> None:
        """Refuse a value at 0-based (r, c) beyond the declared rows or columns."""
        if r < self.max_rows and c < self.max_columns:
            return
        beyond = f"column {column_letter(self.max_columns - 1)}" if c >= self.max_columns else f"row {self.max_rows}"
        raise UnreadableFile(Problem(
            file, f"cell {cell_ref(r, c)} holds a value beyond {beyond}: a delivery holds at most "
                  f"{self.max_rows:,} rows and {self.max_columns} columns".replace(",", "."),
            sheet=sheet, row=r + 1, column=column_letter(c),
            expected=f"the table within A1:{cell_ref(self.max_rows - 1, self.max_columns - 1)}; "
                     "delete what lies beyond it (or send the table alone)"))

    @property
    def max_elements(self) -> int:
        """Cells and rows a reader may walk in one sheet, values or not (bounds the time of any file)."""
        return 3 * self.max_cells

    def refuse_count(self, file: str, sheet: str, r: int, c: int) -> None:
        """Refuse a sheet holding more values than declared (met at 0-based (r, c))."""
        raise UnreadableFile(Problem(
            file, f"the sheet holds more than {self.max_cells:,} values (reached at cell {cell_ref(r, c)})".replace(",", "."),
            sheet=sheet, row=r + 1, column=column_letter(c),
            expected="the month's table only (one row per unit, a few dozen columns)"))

    def refuse_elements(self, file: str, sheet: str, r: int, c: int) -> None:
        """Refuse a sheet whose markup (cells, rows, tags, values or not) exceeds what a delivery needs."""
        raise UnreadableFile(Problem(
            file, f"the sheet is far larger than a delivery: more than {f'{self.max_elements:,}'.replace(',', '.')} "
                  f"cells, rows or tags to read (reached near cell {cell_ref(r, c)})", sheet=sheet, row=r + 1,
            expected="the month's table only (one row per unit, a few dozen columns)"))

    def check_size(self, file: str, size: int, what: str) -> None:
        """Refuse a file or a compressed part larger than declared, before reading it."""
        limit = self.max_file_bytes if what == "the file" else self.max_part_bytes
        if size > limit:
            raise UnreadableFile(Problem(
                file, f"{what} is {size / 2**20:,.0f} MB{' once decompressed' if what != 'the file' else ''}, "
                      f"more than the {limit // 2**20} MB a delivery can hold",
                expected="a workbook of the month's table only (a few thousand rows at most)"))
