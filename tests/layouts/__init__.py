"""A generator of office layouts for the reader's property test (issue 7).

- `figures`: the known figures of every source: the unit rows of the September 2023 sample deliveries,
  read once; province totals and ratios are computed from them, never copied from a total row.
- `spelling`: how people respell a text (case, diacritics, NFD, old tone placement, name prefixes).
- `model`: the features a delivery is drawn with (`Layout`, one field per variation) and what the reader
  must do with it (`Expected`: exact figures with the cell each was written to, or a refusal and what
  the refusal must name).
- `render`: a `Layout` of a known table -> a sheet of plain cells (values, number formats, merges,
  hidden rows and columns, hidden sheets), written as .xlsx (openpyxl) or .csv, with its `Expected`.
- `strategies`: hypothesis strategies drawing each feature, composed by `layouts()`.
- `check`: the verdict on what `read_file` returned (worst first: WRONG FIGURE, ACCEPTED A LAYOUT TO
  REFUSE, REFUSED WITHOUT NAMING, REFUSED A READABLE LAYOUT, MISSING FIGURE, WRONG AS-OF DATE) and a
  readable report (features, the first differing figures with their cells, the header as rendered).
- `survey`: each variation alone on every table, against the reader of the moment
  (`cd tests && ../.venv/bin/python -m layouts.survey [--csv]`).

Wordings come from the catalog: measure aliases and scopes (sources/*.yaml), and from common.yaml the unit
name/code and row-number headers, total-row labels, scope_headers ('Trong tháng' / 'Lũy kế' ...),
unit_of_measure_words; subtotal labels are checked to start with a declared subtotal_row_label. The few
texts the catalog has no list for (notes, signature lines, 'Đợt 1'/'Đợt 2', 'Kết quả thực hiện') are
constants in render.py.

Adding a variation:
1. add a field to `Layout` (model.py) whose default means "absent";
2. draw it in `strategies.layouts` (only where the format and the table can carry it);
3. render it in `render.Renderer` (columns / build / body / footer); if a careful person could not read
   the result unambiguously, call `self.expected.refuse(name, names_word(...) | names_cell(...) |
   names_column(...))` with the name added to `model.REFUSALS` and what the refusal must name;
4. add it to `survey.variations`, run the survey and `HYPOTHESIS_PROFILE=deep pytest
   tests/test_layout_property.py`; a shrunk failure becomes an entry of NAMED_LAYOUTS in
   tests/test_reader_regressions.py (paste the `Layout(...)` hypothesis prints).
"""
