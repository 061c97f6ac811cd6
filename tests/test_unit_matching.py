"""UnitMatcher: commune names and codes as offices write them, units of another time or province refused
with the reason."""
import csv
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from p06 import reference
from p06.ingest.units import UnitMatcher

SAMPLES = Path("/work/shared/samples/raw")
JUL_2025 = date(2025, 7, 15)


@pytest.fixture(scope="module")
def communes():
    return UnitMatcher("commune", JUL_2025, province="38")


@pytest.mark.parametrize("written", ["Xã Mường Lát", "xã Mường Lát", "X. Mường Lát", "XÃ MƯỜNG LÁT", "xa muong lat",
                                     "X MUONG LAT", "Mường Lát", "14845 - Xã Mường Lát", "Xã Mường Lát (14845)"])
def test_muong_lat_however_written(communes, written):
    assert communes.by_name(written).unit_code == "14845"


@pytest.mark.parametrize("written", ["Phường Hạc Thành", "P. Hạc Thành", "P.Hạc Thành", "PHƯỜNG HẠC THÀNH",
                                     "phuong hac thanh", "Hạc Thành"])
def test_hac_thanh_however_written(communes, written):
    assert communes.by_name(written).name_vi == "Phường Hạc Thành"


def test_old_tone_placement_and_decomposed_unicode(communes):
    import unicodedata
    assert communes.by_name("Xã Hoằng Hoá").name_vi == "Xã Hoằng Hóa"
    assert communes.by_name(unicodedata.normalize("NFD", "Xã Hoằng Hóa")).name_vi == "Xã Hoằng Hóa"


@pytest.mark.parametrize("written, code", [
    ("Xã Đồng Tiến", "15724"), ("Phường Đông Tiến", "15853"), ("XA DONG TIEN", "15724"),
    ("P. Dong Tien", "15853"), ("Đồng Tiến", "15724"), ("Đông Tiến", "15853"),
    ("15724 - Xã Đồng Tiến", "15724"), ("Phường Đông Tiến (15853)", "15853"), ("15853 Dong Tien", "15853"),
])
def test_same_names_of_different_types_told_apart(communes, written, code):
    assert communes.by_name(written).unit_code == code


def test_a_name_two_units_share_matches_neither_and_says_so(communes):
    assert communes.by_name("Dong Tien") is None
    assert "Xã Đồng Tiến (15724) or Phường Đông Tiến (15853)" in communes.explain("Dong Tien")


@pytest.mark.parametrize("code", ["14758", 14758, 14758.0, " 14758 "])
def test_code_as_text_or_number(communes, code):
    assert communes.by_code(code).name_vi == "Phường Hàm Rồng"


def test_code_in_the_name_cell_must_agree_with_the_name(communes):
    assert communes.by_name("14758 - Phường Hàm Rồng").unit_code == "14758"
    assert communes.by_name("14758 - Phường Hạc Thành") is None
    assert "code 14758 is Phường Hàm Rồng" in communes.explain("14758 - Phường Hạc Thành")


def test_a_district_in_a_commune_month_is_refused_with_the_reform(communes):
    assert communes.by_name("Huyện Hoằng Hóa") is None and communes.by_name("H. Hoằng Hóa") is None
    why = communes.explain("Huyện Hoằng Hóa")
    assert why.startswith("Huyện Hoằng Hóa: districts were abolished on 01/07/2025; not a unit in 2025-07")
    assert "Xã Hoằng Hóa" in why


def test_dong_son_valid_in_2023_not_in_june_2025():
    assert UnitMatcher("district", date(2023, 9, 15), "38").by_name("Huyện Đông Sơn").unit_code == "405"
    june = UnitMatcher("district", date(2025, 6, 15), "38")
    assert june.by_name("Huyện Đông Sơn") is None and june.by_code("405") is None
    assert june.explain("Huyện Đông Sơn") == ("Huyện Đông Sơn: merged into Thành phố Thanh Hóa on 01/01/2025 (Nghị quyết 1238/NQ-UBTVQH15); "
                                             "not a unit in 2025-06")
    assert june.explain("405").startswith("Huyện Đông Sơn: merged into Thành phố Thanh Hóa")


@pytest.mark.parametrize("written, code", [("TP Thanh Hóa", "380"), ("TP. Thanh Hoá", "380"), ("H. Hoằng Hóa", "399"),
                                           ("TX Nghi Sơn", "407"), ("Quan Hóa", "385"), ("HUYEN QUAN SON", "387")])
def test_district_names_as_today(written, code):
    assert UnitMatcher("district", date(2025, 6, 15), "38").by_name(written).unit_code == code


def test_a_commune_of_another_province_is_refused_naming_it(communes):
    assert communes.by_name("Xã Hưng Nguyên") is None
    assert communes.explain("Xã Hưng Nguyên") == "Xã Hưng Nguyên (18001) is a unit of Tỉnh Nghệ An, not of Tỉnh Thanh Hóa"


def test_no_such_unit_describes_what_was_expected(communes):
    assert communes.explain("Phường Không Có") .startswith(
        "'Phường Không Có' matches no unit: expected one of the 166 commune units of Tỉnh Thanh Hóa in 2025-07")


def test_a_unit_not_yet_begun():
    assert UnitMatcher("district", date(2023, 9, 15), "38").explain("Xã Mường Lát") == (
        "Xã Mường Lát: a unit only from 01/07/2025; not a unit in 2023-09")


def _sample_commune_names() -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for path in sorted(SAMPLES.glob("2025-07/*/*.xlsx")):
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                for value in row[:3]:
                    if isinstance(value, str) and value.split()[0] in ("Xã", "Phường", "Đặc"):
                        names.setdefault(path.parent.name, set()).add(value)
        wb.close()
    return names


@pytest.mark.skipif(not SAMPLES.exists(), reason="the shared 2025 samples are not on this machine")
def test_every_commune_name_of_the_july_2025_samples_matches_exactly_one_unit(communes):
    names = _sample_commune_names()
    assert set(names) >= {"an_sinh", "bhxh", "ho_tich", "nguoi_co_cong", "tre_em", "vneid"}
    for source, written in names.items():
        matched = {communes.by_name(n) for n in written}
        assert None not in matched, (source, [n for n in written if communes.by_name(n) is None])
        assert len(matched) == len(written) == 166, source


@pytest.mark.skipif(not SAMPLES.exists(), reason="the shared 2025 samples are not on this machine")
def test_the_tax_units_of_the_july_2025_sample_are_declared():
    matcher = UnitMatcher("tax_unit", JUL_2025, "38")
    with open(next(SAMPLES.glob("2025-07/thue/*.csv")), encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh, delimiter=";"))[1:]
    assert [matcher.by_code(code).name_vi for code, *_ in rows] == [name for _, name, *_ in rows]


def test_a_second_province_built_from_the_unit_list(monkeypatch):
    monkeypatch.setenv("P06_PROVINCE", "40")
    nghe_an = UnitMatcher("commune", JUL_2025)
    units = reference.units("commune", "40", JUL_2025)
    assert len(nghe_an.units) == len(units) == 130
    for unit in units[::13]:
        base = unit.name_vi.split(" ", 1)[1]
        written = {"Xã": "X. ", "Phường": "P. "}.get(unit.name_vi.split()[0], "") + base
        assert nghe_an.by_name(written.upper()) == unit or nghe_an.by_name(unit.name_vi.upper()) == unit
        assert nghe_an.by_code(int(unit.unit_code)) == unit
    assert nghe_an.by_name("Xã Mường Lát") is None
    assert nghe_an.explain("Xã Mường Lát") == "Xã Mường Lát (14845) is a unit of Tỉnh Thanh Hóa, not of Tỉnh Nghệ An"
    with pytest.raises(reference.UndeclaredUnitKind, match="catalog/provinces/40/units.csv"):
        UnitMatcher("tax_office", JUL_2025)          # Nghệ An declares its tax units only


def test_a_district_matcher_after_the_reform_says_districts_are_gone():
    matcher = UnitMatcher("district", JUL_2025, "38")
    assert matcher.units == []
    assert matcher.describe() == ("units of a kind that exists in 2025-07 (there are no district units of Tỉnh Thanh Hóa "
                                  "in 2025-07; districts were abolished on 01/07/2025)")
    assert matcher.explain("Phường Hàm Rồng").startswith(
        "Phường Hàm Rồng (14758) is a commune unit, but this delivery's rows are expected to be district units")


def test_a_name_written_with_the_wrong_type_names_the_unit_of_that_name():
    """'Xã Hàm Rồng' for Phường Hàm Rồng: not 'a unit of Cà Mau' but the province's own unit of that name."""
    m = UnitMatcher("commune", date(2025, 7, 15))
    assert m.by_name("Xã Hàm Rồng") is None
    assert "has Phường Hàm Rồng (14758)" in m.explain("Xã Hàm Rồng")


@pytest.mark.parametrize("name, code", [("Thuế cơ sở 01", "TCS01"), ("Thuế cơ sở số 3", "TCS03"),
                                        ("THUE CO SO 10", "TCS10"), ("Thuế cơ sở 1 tỉnh Thanh Hóa", "TCS01")])
def test_tax_units_as_offices_write_them(name, code):
    unit = UnitMatcher("tax_unit", date(2025, 7, 15)).by_name(name)
    assert unit is not None and unit.unit_code == code


def test_an_old_tax_office_in_a_tax_unit_month_says_when_it_ended():
    message = UnitMatcher("tax_unit", date(2025, 7, 15)).explain("Chi cục Thuế thành phố Thanh Hóa")
    assert message.startswith("Chi cục Thuế thành phố Thanh Hóa: no longer a unit after 30/06/2025")
    assert "expected to be tax units" in UnitMatcher("tax_unit", date(2025, 7, 15)).explain("Xã Mường Lát")
