"""Tests for p06.vntext: Vietnamese text keys and number parsing/formatting."""

import math
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from p06.vntext import (
    NumberFormatError,
    ParsedNumber,
    canonical_text,
    format_number,
    format_percent,
    match_key,
    parse_number,
)

NFD = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731
MISSING = ParsedNumber(None, None, False)

# ------------------------------------------------------------ canonical_text


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Thanh Hoá", "Thanh Hóa"),
        ("Cẩm Thuỷ", "Cẩm Thủy"),
        ("Hoà", "Hòa"),
        ("hoà bình", "hòa bình"),
        ("Khoẻ", "Khỏe"),
        ("Uỷ ban", "Ủy ban"),
        ("THANH HOÁ", "THANH HÓA"),
        ("hoạ sĩ", "họa sĩ"),
        ("Hoàng", "Hoàng"),  # final consonant: tone stays on the 2nd vowel
        ("Thuyết", "Thuyết"),
        ("khuyết", "khuyết"),
        ("ngoài", "ngoài"),  # oai is not oa
        ("khuỷu", "khuỷu"),  # uyu is not uy
        ("Quý", "Quý"),  # "qu" is a consonant
        ("Qúy", "Quý"),
        ("Hòa", "Hòa"),
        (NFD("Thanh Hoá"), "Thanh Hóa"),
        ("  Sở\u00a0Y tế\t\n Hà  Nội ", "Sở Y tế Hà Nội"),
        (None, ""),
        (2024, "2024"),
    ],
)
def test_canonical_text(raw, expected):
    assert canonical_text(raw) == expected
    assert unicodedata.is_normalized("NFC", canonical_text(raw))


@given(st.text())
def test_canonical_text_idempotent(s):
    assert canonical_text(canonical_text(s)) == canonical_text(s)


# ----------------------------------------------------------------- match_key


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Tỷ lệ (%)", "ti le"),
        ("TP. Thanh Hoá", "tp thanh hoa"),
        ("tp thanh hóa", "tp thanh hoa"),
        ("Đắk Lắk", "dak lak"),
        (NFD("Quảng   Trị"), "quang tri"),
        ("Số_hồ sơ / tháng", "so ho so thang"),
        ("--", ""),
        (None, ""),
    ],
)
def test_match_key(raw, expected):
    assert match_key(raw) == expected


VI_LETTERS = "aăâbcdđeêghiklmnoôơpqrstuưvxy" + "àáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
vi_text = st.text(alphabet=VI_LETTERS + VI_LETTERS.upper() + "0123456789 .,%()-_/\t\u00a0")


@given(st.text())
def test_match_key_idempotent_and_normalization_blind(s):
    key = match_key(s)
    assert match_key(key) == key
    assert match_key(NFD(s)) == match_key(unicodedata.normalize("NFC", s)) == key


@given(vi_text)
def test_match_key_case_blind(s):
    assert match_key(s.upper()) == match_key(s.lower()) == match_key(s)


# -------------------------------------------------------------- parse_number


def test_the_3421_trap():
    assert parse_number("3.421").value == 3421
    assert parse_number(3.421).value == 3.421  # a float cell is a true number
    assert parse_number("3,421").value == 3.421


@pytest.mark.parametrize(
    "raw, expected",
    [
        # dots only
        ("3.421", ParsedNumber(3421.0, 0, False)),
        ("3.421.346", ParsedNumber(3421346.0, 0, False)),
        ("91.4", ParsedNumber(91.4, 1, False)),
        ("0.962", ParsedNumber(0.962, 3, False)),
        ("1.000", ParsedNumber(1000.0, 0, False)),
        # commas only
        ("96,20", ParsedNumber(96.2, 2, False)),
        ("3,421", ParsedNumber(3.421, 3, False)),
        ("3,421,346", ParsedNumber(3421346.0, 0, False)),
        # both
        ("1.234,5", ParsedNumber(1234.5, 1, False)),
        ("1,234.5", ParsedNumber(1234.5, 1, False)),
        ("12.345.678,09", ParsedNumber(12345678.09, 2, False)),
        # digits, signs, spaces, percent
        ("5078", ParsedNumber(5078.0, 0, False)),
        ("-5.078", ParsedNumber(-5078.0, 0, False)),
        ("+12", ParsedNumber(12.0, 0, False)),
        ("\u22125,5", ParsedNumber(-5.5, 1, False)),
        ("3 421 346", ParsedNumber(3421346.0, 0, False)),
        ("3\u00a0421\u202f346", ParsedNumber(3421346.0, 0, False)),
        ("\u00a0 3.421 \t", ParsedNumber(3421.0, 0, False)),
        ("96,20%", ParsedNumber(96.2, 2, True)),
        ("96,20 %", ParsedNumber(96.2, 2, True)),
        ("100%", ParsedNumber(100.0, 0, True)),
        ("-0,5%", ParsedNumber(-0.5, 1, True)),
        # missing
        (None, MISSING),
        ("", MISSING),
        ("  \u00a0\t", MISSING),
        ("-", MISSING),
        ("–", MISSING),
        ("—", MISSING),
        (" - ", MISSING),
        # non-string cells
        (12, ParsedNumber(12.0, 0, False)),
        (-5078, ParsedNumber(-5078.0, 0, False)),
        (96.2, ParsedNumber(96.2, None, False)),
        (float("nan"), MISSING),
        (Decimal("96.20"), ParsedNumber(96.2, 2, False)),
        (Decimal("3421"), ParsedNumber(3421.0, 0, False)),
        (Decimal("NaN"), MISSING),
    ],
)
def test_parse_number(raw, expected):
    assert parse_number(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "đang cập nhật", "N/A", "12a", "(123)", "1.23.4", "12.34.567", "0.123.456",
        "1,23,456", "1.234,5,6", "1,234,5.6", "1.23,5", "12,34.5", "1.234,567.8",
        ".5", "5.", "5,", "%", "-%", "--5", "+-5", "12 34", "1 234 5", "5%%", "5-",
        "١٢٣", True, False, float("inf"), Decimal("-Infinity"), [1], object(),
    ],
)
def test_parse_number_rejects(raw):
    with pytest.raises(NumberFormatError):
        parse_number(raw)


def test_error_message_is_plain_english():
    with pytest.raises(NumberFormatError) as exc:
        parse_number("đang cập nhật")
    assert str(exc.value) == "expected a number such as 3.421.346 or 96,20%, found 'đang cập nhật'"
    assert isinstance(exc.value, ValueError)
    with pytest.raises(NumberFormatError, match=r"3-digit thousand groups.*found '1\.23\.4'"):
        parse_number("1.23.4")


@given(st.text(), st.sampled_from("abcxyzAEIOUNZ"), st.text())
def test_any_ascii_letter_is_rejected(before, letter, after):
    with pytest.raises(NumberFormatError):
        parse_number(before + letter + after)


# ------------------------------------------------------------------ formatting


@pytest.mark.parametrize(
    "x, decimals, expected",
    [
        (3421346, 0, "3.421.346"),
        (96.2, 2, "96,20"),
        (-5078, 0, "-5.078"),
        (0.5, 0, "1"),
        (-0.5, 0, "-1"),
        (2.5, 0, "3"),
        (2.675, 2, "2,68"),  # the typed value, not the binary float 2.67499...
        (1234567.891, 1, "1.234.567,9"),
        (999, 0, "999"),
        (1000, 0, "1.000"),
        (-0.001, 2, "0,00"),
        (Decimal("12.345"), 2, "12,35"),
        (None, 0, ""),
        (float("nan"), 2, ""),
    ],
)
def test_format_number(x, decimals, expected):
    assert format_number(x, decimals) == expected


@pytest.mark.parametrize(
    "fraction, decimals, expected",
    [
        (0.962, 2, "96,20%"),
        (0.1 + 0.2, 2, "30,00%"),
        (0.57, 0, "57%"),
        (0.12345, 2, "12,35%"),
        (-0.05, 1, "-5,0%"),
        (12.5, 0, "1.250%"),
        (None, 2, ""),
    ],
)
def test_format_percent(fraction, decimals, expected):
    assert format_percent(fraction, decimals) == expected


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_int_round_trip(n):
    parsed = parse_number(format_number(n))
    assert parsed.value == n
    assert parsed.decimals == 0


@given(st.integers(min_value=1, max_value=4), st.integers(min_value=-(10**15), max_value=10**15))
def test_decimal_round_trip(d, units):
    n = Decimal(units).scaleb(-d)  # exactly d decimal places, built from integers
    parsed = parse_number(format_number(n, d))
    assert parsed == ParsedNumber(float(n), d, False)


@given(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.integers(min_value=0, max_value=4),
)
def test_percent_round_trip(f, d):
    parsed = parse_number(format_percent(f, d))
    expected = (Decimal(repr(f)) * 100).quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP)
    assert parsed.percent is True
    assert parsed.decimals == d
    assert parsed.value == float(expected)
    assert not math.isnan(parsed.value)


def test_match_key_unifies_old_and_new_final_i_y():
    assert match_key("Tỉ lệ (%)") == match_key("Tỷ lệ (%)") == "ti le"
    assert match_key("Đăng kí dự thi") == match_key("Đăng ký dự thi")
    assert match_key("Cấp phiếu lí lịch") == match_key("Cấp phiếu lý lịch")
    # y inside a vowel cluster or at the start of a word is a different letter: left alone
    assert match_key("Cẩm Thủy") == "cam thuy"
    assert match_key("Yên Định") == "yen dinh"
