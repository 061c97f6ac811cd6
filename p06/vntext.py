"""Vietnamese text and number handling for department spreadsheets.

Numbers follow the Vietnamese convention ("3.421.346", "96,20%"): "." groups
thousands and "," is the decimal mark.  Read as English, "3.421" would become
3.421 instead of 3421 (the "3.421 trap"); `parse_number` applies the rules
explicitly and fails loudly on anything it cannot read unambiguously.
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

__all__ = [
    "NumberFormatError",
    "ParsedNumber",
    "canonical_text",
    "format_number",
    "format_percent",
    "match_key",
    "parse_number",
]

# --------------------------------------------------------------------- text

_TONE = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng (combining)
# Old style "hoá/khoẻ/thuỷ": open syllable ending in oa/oe/uy, tone on the 2nd
# vowel.  Nothing (letter or mark) may follow; "qu" is a consonant, so "quý"
# is already correct.
_OLD_TONE = re.compile(rf"(?<![qQ])([oO][aAeE]|[uU][yY])([{_TONE}])(?![\w\u0300-\u036f])")
# "qúy" -> "quý": the u of "qu" never carries the tone.
_QU_TONE = re.compile(rf"([qQ][uU])([{_TONE}])([aeiouyAEIOUY][\u0302\u0306\u031b]?)")


def _new_tone(m: re.Match) -> str:
    pair, tone = m.group(1), m.group(2)
    return pair[0] + tone + pair[1]


def canonical_text(s) -> str:
    """Text for display/storage: NFC, new-style tone placement, single spaces.

    Case and diacritics are kept; None gives "".
    """
    if s is None:
        return ""
    return _canonical(str(s))


@lru_cache(maxsize=1 << 16)          # headers and unit names repeat in every file of every month
def _canonical(s: str) -> str:
    t = unicodedata.normalize("NFD", s)
    t = _QU_TONE.sub(r"\1\3\2", _OLD_TONE.sub(_new_tone, t))
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", t)).strip()


# Old and new spelling of a final i/y after a consonant: "Tỉ lệ"/"Tỷ lệ", "kí"/"ký", "lí"/"lý".
_FINAL_Y = re.compile(r"\b([bcdghklmnpstvx]+)y\b")


def match_key(s) -> str:
    """Key for matching headers/names: no diacritics, đ -> d, casefolded,
    runs of non-alphanumerics -> one space, a final y after consonants -> i."""
    return _match_key("" if s is None else str(s))


@lru_cache(maxsize=1 << 16)
def _match_key(s: str) -> str:
    t = unicodedata.normalize("NFD", canonical_text(s).casefold())
    t = "".join(c for c in t if not unicodedata.combining(c)).replace("đ", "d")
    t = re.sub(r"[\W_]+", " ", t).strip()
    return _FINAL_Y.sub(r"\1i", t)


# ------------------------------------------------------------------ numbers


@dataclass(frozen=True)
class ParsedNumber:
    """A parsed cell: value (None = blank), digits shown after the decimal
    mark (None = unknown), and whether the text carried a "%" sign."""

    value: float | None
    decimals: int | None
    percent: bool


class NumberFormatError(ValueError):
    """A cell could not be read as a number."""


MISSING = ParsedNumber(None, None, False)
_DASHES = {"-", "\u2013", "\u2014", "\u2212"}  # -, en dash, em dash, minus sign
_EXPECTED = "expected a number such as 3.421.346 or 96,20%"
_VN_GROUPS = re.compile(r"[1-9][0-9]{0,2}(?:\.[0-9]{3})+")  # 3.421.346
_EN_GROUPS = re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3})+")  # 3,421,346
_SPACE_GROUPS = re.compile(r"[0-9]{1,3}(?:\s[0-9]{3})+(?:[.,][0-9]+)?")  # 3 421 346,5


def _fail(raw, expected: str = _EXPECTED) -> NumberFormatError:
    return NumberFormatError(f"{expected}, found {raw!r}")


def _split(body: str, raw) -> tuple[str, str]:
    """Return (integer digits, fraction digits) of a number without sign/%."""
    dots, commas = body.count("."), body.count(",")
    if not dots and not commas:
        return body, ""
    if dots and not commas:
        if _VN_GROUPS.fullmatch(body):
            return body.replace(".", ""), ""
        if dots == 1:
            return tuple(body.split("."))  # English-style decimal point: 91.4
        raise _fail(raw, "expected '.' in 3-digit thousand groups (3.421.346) or one decimal point")
    if commas and not dots:
        if commas == 1:
            return tuple(body.split(","))  # decimal comma: 96,20
        if _EN_GROUPS.fullmatch(body):
            return body.replace(",", ""), ""
        raise _fail(raw, "expected one decimal ',' (96,20) or 3-digit thousand groups (3,421,346)")
    int_part, sep, frac = body.rpartition("," if body.index(".") < body.index(",") else ".")
    groups = _VN_GROUPS if sep == "," else _EN_GROUPS
    if groups.fullmatch(int_part) and frac.isdigit():
        return int_part.replace("." if sep == "," else ",", ""), frac
    raise _fail(raw, "expected 3-digit thousand groups and one decimal mark, as in 1.234,5")


def parse_number(raw) -> ParsedNumber:
    """Parse a spreadsheet cell (None, int, float, Decimal or str) using the
    Vietnamese convention; blanks and lone dashes give a missing value.

    "%" sets `percent` but the value is not divided by 100.
    """
    if raw is None:
        return MISSING
    if isinstance(raw, bool):
        raise _fail(raw, "expected a number, not a true/false value")
    if isinstance(raw, numbers.Integral):
        return ParsedNumber(float(raw), 0, False)
    if isinstance(raw, Decimal):
        if raw.is_nan():
            return MISSING
        if not raw.is_finite():
            raise _fail(raw, "expected a finite number")
        return ParsedNumber(float(raw), max(0, -raw.as_tuple().exponent), False)
    if isinstance(raw, numbers.Real):
        if math.isnan(raw):
            return MISSING
        if math.isinf(raw):
            raise _fail(raw, "expected a finite number")
        return ParsedNumber(float(raw), None, False)
    if not isinstance(raw, str):
        raise _fail(raw, f"expected a number or text, not {type(raw).__name__}")

    s = raw.strip()
    if not s or s in _DASHES:
        return MISSING
    percent = s.endswith("%")
    if percent:
        s = s[:-1].rstrip()
    sign = ""
    if s[:1] in ("+", "-", "\u2212"):
        sign = "-" if s[0] != "+" else ""
        s = s[1:].lstrip()
    if not re.fullmatch(r"[0-9]+(?:[.,\s][0-9]+)*", s):
        raise _fail(raw)
    if re.search(r"\s", s):
        if not _SPACE_GROUPS.fullmatch(s):
            raise _fail(raw, "expected spaces only between 3-digit groups, as in 3 421 346")
        s = re.sub(r"\s", "", s)
    int_part, frac = _split(s, raw)
    value = float(Decimal(f"{sign}{int_part}.{frac or 0}"))
    return ParsedNumber(value, len(frac), percent)


def _to_decimal(x) -> Decimal:
    # str() of a float is its shortest repr, so 2.675 rounds like the text "2.675".
    return x if isinstance(x, Decimal) else Decimal(str(x))


_SEPARATORS = str.maketrans(",.", ".,")


def format_number(x, decimals: int = 0) -> str:
    """Format as Vietnamese text ("3.421.346", "96,20"), rounding half away
    from zero; None or NaN gives ""."""
    if x is None:
        return ""
    if type(x) in (int, float) and abs(x) < 2**53 and float(x).is_integer():     # a count: nothing to round
        text = f"{int(x):,}" + ("." + "0" * decimals if decimals > 0 else "")
        return text.translate(_SEPARATORS)
    d = _to_decimal(x)
    if d.is_nan():
        return ""
    if d.is_infinite():
        raise ValueError(f"cannot format {x!r} as a number")
    q = d.quantize(_quantum(decimals), rounding=ROUND_HALF_UP)
    if q == 0:
        q = abs(q)  # no "-0"
    return f"{q:,f}".translate(_SEPARATORS)


@lru_cache(maxsize=None)
def _quantum(decimals: int) -> Decimal:
    return Decimal(1).scaleb(-decimals)


def format_percent(fraction, decimals: int = 2) -> str:
    """Format a fraction as a Vietnamese percentage: 0.962 -> "96,20%"."""
    if fraction is None:
        return ""
    text = format_number(_to_decimal(fraction) * 100, decimals)
    return text + "%" if text else ""
