"""The national roll-up: provinces' published copies (`p06_published.duckdb`) into one national warehouse.

- `texts`: catalog/national.yaml (the nation's name and code, ranking, workbook wording);
- `provinces`: which provinces a month expects and whether a copy's province is one of today's (the reference);
- `copies`: reading one province's copy, read-only, external access disabled;
- `store`: the national warehouse: copies received (vintages, refusals, history), atomically replaced;
- `marts`: the national marts rebuilt from the rows in use (sums, ratios recomputed, missing provinces, ranking);
- `workbook`, `report`: the national workbook and Word report of a month.
`pipelines/national_cmd.py` is the `p06 national` command.
"""
