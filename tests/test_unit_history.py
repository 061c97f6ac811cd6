"""Units of every month since January 2022 (catalog/reference/unit_history.csv, scripts/gen_unit_history.py):
the known changes of the 2023-2025 reorganisation are dated and based, every month has its own units, a unit of
another month is refused saying what it became or was, and the generator turns list dates into versions."""
from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from datetime import date

import openpyxl
import pytest

from p06 import catalog, reference
from p06.ingest.reader import read_file
from p06.ingest.units import UnitMatcher


def _link(kind: str, code: str, on: date, province: str):
    unit = reference.unit_at(kind, code, on, province)
    assert unit is not None, (kind, code, on)
    return unit, reference.successors(unit)


def test_my_loc_merged_into_nam_dinh_city_on_1_september_2024_by_resolution_1104():
    unit, (link,) = _link("district", "358", date(2024, 8, 15), "36")
    assert (unit.name_vi, unit.valid_to) == ("Huyện Mỹ Lộc", date(2024, 8, 31))
    assert (link.new.name_vi, link.new.unit_code, link.effective_date, link.change) == (
        "Thành phố Nam Định", "356", date(2024, 9, 1), "merged")
    assert "1104/NQ-UBTVQH15" in link.basis
    assert len(reference.units("district", "36", date(2024, 8, 15))) == 10
    assert len(reference.units("district", "36", date(2024, 10, 15))) == 9


def test_ninh_binh_city_and_hoa_lu_became_hoa_lu_city_on_1_january_2025():
    ninh_binh, (merged,) = _link("district", "369", date(2024, 12, 15), "37")
    hoa_lu, (renamed,) = _link("district", "374", date(2024, 12, 15), "37")
    assert (ninh_binh.name_vi, hoa_lu.name_vi) == ("Thành phố Ninh Bình", "Huyện Hoa Lư")
    assert merged.new == renamed.new and merged.new.name_vi == "Thành phố Hoa Lư"
    assert (merged.new.valid_from, merged.change, renamed.change) == (date(2025, 1, 1), "merged", "renamed")
    assert "1318/NQ-UBTVQH15" in merged.basis
    assert reference.unit_at("district", "369", date(2025, 2, 15), "37") is None


def test_kim_bang_became_a_town_on_1_january_2025_by_resolution_1288():
    district, (link,) = _link("district", "350", date(2024, 12, 31), "35")
    assert (district.name_vi, link.new.name_vi, link.effective_date) == (
        "Huyện Kim Bảng", "Thị xã Kim Bảng", date(2025, 1, 1))
    assert "1288/NQ-UBTVQH15" in link.basis
    assert reference.unit_at("district", "350", date(2025, 1, 1), "35").name_vi == "Thị xã Kim Bảng"


def test_dong_son_declared_by_hand_is_not_generated_twice():
    versions = [u for u in reference.units("district", "38") if u.unit_code == "405"]
    assert [(u.name_vi, u.valid_to) for u in versions] == [("Huyện Đông Sơn", date(2024, 12, 31))]


def test_hue_was_a_province_until_2024_and_a_centrally_run_city_from_2025():
    assert reference.province_name("46", date(2023, 9, 15)) == "Tỉnh Thừa Thiên Huế"
    assert reference.province_name("46", date(2025, 3, 15)) == "Thành phố Huế"


def test_no_code_names_two_units_on_one_day():
    """Every month since January 2022 has one unit per kind and code: versions of a code never overlap."""
    versions = defaultdict(list)
    for u in reference.all_units():
        versions[(u.unit_kind, u.unit_code)].append(u)
    for key, units in versions.items():
        units.sort(key=lambda u: u.valid_from or date.min)
        for a, b in zip(units, units[1:]):
            assert a.valid_to is not None and b.valid_from is not None and a.valid_to < b.valid_from, (key, a, b)


def test_the_crosswalk_of_2025_still_names_units_dated_by_the_history():
    """Thị xã Kim Bảng began on 01/01/2025; its communes' links to the communes of July 2025 still hold."""
    town = reference.unit_at("district", "350", date(2025, 6, 30), "35")
    assert town.valid_from == date(2025, 1, 1)
    assert {k.new.unit_kind for k in reference.successors(town)} == {"commune"}


# ------------------------------------------------------------------ what a department reads back

def test_a_unit_of_another_month_says_what_it_became_and_when():
    october = UnitMatcher("district", date(2024, 10, 15), "36")
    assert october.by_name("Huyện Mỹ Lộc") is None
    assert october.explain("Huyện Mỹ Lộc") == ("Huyện Mỹ Lộc: merged into Thành phố Nam Định on 01/09/2024 "
                                               "(Nghị quyết 1104/NQ-UBTVQH15); not a unit in 2024-10")
    assert UnitMatcher("district", date(2025, 2, 15), "35").explain("Huyện Kim Bảng") == (
        "Huyện Kim Bảng: renamed Thị xã Kim Bảng on 01/01/2025 (Nghị quyết 1288/NQ-UBTVQH15); not a unit in 2025-02")


def test_a_unit_not_yet_created_says_when_it_begins_and_what_was_there():
    assert UnitMatcher("district", date(2024, 10, 15), "37").explain("Thành phố Hoa Lư") == (
        "Thành phố Hoa Lư: a unit only from 01/01/2025 (Nghị quyết 1318/NQ-UBTVQH15); until then Huyện Hoa Lư, "
        "Thành phố Ninh Bình; not a unit in 2024-10")


def _district_delivery(path, names: list[str], as_of: str):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["SỞ Y TẾ"])
    ws.append([f"(Số liệu tính đến ngày {as_of})"])
    ws.append(["STT", "Huyện, thị xã, thành phố", "Tổng số trẻ em", "Số trẻ em đã cập nhật, chuẩn hóa"])
    for i, name in enumerate(names, 1):
        ws.append([i, name, 1000 + i, 900 + i])
    wb.save(path)
    return path


@pytest.mark.parametrize("month, as_of, read", [("2024-08", "15/8/2024", True), ("2024-10", "15/10/2024", False)])
def test_a_nam_dinh_delivery_is_read_by_the_districts_of_its_month(tmp_path, monkeypatch, month, as_of, read):
    monkeypatch.setenv("P06_PROVINCE", "36")
    districts = [u.name_vi for u in reference.units("district", "36", date(2024, 8, 15))]
    assert "Huyện Mỹ Lộc" in districts and len(districts) == 10
    result = read_file(_district_delivery(tmp_path / "tre_em.xlsx", districts, as_of), catalog.sources()["tre_em"], month)
    if read:
        assert not result.problems, [str(p) for p in result.problems]
        assert len({o["unit_code"] for o in result.observations if o["unit_kind"] == "district"}) == 10
    else:
        (problem,) = result.problems
        assert "Huyện Mỹ Lộc: merged into Thành phố Nam Định on 01/09/2024 (Nghị quyết 1104/NQ-UBTVQH15)" in problem.message


# ------------------------------------------------------------------ the generator

def _commit(repo, day: str, data: list, message: str):
    (repo / "data").mkdir(exist_ok=True)
    (repo / "data" / "dvhcvn.json").write_text(json.dumps({"data": data}, ensure_ascii=False), encoding="utf-8")
    (repo / "data" / "date.txt").write_text(day, encoding="utf-8")
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message],
                   check=True)


def _province(districts: dict[str, tuple[str, list[tuple[str, str]]]]) -> list:
    return [{"level1_id": "36", "name": "Tỉnh Nam Định", "level2s": [
        {"level2_id": code, "name": name, "level3s": [{"level3_id": c, "name": n} for c, n in communes]}
        for code, (name, communes) in districts.items()]}]


def test_the_generator_dates_each_version_by_the_list_that_first_shows_it(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location("gen", reference.config.REPO_DIR / "scripts" / "gen_unit_history.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    repo = tmp_path / "dvhcvn"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    _commit(repo, "01/11/2021", _province({"356": ("Thành phố Nam Định", [("13600", "Phường A")]),
                                           "358": ("Huyện Mỹ Lộc", [("13700", "Xã B"), ("13701", "Xã C")])}), "first")
    _commit(repo, "01/09/2024", _province({"356": ("Thành phố Nam Định", [("13600", "Phường A"), ("13700", "Phường B")])}),
            "Update 01/09/2024\n\n- 1104/NQ-UBTVQH15: Nghị quyết về việc sắp xếp ... của tỉnh Nam Định;\n"
            "- 1105/NQ-UBTVQH15: Nghị quyết về việc sắp xếp ... của tỉnh Sóc Trăng;\n")
    ref = tmp_path / "reference"
    ref.mkdir()
    (ref / "admin_units.csv").write_text(
        "kind,code,name_vi,province_code,parent_code,valid_from,valid_to\n"
        "province,36,Tỉnh Nam Định,36,,,2025-06-30\n"
        "district,356,Thành phố Nam Định,36,36,,2025-06-30\n"
        "commune,13600,Phường A,36,356,,2025-06-30\n"
        "commune,13700,Phường B,36,356,,2025-06-30\n", encoding="utf-8")
    (ref / "changes.csv").write_text("kind,code,name_vi,province_code,parent_code,valid_from,valid_to,became,"
                                     "effective_date,communes,basis\n", encoding="utf-8")
    rows, _ = gen.build(repo, ref)
    got = {(r["kind"], r["code"], r["name_vi"]): (r["valid_from"], r["valid_to"], r["change"], r["became"])
           for r in rows}
    assert got == {
        ("district", "358", "Huyện Mỹ Lộc"): ("", "2024-08-31", "merged", "356"),
        ("commune", "13700", "Xã B"): ("", "2024-08-31", "renamed", "13700"),
        ("commune", "13700", "Phường B"): ("2024-09-01", "2025-06-30", "began", ""),
        ("commune", "13701", "Xã C"): ("", "2024-08-31", "ended", ""),
    }
    basis = {r["basis"] for r in rows}
    assert basis == {"Nghị quyết 1104/NQ-UBTVQH15: Nghị quyết về việc sắp xếp ... của tỉnh Nam Định "
                     "(danh mục ĐVHC của Tổng cục Thống kê ngày 01/09/2024)"}


def test_a_commune_that_ended_names_the_resolution_though_the_list_does_not_say_what_took_it():
    (unit,) = [u for u in reference.units("commune", "37") if u.name_vi == "Phường Thanh Bình" and u.valid_to]
    assert (unit.unit_code, unit.valid_to, reference.successors(unit)) == ("14326", date(2024, 12, 31), [])
    assert UnitMatcher("commune", date(2025, 3, 15), "37").explain("Phường Thanh Bình") == (
        "Phường Thanh Bình: no longer a unit after 31/12/2024 (Nghị quyết 1318/NQ-UBTVQH15); not a unit in 2025-03")
