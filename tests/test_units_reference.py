"""The reference of units keyed by time (p06.reference): validity, the reform, the crosswalk, any province."""
from datetime import date

import pytest

from p06 import reference
from p06.config import CATALOG_DIR

SEP_2023, JUN_2025, JUL_2025 = date(2023, 9, 30), date(2025, 6, 30), date(2025, 7, 31)


def test_the_generated_files_say_where_they_came_from_and_stay_small():
    for name in ("admin_units.csv", "unit_crosswalk.csv"):
        path = CATALOG_DIR / "reference" / name
        assert "vietnamadminunits package 1.0.4" in path.read_text(encoding="utf-8").splitlines()[0]
        assert path.stat().st_size < 2_000_000


def test_national_counts_before_and_after_the_reform():
    assert len(reference.all_units("province", JUN_2025)) == 63
    assert len(reference.all_units("province", JUL_2025)) == 34
    assert len(reference.all_units("commune", JUL_2025)) == 3321
    assert len(reference.all_units("district", JUL_2025)) == 0


def test_thanh_hoa_districts_by_time_dong_son_ends_with_2024():
    assert len(reference.units("district", "38", SEP_2023)) == 27
    assert len(reference.units("district", "38", JUN_2025)) == 26
    dong_son = reference.unit_at("district", "405", SEP_2023, "38")
    assert dong_son.name_vi == "Huyện Đông Sơn" and dong_son.valid_to == date(2024, 12, 31)
    assert reference.unit_at("district", "405", JUN_2025, "38") is None
    # Thành phố Thanh Hóa keeps its code and identity across the merger.
    assert reference.same_unit("district", "380", SEP_2023, JUN_2025, "38")


def test_thanh_hoa_has_166_communes_147_xa_19_phuong_from_july_2025():
    communes = reference.units("commune", "38", JUL_2025)
    kinds = [u.name_vi.split()[0] for u in communes]
    assert (len(communes), kinds.count("Xã"), kinds.count("Phường")) == (166, 147, 19)
    assert all(u.valid_from == date(2025, 7, 1) for u in communes)
    assert len(reference.units("commune", "38", JUN_2025)) == 547


def test_a_reused_code_names_two_units():
    # 14758 was Phường Đông Thọ until the reform; the new Phường Hàm Rồng carries it since.
    before, after = reference.unit_at("commune", "14758", JUN_2025, "38"), reference.unit_at("commune", "14758", JUL_2025, "38")
    assert (before.name_vi, after.name_vi) == ("Phường Đông Thọ", "Phường Hàm Rồng")
    assert before.key != after.key
    assert not reference.same_unit("commune", "14758", JUN_2025, JUL_2025, "38")


def test_crosswalk_dong_son_district_to_the_communes_of_2025():
    dong_son = reference.unit_at("district", "405", SEP_2023, "38")
    links = reference.successors(dong_son)
    merged = [k for k in links if k.new.unit_kind == "district"]
    assert [(k.new.unit_code, k.coverage, k.effective_date) for k in merged] == [("380", "whole", date(2025, 1, 1))]
    communes = {k.new.name_vi: k.coverage for k in links if k.new.unit_kind == "commune"}
    assert communes == {"Phường Đông Sơn": "part", "Phường Đông Quang": "part", "Phường Đông Tiến": "part"}


def test_crosswalk_muong_lat():
    muong_lat = next(u for u in reference.units("commune", "38", JUL_2025) if u.name_vi == "Xã Mường Lát")
    olds = {(k.old.unit_kind, k.old.name_vi, k.coverage) for k in reference.predecessors(muong_lat)}
    assert ("district", "Huyện Mường Lát", "part") in olds
    assert ("commune", "Thị trấn Mường Lát", "whole") in olds


def test_new_units_drawing_from_more_than_one_old_district():
    """What the data says about the DOMAIN claim '7 of the 166 draw from more than one old district': with the
    districts of 2023 (Đông Sơn separate) it is 7; with those of 2025-06 it is 5."""
    def multi(on):
        districts = {u.key for u in reference.units("district", "38", on)}
        n = 0
        for commune in reference.units("commune", "38", JUL_2025):
            olds = {k.old.key for k in reference.predecessors(commune) if k.old.key in districts}
            n += len(olds) > 1
        return n
    assert (multi(SEP_2023), multi(JUN_2025)) == (7, 5)


def test_a_second_province_nghe_an(monkeypatch):
    monkeypatch.setenv("P06_PROVINCE", "40")
    assert reference.province(JUL_2025).name_vi == "Tỉnh Nghệ An"
    assert len(reference.units("commune", on=JUL_2025)) == 130
    with pytest.raises(reference.UndeclaredUnitKind, match="catalog/provinces/40/units.csv"):
        reference.units("tax_office", on=JUL_2025)      # Nghệ An declares its tax units only


def test_merged_provinces_differ_before_and_after():
    before, after = reference.province(JUN_2025, "08"), reference.province(JUL_2025, "08")
    assert before.key != after.key and before.valid_to == JUN_2025 and after.valid_from == date(2025, 7, 1)
    olds = {k.old.name_vi for k in reference.predecessors(after)}
    assert olds == {"Tỉnh Hà Giang", "Tỉnh Tuyên Quang"}


def test_declared_units_of_the_province_by_period():
    assert [u.unit_code for u in reference.units("tax_office", "38", JUN_2025)] == [f"CCT{i:02d}" for i in range(1, 12)]
    assert reference.units("tax_office", "38", JUL_2025) == []
    tax_units = reference.units("tax_unit", "38", JUL_2025)
    assert [u.name_vi for u in tax_units] == [f"Thuế cơ sở {i} tỉnh Thanh Hóa" for i in range(1, 11)]
    with pytest.raises(reference.UndeclaredUnitKind, match="catalog/provinces/38/units.csv"):
        reference.units("land_office", "38", JUL_2025)


def test_p06_province_must_be_a_two_digit_code(monkeypatch):
    monkeypatch.setenv("P06_PROVINCE", "Thanh Hoa")
    with pytest.raises(ValueError, match="2-digit"):
        reference.province_code()
