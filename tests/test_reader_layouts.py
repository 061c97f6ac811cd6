"""The reader on layouts the samples do not show: small workbooks and CSVs built here, read as the pipeline does."""
from __future__ import annotations

import csv
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from p06 import catalog
from p06.ingest.reader import FileRead, read_file

SOURCES = catalog.sources()
TRE_EM_HEADER = ["STT", "Huyện/thị xã/thành phố", "Tổng số trẻ em", "Số trẻ em đã cập nhật, chuẩn hóa", "Tỷ lệ"]
TRE_EM_ROWS = [
    [1, "Thành phố Thanh Hóa", 129092, 112024, 0.8678],
    [2, "Thị xã Bỉm Sơn", 16494, 13478, 0.8171],
    [3, "Huyện Mường Lát", 10666, 8253, 0.7738],
]
AS_OF_TITLE = "(Số liệu tính đến ngày 15/9/2023)"


@dataclass
class Sheet:
    rows: list[list]
    title: str = "Dữ liệu"
    merged: list[str] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)


def write_xlsx(path: Path, *sheets: Sheet) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for spec in sheets:
        ws = wb.create_sheet(spec.title)
        for row in spec.rows:
            ws.append(row)
        for rng in spec.merged:
            ws.merge_cells(rng)
        for ref, fmt in spec.formats.items():
            ws[ref].number_format = fmt
    wb.save(path)
    return path


def write_csv(path: Path, rows: list[list], delimiter: str, bom: bool) -> Path:
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path


def figures(read: FileRead) -> dict[tuple[str, str], dict]:
    """Observations by (unit code, measure)."""
    assert not read.problems, "\n".join(map(str, read.problems))
    found = {(o["unit_code"], o["measure"]): o for o in read.observations}
    assert len(found) == len(read.observations), "one figure per unit and measure"
    return found


def values(read: FileRead, measure: str) -> dict[str, float | None]:
    return {code: o["value"] for (code, m), o in figures(read).items() if m == measure}


def tre_em_sheet(title_rows=(["KẾT QUẢ CẬP NHẬT DỮ LIỆU TRẺ EM"], [AS_OF_TITLE], []), header=TRE_EM_HEADER,
                 rows=TRE_EM_ROWS, **kw) -> Sheet:
    return Sheet([list(r) for r in title_rows] + [list(header)] + [list(r) for r in rows], **kw)


# ---------------------------------------------------------------- titles, headers, columns


@pytest.mark.parametrize("merged_titles", [False, True])
@pytest.mark.parametrize("gap_row", [False, True])
def test_title_lines_above_the_header_and_the_as_of_date(tmp_path, merged_titles, gap_row):
    titles = [["SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI"], ["KẾT QUẢ CẬP NHẬT DỮ LIỆU TRẺ EM"], [AS_OF_TITLE]]
    if gap_row:
        titles.append([])
    merged = [f"A{i}:E{i}" for i in (1, 2, 3)] if merged_titles else []
    path = write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(titles, merged=merged))
    read = read_file(path, SOURCES["tre_em"], "2023-09")
    header_row = len(titles) + 1
    assert read.as_of_date == date(2023, 9, 15)
    assert [(t.sheet, t.header_row) for t in read.tables] == [("Dữ liệu", header_row)]
    assert values(read, "children") == {"380": 129092, "381": 16494, "384": 10666}
    first = header_row + 1
    assert figures(read)[("380", "children_updated")]["cell"] == f"D{first}"
    assert all(o["as_of_date"] == date(2023, 9, 15) for o in read.observations)


@pytest.mark.parametrize("title", [
    "Số liệu tính đến ngày 15 tháng 9 năm 2023",
    "SO LIEU TINH DEN NGAY 15/09/2023",
    "Tính đến 15-9-2023",
    "(Số liệu tính đến hết ngày 15/9/2023)",
    "Số liệu tính từ ngày 01/01/2023 đến hết ngày 15/9/2023",
])
def test_as_of_date_wordings(tmp_path, title):
    path = write_xlsx(tmp_path / "t.xlsx", tre_em_sheet((["Báo cáo"], [title])))
    assert read_file(path, SOURCES["tre_em"], "2023-09").as_of_date == date(2023, 9, 15)


VNEID_ROWS = [
    [1, "Thành phố Thanh Hóa", 399303, 193087, 305859, 198724, 1.0292],
    [2, "Thị xã Bỉm Sơn", 59053, 26270, 31379, 20087, 0.7646],
    [None, "Tổng cộng", 458356, 219357, 337238, 218811, 0.9975],
]


def test_two_row_header_with_merged_group_cells(tmp_path):
    rows = [["CÔNG AN TỈNH"], [AS_OF_TITLE], [],
            ["STT", "Đơn vị", "Hồ sơ CCCD gắn chip đã thu nhận", "Tài khoản định danh điện tử", None, None, None],
            [None, None, None, "Chỉ tiêu giao", "Hồ sơ đã thu nhận", "Đã kích hoạt", "Tỷ lệ kích hoạt/chỉ tiêu (%)"],
            *VNEID_ROWS]
    sheet = Sheet(rows, merged=["A4:A5", "B4:B5", "C4:C5", "D4:G4"], formats={f"G{r}": "0.00%" for r in (6, 7, 8)})
    read = read_file(write_xlsx(tmp_path / "v.xlsx", sheet), SOURCES["vneid"], "2023-09")
    got = figures(read)
    assert read.tables[0].header_row == 4
    assert {m for _, m in got} == {m.id for m in SOURCES["vneid"].measures}
    assert got[("380", "eid_target")]["value"] == 193087 and got[("380", "eid_target")]["cell"] == "D6"
    assert got[("381", "eid_applications")]["value"] == 31379
    assert got[("38", "eid_activated")]["value"] == 218811 and got[("38", "eid_activated")]["stated"]
    assert (got[("381", "eid_activated_target_ratio")]["value"], got[("381", "eid_activated_target_ratio")]["decimals"]) == (0.7646, 2)


def test_two_row_header_with_group_written_once(tmp_path):
    rows = [["STT", "Đơn vị", "Hồ sơ CCCD gắn chip đã thu nhận", "Tài khoản định danh điện tử", None, None, None],
            [None, None, None, "Chỉ tiêu giao", "Hồ sơ đã thu nhận", "Đã kích hoạt", "Tỷ lệ kích hoạt/chỉ tiêu (%)"],
            *VNEID_ROWS]
    read = read_file(write_xlsx(tmp_path / "v.xlsx", Sheet(rows)), SOURCES["vneid"])
    assert values(read, "eid_applications") == {"380": 305859, "381": 31379, "38": 337238}


def test_one_row_header_with_leaf_aliases(tmp_path):
    rows = [["STT", "Đơn vị", "Hồ sơ CCCD gắn chip đã thu nhận", "Chỉ tiêu giao", "Hồ sơ định danh điện tử đã thu nhận",
             "Đã kích hoạt", "Tỷ lệ (%)"], *VNEID_ROWS]
    read = read_file(write_xlsx(tmp_path / "v.xlsx", Sheet(rows)), SOURCES["vneid"])
    got = figures(read)
    assert read.tables[0].header_row == 1
    assert got[("380", "chip_id_applications")]["value"] == 399303
    assert got[("380", "eid_applications")]["value"] == 305859
    assert got[("381", "eid_activated_target_ratio")]["value"] == 0.7646


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


def ascii_upper(s: str) -> str:
    stripped = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
    return stripped.replace("đ", "d").replace("Đ", "D").upper()


def old_tones(s: str) -> str:
    return s.replace("hóa", "hoá").replace("Hóa", "Hoá").replace("Thủy", "Thuỷ")


@pytest.mark.parametrize("spell", [ascii_upper, nfd, old_tones, str.upper, lambda s: f"  {s.replace(' ', '   ')}\n"],
                         ids=["upper-ascii", "nfd", "old-tones", "upper", "spaces"])
def test_header_and_unit_spellings(tmp_path, spell):
    header = [spell(h) for h in TRE_EM_HEADER]
    rows = [[n, spell(name), *rest] for n, name, *rest in TRE_EM_ROWS]
    read = read_file(write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(header=header, rows=rows)), SOURCES["tre_em"])
    assert values(read, "children_updated") == {"380": 112024, "381": 13478, "384": 8253}


def test_columns_in_another_order_with_blank_and_note_columns(tmp_path):
    header = ["Tỷ lệ (%)", None, "Số trẻ em đã cập nhật", "Ghi chú", "Đơn vị", "Tổng số trẻ em", "STT"]
    rows = [[0.8678, None, 112024, "đã rà soát", "TP Thanh Hóa", 129092, 1],
            [0.8171, None, 13478, None, "TX Bỉm Sơn", 16494, 2]]
    read = read_file(write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(header=header, rows=rows)), SOURCES["tre_em"])
    got = figures(read)
    assert got[("380", "children")]["value"] == 129092 and got[("380", "children")]["cell"] == "F5"
    assert got[("381", "children_updated")]["value"] == 13478 and got[("381", "children_updated")]["cell"] == "C6"
    assert got[("380", "children_updated_ratio")]["cell"] == "A5"
    assert {m for _, m in got} == {"children", "children_updated", "children_updated_ratio"}


def test_instruction_sheet_before_the_data_sheet(tmp_path):
    guide = Sheet([["HƯỚNG DẪN ĐIỀN BIỂU MẪU"], ["Cột C: Tổng số trẻ em"], ["Số liệu tính đến ngày 15/8/2023 (ví dụ)"],
                   ["Đơn vị", "Ghi chú"], ["Thành phố Thanh Hóa", 1]], title="Hướng dẫn")
    path = write_xlsx(tmp_path / "t.xlsx", guide, tre_em_sheet(title="Số liệu"))
    read = read_file(path, SOURCES["tre_em"], "2023-09")
    assert [t.sheet for t in read.tables] == ["Số liệu"]
    assert read.as_of_date == date(2023, 9, 15)
    assert {o["sheet"] for o in read.observations} == {"Số liệu"}
    assert values(read, "children")["380"] == 129092


# ---------------------------------------------------------------- CSV


@pytest.mark.parametrize("delimiter", [",", ";"])
@pytest.mark.parametrize("bom", [False, True])
def test_csv_delimiters_and_bom(tmp_path, delimiter, bom):
    rows = [["Mã CQT", "Tên cơ quan thuế", "Tổng số MST cá nhân cần rà soát", "Số MST khớp đúng", "Số MST chưa khớp đúng"],
            ["CCT01", "Chi cục Thuế thành phố Thanh Hóa", "300.278", "227.303", "72.975"],
            ["CCT02", "Chi cục Thuế khu vực Bỉm Sơn - Hà Trung", 108624, 87176, 21448],
            ["", "Tổng cộng", "408.902", "314.479", "94.423"]]
    path = write_csv(tmp_path / "thue.csv", rows, delimiter, bom)
    read = read_file(path, SOURCES["thue"])
    got = figures(read)
    assert got[("CCT01", "tax_ids_to_review")]["value"] == 300278
    assert got[("CCT02", "tax_ids_unmatched")]["value"] == 21448
    assert got[("38", "tax_ids_matched")]["value"] == 314479 and got[("38", "tax_ids_matched")]["stated"]
    assert got[("CCT01", "tax_ids_matched")]["cell"] == "D2"


def test_csv_with_a_title_line_vietnamese_decimal_commas_and_semicolons(tmp_path):
    rows = [["Kết quả cập nhật dữ liệu trẻ em (số liệu tính đến ngày 15/9/2023)"],
            ["STT", "Huyện, thị xã, thành phố", "Tổng số trẻ em", "Số trẻ em đã cập nhật, chuẩn hóa", "Tỷ lệ (%)"],
            [1, "TP Thanh Hóa", "129.092", "112.024", "86,78%"],
            [2, "TX Bỉm Sơn", "16.494", "13.478", "81,71%"]]
    read = read_file(write_csv(tmp_path / "t.csv", rows, ";", True), SOURCES["tre_em"], "2023-09")
    got = figures(read)
    assert read.as_of_date == date(2023, 9, 15)
    assert got[("380", "children")]["value"] == 129092 and got[("380", "children")]["cell"] == "C3"
    assert (got[("381", "children_updated_ratio")]["value"], got[("381", "children_updated_ratio")]["decimals"]) == (0.8171, 2)


# ---------------------------------------------------------------- numbers and ratios


def test_numbers_as_numbers_and_as_vietnamese_text(tmp_path):
    rows = [[1, "TP Thanh Hóa", "3.421.346", 112024.0, None], [2, "TX Bỉm Sơn", 3421346, " 13.478 ", None]]
    read = read_file(write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(rows=rows)), SOURCES["tre_em"])
    assert values(read, "children") == {"380": 3421346, "381": 3421346}
    assert values(read, "children_updated") == {"380": 112024, "381": 13478}


RATIO_FORMS = {
    "fraction": (0.962, None, 1),
    "fraction-text": ("0,962", None, 1),
    "percent-points": (96.2, None, 1),
    "percent-points-text": ("96,2", None, 1),
    "percent-text": ("96,20%", None, 2),
    "percent-format": (0.962, "0.00%", 2),
    "percent-format-one-decimal": (0.962, "0.0%", 1),
    "text-in-percent-formatted-cell": ("96,20", "0.00%", 2),
    "percent-points-literal-percent-sign": (96.2, '0.00"%"', 2),
    "percent-points-two-decimals-format": (96.2, "0.00", 2),
    "fraction-four-decimals-format": (0.962, "0.0000", 2),
}


@pytest.mark.parametrize("form", RATIO_FORMS)
def test_ratios_are_stored_as_fractions_with_their_decimals(tmp_path, form):
    raw, number_format, decimals = RATIO_FORMS[form]
    rows = [[1, "TP Thanh Hóa", 1000, 962, raw], [2, "TX Bỉm Sơn", 2000, 1924, raw]]
    formats = {f"E{r}": number_format for r in (5, 6)} if number_format else {}
    read = read_file(write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(rows=rows, formats=formats)), SOURCES["tre_em"])
    got = figures(read)
    for code in ("380", "381"):
        ratio = got[(code, "children_updated_ratio")]
        assert (ratio["value"], ratio["decimals"], ratio["stated"]) == (0.962, decimals, True)
        assert got[(code, "children_updated")]["stated"] is False


def test_ratio_scale_without_parts_on_the_row(tmp_path):
    """Where the parts are blank, the column's own values decide: all at most 2 -> fractions."""
    rows = [[1, "TP Thanh Hóa", None, None, 0.9], [2, "TX Bỉm Sơn", 100, 81, 0.81]]
    read = read_file(write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(rows=rows)), SOURCES["tre_em"])
    assert values(read, "children_updated_ratio") == {"380": 0.9, "381": 0.81}


def test_blank_cells_are_null_not_zero(tmp_path):
    rows = [[1, "TP Thanh Hóa", 129092, None, None], [2, "TX Bỉm Sơn", 0, "-", 0]]
    read = read_file(write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(rows=rows)), SOURCES["tre_em"])
    got = figures(read)
    assert got[("380", "children_updated")]["value"] is None and got[("380", "children_updated")]["cell"] == "D5"
    assert got[("380", "children_updated_ratio")]["value"] is None
    assert got[("381", "children")]["value"] == 0
    assert got[("381", "children_updated")]["value"] is None     # a dash is "nothing to report"


def test_a_fractional_count_is_a_problem(tmp_path):
    """3.421 in a number cell is 3421 typed with the Vietnamese thousands dot and read as a decimal."""
    rows = [[1, "TP Thanh Hóa", 3.421, 3000, None], [2, "TX Bỉm Sơn", 16494, 13478, None]]
    read = read_file(write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(rows=rows)), SOURCES["tre_em"])
    (problem,) = read.problems
    assert (problem.file, problem.sheet, problem.row, problem.column) == ("t.xlsx", "Dữ liệu", 5, "C")
    assert "3.421" in problem.message and "not a whole number" in problem.message
    assert "count" in problem.expected
    assert "row 5, column C (Tổng số trẻ em)" in str(problem)


# ---------------------------------------------------------------- total rows, groups, unit names


@pytest.mark.parametrize("label", ["Tổng cộng", "Toàn tỉnh", "Cộng", "Tổng", "TONG CONG"])
@pytest.mark.parametrize("position", ["first", "last", "absent"])
def test_total_rows(tmp_path, label, position):
    total = [None, label, 155252, 133755, 0.8615]
    rows = {"first": [total, *TRE_EM_ROWS], "last": [*TRE_EM_ROWS, total], "absent": TRE_EM_ROWS}[position]
    read = read_file(write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(rows=rows)), SOURCES["tre_em"])
    got = figures(read)
    province = {m: o for (code, m), o in got.items() if code == "38"}
    if position == "absent":
        assert province == {}
    else:
        assert {m: o["value"] for m, o in province.items()} == {"children": 155252, "children_updated": 133755,
                                                                 "children_updated_ratio": 0.8615}
        assert all(o["stated"] and o["unit_kind"] == "province" for o in province.values())
        assert province["children"]["cell"] == ("C5" if position == "first" else "C8")
    units = [o for (code, _), o in got.items() if code != "38"]
    assert {o["unit_kind"] for o in units} == {"district"}
    assert {o["unit_code"] for o in units} == {"380", "381", "384"}
    assert not any(o["stated"] for o in units if o["measure"] != "children_updated_ratio")


def test_appendix_iii_department_rows_label_the_services_below(tmp_path):
    header = [["STT", "Dịch vụ công trực tuyến", "Kết nối với Cổng DVC quốc gia",
               "Tổng số hồ sơ (bao gồm cả trực tiếp và trực tuyến)", None, None,
               "Tình hình xử lý hồ sơ trực tuyến", None, "Khó khăn, vướng mắc"],
              [None, None, None, "Tổng hồ sơ", "Trực tuyến", "Tỷ lệ", "Đúng hạn", "Quá hạn", None]]
    body = [[None, "Sở Lao động – Thương binh và Xã hội"],
            [1, "Thăm viếng mộ liệt sĩ: cấp giấy giới thiệu; chi hỗ trợ thăm viếng mộ liệt sĩ", "Đã kết nối", 47, 4, "8,5%", 47, 0],
            [None, "SỞ Y TẾ"],
            [5, "Liên thông cấp chứng chỉ hành nghề khám bệnh, chữa bệnh/hành nghề dược và cấp phiếu lý lịch tư pháp",
             "Chưa kết nối", None, None, None, None, None, "Bộ Y tế chưa có hướng dẫn triển khai thực hiện"]]
    sheet = Sheet([["PHỤ LỤC III"], [AS_OF_TITLE], [], *header, *body], title="Phụ lục III",
                  merged=["A4:A5", "B4:B5", "C4:C5", "D4:F4", "G4:H4", "I4:I5"])
    read = read_file(write_xlsx(tmp_path / "dvc.xlsx", sheet), SOURCES["dvc"], "2023-09")
    got = figures(read)
    assert {o["group_label"] for (code, _), o in got.items() if code == "PL3-01"} == {"Sở Lao động – Thương binh và Xã hội"}
    assert {o["group_label"] for (code, _), o in got.items() if code == "PL3-05"} == {"SỞ Y TẾ"}
    assert got[("PL3-01", "dvc_dossiers_total")]["value"] == 47 and got[("PL3-01", "dvc_dossiers_total")]["cell"] == "D7"
    assert (got[("PL3-01", "dvc_online_ratio")]["value"], got[("PL3-01", "dvc_online_ratio")]["decimals"]) == (0.085, 1)
    assert got[("PL3-01", "dvc_connected")]["value_text"] == "Đã kết nối"
    assert got[("PL3-05", "dvc_dossiers_total")]["value"] is None
    assert got[("PL3-05", "dvc_difficulties")]["value_text"] == "Bộ Y tế chưa có hướng dẫn triển khai thực hiện"
    assert {code for code, _ in got} == {"PL3-01", "PL3-05"}


UNIT_SPELLINGS = {
    "TP. Thanh Hoá": "380", "H. Hoằng Hóa": "399", "TX Nghi Sơn": "407", "THỊ XÃ BỈM SƠN": "381",
    "thanh pho sam son": "382", "HUYEN QUAN HOA": "385", "Cẩm Thuỷ": "390", "huyện  Đông   Sơn": "405",
    "TX. Bỉm Sơn ": "381",
}


@pytest.mark.parametrize("name", UNIT_SPELLINGS)
def test_unit_name_spellings(tmp_path, name):
    rows = [[1, name, 100, 50, 0.5]]
    read = read_file(write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(rows=rows)), SOURCES["tre_em"])
    (code,) = {o["unit_code"] for o in read.observations}
    assert code == UNIT_SPELLINGS[name]
    assert not read.problems


def test_unit_code_column_is_used_for_matching(tmp_path):
    header = ["STT", "Mã ĐVHC", "Tên đơn vị hành chính", "Tổng số trường hợp trong sổ hộ tịch cần nhập",
              "Số trường hợp đã nhập vào CSDLQG về dân cư", None, None, None, None, "Tỷ lệ (%)"]
    leaves = [None, None, None, None, "Khai sinh", "Kết hôn", "Khai tử", "Nuôi con nuôi", "Tổng số", None]
    numbers = ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)", "(8)", "(9)", "(10)"]
    body = [[1, "380", "TP Thanh Hóa (cũ)", 245159, 35340, 1813, 1199, 4, 38356, 0.1565],
            [2, 381.0, None, 31920, 4211, 226, 158, 0, 4595, 0.144],
            [None, 38, None, 277079, 39551, 2039, 1357, 4, 42951, 0.155]]
    sheet = Sheet([[AS_OF_TITLE], header, leaves, numbers, *body],
                  merged=["A2:A3", "B2:B3", "C2:C3", "D2:D3", "E2:I2", "J2:J3"])
    read = read_file(write_xlsx(tmp_path / "ht.xlsx", sheet), SOURCES["ho_tich"], "2023-09")
    got = figures(read)
    assert got[("380", "civil_entered_birth")]["value"] == 35340 and got[("380", "civil_entered_birth")]["cell"] == "E5"
    assert got[("381", "civil_entered_total")]["value"] == 4595
    assert got[("38", "civil_entered_total")]["value"] == 42951 and got[("38", "civil_entered_total")]["stated"]
    assert got[("380", "civil_entered_ratio")]["decimals"] == 2


def test_code_and_name_of_different_units_is_a_problem(tmp_path):
    header = ["Mã ĐVHC", "Tên đơn vị hành chính", "Tổng số trẻ em", "Số trẻ em đã cập nhật"]
    sheet = Sheet([header, ["380", "Huyện Hoằng Hóa", 10, 5]])
    (problem,) = read_file(write_xlsx(tmp_path / "t.xlsx", sheet), SOURCES["tre_em"]).problems
    assert (problem.row, problem.column) == (2, "B")
    assert "380" in problem.message and "Hoằng Hóa" in problem.message


def test_lineage_cells(tmp_path):
    """Every figure names the cell it came from, so D12 holds what the observation says."""
    rows = [[i + 1, name, 1000 + i, 500 + i, None] for i, name in enumerate(
        ["TP Thanh Hóa", "TX Bỉm Sơn", "TP Sầm Sơn", "Mường Lát", "Quan Hóa", "Bá Thước", "Quan Sơn", "Lang Chánh"])]
    path = write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(rows=rows))
    read = read_file(path, SOURCES["tre_em"])
    ws = openpyxl.load_workbook(path).active
    (at_d12,) = [o for o in read.observations if o["cell"] == "D12"]
    assert (at_d12["unit_code"], at_d12["measure"], at_d12["value"]) == ("388", "children_updated", ws["D12"].value)
    for o in read.observations:
        assert o["row"] == int(o["cell"][1:])
        if o["value"] is not None:
            assert ws[o["cell"]].value == o["value"]


# ---------------------------------------------------------------- deliveries that must not pass silently


def test_a_table_without_rows_is_a_problem(tmp_path):
    """A template sent back with its header but no rows must not replace last month's load with nothing."""
    read = read_file(write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(rows=[])), SOURCES["tre_em"], "2023-09")
    (problem,) = read.problems
    assert (problem.file, problem.sheet, problem.row) == ("t.xlsx", "Dữ liệu", 5)
    assert "no rows" in problem.message and "unit" in problem.expected


def test_a_unit_row_without_a_name_is_not_taken_for_column_numbers(tmp_path):
    """Small figures in a row whose name is blank are still figures: the row is reported, not skipped."""
    rows = [[1, "TP Thanh Hóa", 10, 5, None], [2, None, 12, 6, None]]
    read = read_file(write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(rows=rows)), SOURCES["tre_em"])
    (problem,) = read.problems
    assert (problem.row, problem.column) == (6, "B") and "no unit name" in problem.message


@pytest.mark.parametrize("numbers", [["(1)", "(2)", "(3)", "(4)", "(5)"], [1, 2, 3, 4, 5],
                                     ["A", "B", "1", "2", "3=2/1"], ["A", "B", "(1)", "(2)", "(3) = (2)/(1)"]])
def test_column_number_rows_under_the_header(tmp_path, numbers):
    read = read_file(write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(rows=[numbers, *TRE_EM_ROWS])), SOURCES["tre_em"])
    assert values(read, "children") == {"380": 129092, "381": 16494, "384": 10666}


def test_the_folder_month_sets_the_units_when_the_title_has_no_date(tmp_path):
    """Đông Sơn (405) merged into Thanh Hóa city on 01/01/2025: a 2025 delivery without a cut-off date in its
    title must not list it, as one with the date must not."""
    rows = [[1, "Huyện Đông Sơn", 10, 5, 0.5]]
    path = write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(title_rows=[["Báo cáo"]], rows=rows))
    (problem,) = read_file(path, SOURCES["tre_em"], "2025-03").problems
    assert (problem.row, problem.column) == (3, "B")
    assert "Huyện Đông Sơn: merged into Thành phố Thanh Hóa on 01/01/2025 (Nghị quyết 1238/NQ-UBTVQH15); not a unit in 2025-03" in problem.message
    assert not read_file(path, SOURCES["tre_em"], "2023-09").problems


def test_a_formula_without_a_saved_value_is_a_problem(tmp_path):
    """A workbook written by a program that stores formulas without their results (openpyxl, some exports)
    reads as blank cells: the figure would be silently missing."""
    rows = [*TRE_EM_ROWS, [None, "Tổng cộng", "=SUM(C5:C7)", 133755, 0.8615]]
    read = read_file(write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(rows=rows)), SOURCES["tre_em"], "2023-09")
    (problem,) = read.problems
    assert (problem.sheet, problem.row, problem.column) == ("Dữ liệu", 8, "C")
    assert "=SUM(C5:C7)" in problem.message and "saved" in problem.expected


def with_cached_results(path: Path, results: dict[str, str]) -> Path:
    """The workbook with the formula cells of `results` given a stored result, as Excel saves them:
    a cell ref -> the XML of its value (e.g. '<v>0.5</v>', or 't="str"' + '<v></v>' for an empty text)."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    for ref, result in results.items():
        attrs, value = result.split("|") if "|" in result else ("", result)
        # openpyxl writes an empty <v/>, or <v></v> when lxml is installed (python-docx needs it)
        xml = re.sub(rf'<c r="{ref}"([^>]*)><f>(.*?)</f>(?:<v\s*/>|<v></v>)', rf'<c r="{ref}"\1 {attrs}><f>\2</f>{value}', xml)
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def test_formulas_with_saved_values_read_as_their_values(tmp_path):
    rows = [[1, "TP Thanh Hóa", 100, 50, "=D5/C5"], [2, "TX Bỉm Sơn", 0, 0, '=IF(C6=0,"",D6/C6)']]
    path = with_cached_results(write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(rows=rows)),
                               {"E5": "<v>0.5</v>", "E6": 't="str"|<v></v>'})
    assert values(read_file(path, SOURCES["tre_em"]), "children_updated_ratio") == {"380": 0.5, "381": None}


def test_a_unit_column_headed_otherwise_is_found_by_its_contents(tmp_path):
    """'Tên địa phương' is no declared unit heading, but its cells are the districts: read, and said so."""
    header = ["STT", "Tên địa phương", *TRE_EM_HEADER[2:]]
    read = read_file(write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(header=header)), SOURCES["tre_em"], "2023-09")
    assert values(read, "children") == {"380": 129092, "381": 16494, "384": 10666}
    assert any("found by its contents" in n and "Tên địa phương" in n for n in read.all_notes())


def test_a_header_without_a_unit_column_is_named_where_it_is(tmp_path):
    """Measures found but no column headed or filled with units: the message points at the header row."""
    header = ["STT", "Tên xã", *TRE_EM_HEADER[2:]]
    rows = [[i, f"Thôn {i}", *r[2:]] for i, r in enumerate(TRE_EM_ROWS, 1)]
    read = read_file(write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(header=header, rows=rows)), SOURCES["tre_em"], "2023-09")
    (problem,) = read.problems
    assert (problem.sheet, problem.row) == ("Dữ liệu", 4)
    assert "no column of unit names or codes" in problem.message and "Tổng số trẻ em" in problem.message
    assert "'Đơn vị'" in problem.expected and "catalog/common.yaml" in problem.expected


def test_semicolon_csv_with_decimal_commas_is_split_on_semicolons(tmp_path):
    """More commas than semicolons (decimal commas, commas in names) must not fool the delimiter choice."""
    from p06.ingest.workbook import open_grids
    path = tmp_path / "thue.csv"
    path.write_text('Tên cơ quan thuế;Tỷ lệ (%)\n"Chi cục Thuế khu vực Bỉm Sơn, Hà Trung";"80,25"\n'
                    '"Chi cục Thuế khu vực Sầm Sơn, Quảng Xương";"78,75"\n', encoding="utf-8")
    (grid,) = open_grids(path)
    assert grid.rows[1] == ["Chi cục Thuế khu vực Bỉm Sơn, Hà Trung", "80,25"]


def test_a_misspelt_field_in_a_source_declaration_is_refused(tmp_path):
    from p06.catalog import _source_from
    path = tmp_path / "x.yaml"
    path.write_text("source: x\ndepartment_vi: a\ndepartment_en: b\nunit_kind: district\nmeasures:\n"
                    "  - {id: m, label_vi: a, label_en: b, kind: count, requried: true, headers: [A]}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"x\.yaml: measures\[0\] \(m\)\.requried: unknown field"):
        _source_from(path)


def test_a_unit_of_measure_flattened_into_the_header(tmp_path):
    """'Tổng số trẻ em - (người)': the unit of measure written after the header, as a Hồ Chí Minh City
    template did (tried by hand with P06_PROVINCE=79)."""
    header = ["STT", "Huyện/thị xã/thành phố", "Tổng số trẻ em - (người)", "Số trẻ em đã cập nhật, chuẩn hóa (người)", "Tỷ lệ"]
    read = read_file(write_xlsx(tmp_path / "t.xlsx", tre_em_sheet(header=header)), SOURCES["tre_em"], "2023-09")
    assert values(read, "children") == {"380": 129092, "381": 16494, "384": 10666}
    assert values(read, "children_updated") == {"380": 112024, "381": 13478, "384": 8253}
