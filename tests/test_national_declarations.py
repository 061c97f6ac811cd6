"""What is national is declared once: the public services of Phụ lục II and III (catalog/national/services.csv)
serve every province; a province declares only its own units (tax offices, tax units, extra services), and a
province that lacks a declaration it needs is refused naming the file to create and its columns."""
from __future__ import annotations

import shutil

import pytest

from p06 import catalog, config, reference
from p06.declared.base import DeclarationError
from p06.ingest.reader import read_file
from tests.conftest import SAMPLE_RAW, sample_file

NATIONAL = config.CATALOG_DIR / "national" / "services.csv"


def _codes(province: str) -> list[str]:
    return sorted(u.unit_code for u in reference.units("service", province))


def test_every_province_reports_the_same_services_declared_once():
    codes = _codes("38")
    assert len(codes) == 35 and codes[0] == "PL2-01" and codes[-1] == "PL3-10"
    assert _codes("40") == _codes("46") == _codes("01") == codes        # 46 and 01 declare nothing of their own
    pl3 = next(u for u in reference.units("service", "46") if u.unit_code == "PL3-10")
    assert (pl3.group_vi, pl3.province_code) == ("Sở Tư pháp", "46")


def test_a_province_declares_only_its_own_units():
    for path in sorted((config.CATALOG_DIR / "provinces").glob("*/units.csv")):
        kinds = {u.unit_kind for u in reference._declared_in(path, path.parent.name)}
        assert "service" not in kinds, f"{path}: services are declared in {NATIONAL}"
    assert reference.declared_kinds("40") == {"service", "tax_unit"}


def _catalog(tmp_path, own: str):
    root = tmp_path / "catalog"
    (root / "national").mkdir(parents=True)
    shutil.copy(NATIONAL, root / "national" / "services.csv")
    (root / "provinces" / "99").mkdir(parents=True)
    (root / "provinces" / "99" / "units.csv").write_text(
        "unit_kind,unit_code,name_vi,name_en,group_vi,valid_from,valid_to,aliases,note\n" + own, encoding="utf-8")
    return root


def test_a_national_service_declared_again_by_a_province_is_refused_naming_the_file(tmp_path):
    root = _catalog(tmp_path, "service,PL2-03,Đăng ký thường trú,,Phụ lục II,,,,\n")
    with pytest.raises(DeclarationError, match=r"provinces/99/units.csv: service PL2-03 is declared nationally"):
        reference._declared("99", root)


def test_a_province_may_add_a_service_of_its_own(tmp_path):
    root = _catalog(tmp_path, "service,PL9-01,Dịch vụ riêng của tỉnh,,Dịch vụ của tỉnh,2025-01-01,,,\n")
    codes = [u.unit_code for u in reference._declared("99", root) if u.unit_kind == "service"]
    assert len(codes) == 36 and codes[-1] == "PL9-01"


def test_the_services_of_a_province_that_declared_nothing_are_read(monkeypatch):
    monkeypatch.setenv("P06_PROVINCE", "46")
    read = read_file(sample_file(SAMPLE_RAW, "2025-07", "dvc"), catalog.sources()["dvc"], "2025-07")
    assert not read.problems, [str(p) for p in read.problems]
    assert len({o["unit_code"] for o in read.observations if o["unit_kind"] == "service"}) == 35


def test_tax_units_undeclared_are_refused_naming_the_file_to_create_and_its_columns(monkeypatch):
    monkeypatch.setenv("P06_PROVINCE", "46")
    read = read_file(sample_file(SAMPLE_RAW, "2025-07", "thue"), catalog.sources()["thue"], "2025-07")
    assert not read.observations
    message = read.problems[0].message
    assert "units of kind 'tax_unit' are not declared for Thành phố Huế (46)" in message
    assert ("declare them in catalog/provinces/46/units.csv (unit_kind,unit_code,name_vi,name_en,group_vi,"
            "valid_from,valid_to,aliases,note)") in message
