"""A generator of office layouts for the reader's property test (issue 7).

- `figures`: the known figures of every source, taken once from the September 2023 sample deliveries.
- `spelling`: how people respell a text (case, diacritics, NFD, old tone placement, name prefixes).
- `model`: the layout features a delivery is drawn with (`Layout`) and what the reader must do (`Expected`).
- `render`: a `Layout` and a known table -> an abstract sheet (cells, merges, hidden rows and columns),
  written as .xlsx (openpyxl) or .csv, with the expected outcome.
- `strategies`: hypothesis strategies that draw each feature and compose them into a `Layout`.

Adding a variation: add a field to `Layout` (model.py) with the value meaning "absent"; draw it in
`strategies.layouts` (only where it makes sense for the format and the table); render it in `render.py`,
and if a careful person could not read the result unambiguously, call `Rendered.refuse(variation,
words)` with the words a refusal must contain. Then run the property test with the `deep` profile.
"""
