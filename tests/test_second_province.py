"""Any province: with P06_PROVINCE=40 (Nghệ An) a delivery by its communes is read, with its own total label and
name, and loads; a commune of Thanh Hóa in it is refused naming Thanh Hóa. Built from the units reference."""
from __future__ import annotations

from datetime import date

import openpyxl
import pytest

from p06 import catalog, reference, warehouse
from p06.ingest.load import ingest_period
from p06.ingest.reader import read_file

JULY = date(2025, 7, 15)


@pytest.fixture
def nghe_an(monkeypatch):
    monkeypatch.setenv("P06_PROVINCE", "40")
    return reference.expected_units("commune", JULY)


def _delivery(path, names: list[str], province_label: str):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["SỞ Y TẾ"])
    ws.append(["(Số liệu tính đến ngày 15/7/2025)"])
    ws.append(["STT", "Xã, phường", "Tổng số trẻ em", "Số trẻ em đã cập nhật, chuẩn hóa", "Tỷ lệ"])
    for i, name in enumerate(names, 1):
        ws.append([i, name.upper() if i % 2 else name, 1000 + i, 900 + i, f"{(900 + i) / (1000 + i) * 100:.2f}%".replace(".", ",")])
    ws.append([None, province_label, sum(1000 + i for i in range(1, len(names) + 1)),
               sum(900 + i for i in range(1, len(names) + 1)), None])
    wb.save(path)
    return path


def test_a_delivery_of_another_province_is_read_by_its_own_units(tmp_path, nghe_an):
    assert reference.province_name(on=JULY) == "Tỉnh Nghệ An" and len(nghe_an) > 100
    chosen = [u.name_vi for u in nghe_an[:5]]
    path = _delivery(tmp_path / "tre_em.xlsx", chosen, "Toàn tỉnh Nghệ An")
    read = read_file(path, catalog.sources()["tre_em"], "2025-07")
    assert not read.problems, [str(p) for p in read.problems]
    units = {o["unit_code"] for o in read.observations if o["unit_kind"] == "commune"}
    assert units == {u.unit_code for u in nghe_an[:5]}
    total = [o for o in read.observations if o["unit_kind"] == "province" and o["measure"] == "children"]
    assert [(o["unit_code"], o["unit_name"], o["value"]) for o in total] == [("40", "Tỉnh Nghệ An", 5015.0)]


def test_a_commune_of_thanh_hoa_in_a_nghe_an_delivery_is_refused_naming_thanh_hoa(tmp_path, nghe_an):
    path = _delivery(tmp_path / "tre_em.xlsx", [nghe_an[0].name_vi, "Xã Mường Lát"], "Tổng cộng")
    (problem,) = read_file(path, catalog.sources()["tre_em"], "2025-07").problems
    assert "Xã Mường Lát" in problem.message and "Thanh Hóa" in problem.message and "Nghệ An" in problem.message


def test_it_loads_into_the_warehouse(tmp_path, nghe_an):
    raw = tmp_path / "raw"
    (raw / "2025-07" / "tre_em").mkdir(parents=True)
    _delivery(raw / "2025-07" / "tre_em" / "tre_em.xlsx", [u.name_vi for u in nghe_an[:3]], "Tổng cộng")
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        (result,) = ingest_period(con, raw, "2025-07", ["tre_em"])
        assert result.status == "loaded", result.message
        assert result.units == 3


def test_a_warehouse_serves_one_province(tmp_path, monkeypatch):
    """Nghệ An's figures never land in Thanh Hóa's warehouse: the second province needs a warehouse of its own."""
    monkeypatch.delenv("P06_PROVINCE", raising=False)
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        assert warehouse.warehouse_province(con) == "38"
    monkeypatch.setenv("P06_PROVINCE", "40")
    with pytest.raises(warehouse.WarehouseOfAnotherProvince, match="province 38, but P06_PROVINCE is 40"):
        with warehouse.connect(tmp_path / "w.duckdb"):
            pass
    with warehouse.connect(tmp_path / "w40.duckdb") as con:
        assert warehouse.warehouse_province(con) == "40"
