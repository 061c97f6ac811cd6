"""A province that starts: Nghệ An (40), declaring nothing but its tax units (catalog/provinces/40/units.csv),
goes from its first deliveries to its first published month, `p06 run` exiting 0. The deliveries are built from
the sample layouts with Nghệ An's communes of the reference (tests/province_deliveries.py)."""
from __future__ import annotations

import csv
import os
import subprocess
import sys

import duckdb
import openpyxl
import pytest

from p06 import config
from tests import province_deliveries

PROVINCE = "40"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("nghe_an")
    written = province_deliveries.build(PROVINCE, root / "raw")
    env = {**os.environ, "P06_PROVINCE": PROVINCE, "P06_RAW_DIR": str(root / "raw"),
           "P06_WAREHOUSE_DIR": str(root / "warehouse")}
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--period", "2025-07"], cwd=config.REPO_DIR,
                          env=env, capture_output=True, text=True, timeout=900)
    return root, written, done


def _published(root, sql: str, *params):
    with duckdb.connect(str(root / "warehouse" / "p06_published.duckdb"), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_nghe_an_declares_only_its_tax_units():
    with open(config.CATALOG_DIR / "provinces" / PROVINCE / "units.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    assert {r["unit_kind"] for r in rows} == {"tax_unit"}
    assert not (config.CATALOG_DIR / "provinces" / PROVINCE / "report.yaml").exists()


def test_p06_run_exits_0_and_loads_every_delivery(run):
    root, written, done = run
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    statuses = dict(_published(root, "SELECT source, status FROM raw.deliveries WHERE period = '2025-07'"))
    assert statuses == {source: "loaded" for source in written}
    assert written["tre_em"] == 130 and written["thue"] == 10


def test_the_province_figure_is_the_sum_of_its_communes_rows(run):
    root, _, _ = run
    wb = openpyxl.load_workbook(next((root / "raw" / "2025-07" / "tre_em").iterdir()), read_only=True)
    rows = [r for r in wb.active.iter_rows(values_only=True) if isinstance(r[0], int)]
    assert len(rows) == 130
    published = _published(root, "SELECT unit_level, unit_name, numerator, denominator FROM marts.indicator_monthly "
                                 "WHERE period = '2025-07' AND source = 'tre_em' AND unit_level = 'province'")
    assert [(level, name) for level, name, _, _ in published] == [("province", "Tỉnh Nghệ An")]
    assert published[0][2:] == (sum(r[3] for r in rows), sum(r[2] for r in rows))


def test_the_national_services_are_published_for_nghe_an(run):
    root, _, _ = run
    (count, named) = _published(root, "SELECT count(*), count(service_name) FROM marts.public_services_monthly "
                                      "WHERE period = '2025-07'")[0]
    assert count == named == 35


def test_the_tax_units_are_published(run):
    root, _, _ = run
    units = _published(root, "SELECT DISTINCT unit_name FROM marts.indicator_monthly WHERE period = '2025-07' "
                             "AND unit_level = 'tax_unit' ORDER BY 1")
    assert len(units) == 10 and units[0][0] == "Thuế cơ sở 1 tỉnh Nghệ An"
