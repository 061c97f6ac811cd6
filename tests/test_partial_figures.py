"""Figures a unit left blank, and regional subtotals, through the whole chain: load, reconcile, publish, draft.

Issue 7's silent-wrong cases: a blank figure of one unit in a file without a total row used to lower the
province figure with quality 'ok'; a 'Khối miền núi' subtotal row made the whole file refused.
"""
from __future__ import annotations

import openpyxl
import polars as pl
from conftest import sample_file

from p06 import warehouse
from p06.documents.report import render_report
from p06.ingest.load import ingest_period
from p06.publish import marts
from p06.reconcile import store


def _rewrite(path, edit) -> None:
    wb = openpyxl.load_workbook(path)
    edit(wb)
    wb.save(path)


def _rows(ws):
    """(row number, unit name) of the sheet's unit rows (column B holds names)."""
    return [(r, ws.cell(r, 2).value) for r in range(1, ws.max_row + 1)
            if isinstance(ws.cell(r, 1).value, int) and ws.cell(r, 2).value]


def test_a_blank_figure_is_a_finding_and_makes_the_province_figure_partial(sample_raw, tmp_path):
    path = sample_file(sample_raw, "2023-09", "tre_em")
    blanked = {}

    def blank_one_and_drop_total(wb):
        ws = wb.worksheets[0]
        r, name = _rows(ws)[3]
        blanked.update(row=r, name=name, value=ws.cell(r, 4).value)
        ws.cell(r, 4).value = None                       # children updated, left blank
        for row in range(ws.max_row, 0, -1):
            if str(ws.cell(row, 2).value or "").strip().lower().startswith(("tổng", "toàn tỉnh", "cộng")):
                ws.delete_rows(row)
    _rewrite(path, blank_one_and_drop_total)
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        (result,) = ingest_period(con, sample_raw, "2023-09", ["tre_em"])
        assert result.status == "loaded", result.message
        units = con.sql("SELECT unit_code, value FROM staging.observations WHERE measure = 'children_updated' "
                        "AND unit_kind = 'district'").pl()
        store.reconcile_period(con, "2023-09")
        marts.publish_period(con, "2023-09")
        findings = store.read_findings(con, "2023-09").filter(pl.col("rule_id") == "completeness.figures")
        province = con.sql("SELECT * FROM marts.indicator_monthly WHERE indicator_code = 'CHILDREN_UPDATED_SHARE' "
                           "AND unit_level = 'province'").pl().row(0, named=True)
        draft = render_report(con, "2023-09")
    (finding,) = findings.iter_rows(named=True)
    assert finding["measure"] == "children_updated" and finding["cell"] == f"D{blanked['row']}"
    assert blanked["name"].split()[-1] in finding["unit_name"]
    reported = units.filter(pl.col("value").is_not_null())
    assert (province["units_reporting"], province["units_expected"], province["quality"]) == (reported.height, 27, "partial")
    assert reported.height == units.height - 1 == 26
    assert province["numerator"] == reported["value"].sum()
    assert f"{reported.height}/27 đơn vị báo cáo" in draft


def test_regional_subtotal_rows_are_kept_reconciled_and_never_counted(sample_raw, tmp_path):
    path = sample_file(sample_raw, "2023-09", "tre_em")
    inserted = {}

    def add_subtotal(wb):
        ws = wb.worksheets[0]
        rows = _rows(ws)
        first, last = rows[3][0], rows[5][0]                     # three units form the 'Khối miền núi'
        sums = [sum(ws.cell(r, c).value for r in range(first, last + 1)) for c in (3, 4)]
        ws.insert_rows(first)
        ws.cell(first, 1).value = "I"
        ws.cell(first, 2).value = "Khối miền núi"
        ws.cell(first, 3).value, ws.cell(first, 4).value = sums[0], sums[1] + 7      # off by 7: a finding
        inserted.update(row=first, children=sums[0])
    _rewrite(path, add_subtotal)
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        (result,) = ingest_period(con, sample_raw, "2023-09", ["tre_em"])
        assert result.status == "loaded", result.message
        sub = con.sql("SELECT measure, value, stated FROM staging.observations WHERE unit_kind = 'subtotal'").pl()
        covered = con.execute("SELECT count(DISTINCT unit_code) FROM staging.observations "
                              "WHERE group_label = 'Khối miền núi' AND unit_kind = 'district'").fetchall()[0][0]
        store.reconcile_period(con, "2023-09")
        marts.publish_period(con, "2023-09")
        findings = store.read_findings(con, "2023-09")
        province = con.execute("SELECT numerator FROM marts.indicator_monthly WHERE unit_level = 'province' "
                               "AND indicator_code = 'CHILDREN_UPDATED_SHARE'").fetchall()[0][0]
        units_sum = con.execute("SELECT sum(value) FROM staging.observations WHERE measure = 'children_updated' "
                                "AND unit_kind = 'district'").fetchall()[0][0]
    assert sub.filter(pl.col("measure") == "children")["value"].to_list() == [inserted["children"]]
    assert sub["stated"].all() and covered == 3
    off = findings.filter((pl.col("unit_kind") == "subtotal") & (pl.col("rule_id") == "stated_total"))
    assert off.select("measure", "difference").rows() == [("children_updated", 7.0)]
    assert province == units_sum                                   # the subtotal is not counted again
