"""How a department respells a text: case, diacritics, decomposed Unicode, old tone placement, name prefixes."""
from __future__ import annotations

import re
import unicodedata

TONES = "\u0300\u0301\u0303\u0309\u0323"
NEW_TONE = re.compile(rf"([oO])([{TONES}])([aAeE])(?!\w)|([uU])([{TONES}])([yY])(?!\w)")

SPELLINGS = ("as declared", "upper case", "no diacritics", "NFD", "old tone placement", "lower case")


def old_tone_placement(text: str) -> str:
    """'Hóa' -> 'Hoá', 'Thủy' -> 'Thuỷ': the tone on the second vowel, as older fonts typed it."""
    def move(m: re.Match) -> str:
        first, tone, second = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), m.group(6))
        return first + second + tone
    return unicodedata.normalize("NFC", NEW_TONE.sub(move, unicodedata.normalize("NFD", text)))


def without_diacritics(text: str) -> str:
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return stripped.replace("đ", "d").replace("Đ", "D")


def respell(text: str, spelling: str) -> str:
    """`text` in one of SPELLINGS."""
    if spelling == "upper case":
        return text.upper()
    if spelling == "lower case":
        return text.lower()
    if spelling == "no diacritics":
        return without_diacritics(text)
    if spelling == "NFD":
        return unicodedata.normalize("NFD", text)
    if spelling == "old tone placement":
        return old_tone_placement(text)
    return text


NAME_FORMS = ("as declared", "short prefix", "short prefix with dot", "no prefix")
_PREFIXES = {"Thành phố ": ("TP ", "TP. "), "Thị xã ": ("TX ", "TX. "), "Huyện ": ("H. ", "H. ")}


def unit_name(name: str, form: str) -> str:
    """A district's name as people write it: 'TP Thanh Hóa', 'TP. Thanh Hóa', 'H. Hoằng Hóa', 'Hoằng Hóa'.
    Names of other kinds (services, tax offices) keep their wording."""
    for long, (short, dotted) in _PREFIXES.items():
        if name.startswith(long):
            base = name[len(long):]
            if form == "short prefix":
                return short + base
            if form == "short prefix with dot":
                return dotted + base
            if form == "no prefix" and long == "Huyện ":
                return base            # 'Thành phố Thanh Hóa' and 'Thanh Hóa' (the province) must stay apart
    return name
