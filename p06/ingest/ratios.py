"""Ratio cells as fractions: '96,20%', 0.962 shown as a percent, 0.962 or 96.2, with the decimals shown."""
from __future__ import annotations

import re
from decimal import Decimal

from p06 import catalog
from p06.catalog import Measure, Source
from p06.vntext import ParsedNumber


def number_format_shows(number_format: str | None) -> tuple[bool, int | None]:
    """(shown as percent, decimals shown) of a cell's number format: '0.00%' -> (True, 2), '0.0' -> (False, 1),
    '0.00"%"' -> (False, 2) (a quoted or escaped % is a literal sign), 'General' or '@' -> (False, None)."""
    if not number_format or number_format.lower() in ("general", "@"):
        return False, None
    section = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", number_format.split(";")[0])
    m = re.search(r"\.([0#?]+)", section)
    return "%" in section, len(m.group(1)) if m else 0


def _percent_points_to_fraction(x: float) -> float:
    """96.2 -> 0.962 exactly (not 0.9620000000000001)."""
    return float(Decimal(repr(float(x))) / 100)


def _float_decimals(x: float) -> int:
    """Digits after the decimal point of a number's shortest form: 91.4 -> 1, 100.0 -> 0."""
    text = repr(round(float(x), 9))         # 72.33000000000001 (float noise of 0.7233 * 100) shows 2 decimals
    return 0 if "e" in text or "." not in text else len(text.split(".")[1].rstrip("0"))


def _bare_ratios_are_fractions(m: Measure, bare: list[dict], by_row: dict[tuple[int, str], dict]) -> bool:
    """Whether a ratio column's bare numbers are fractions (0.962) rather than percent points (96.2):
    the scale closer to the ratio of the parts on the same row wins; without parts, the column's values
    decide against the declared `ratio_fraction_max`."""
    votes = 0
    for o in bare:
        num, den = (by_row.get((o["row"], part)) for part in m.ratio_of)
        if num and den and num["value"] is not None and den["value"]:
            actual = num["value"] / den["value"]
            votes += 1 if abs(o["value"] - actual) <= abs(o["value"] / 100 - actual) else -1
    fraction_max = float(catalog.common()["ratio_fraction_max"])
    return votes > 0 or (votes == 0 and all(o["value"] <= fraction_max for o in bare))


def scale_ratios(source: Source, observations: list[dict]) -> None:
    """Store every ratio of one sheet as a fraction, with the decimals it showed in percent terms.

    Observations carry the parsed cell (`_parsed`) and its number format (`_format`). '96,20%'
    and cells formatted as percent are unambiguous; bare numbers take the scale their column's
    parts agree with (see `_bare_ratios_are_fractions`).
    """
    by_row = {(o["row"], o["measure"]): o for o in observations}
    for m in source.measures:
        if m.kind != "ratio":
            continue
        cells = [o for o in observations if o["measure"] == m.id and o["value"] is not None]
        bare = [o for o in cells if not o["_parsed"].percent and not number_format_shows(o["_format"])[0]]
        as_fraction = _bare_ratios_are_fractions(m, bare, by_row)
        for o in cells:
            parsed: ParsedNumber = o["_parsed"]
            percent_format, format_decimals = number_format_shows(o["_format"])
            if parsed.percent:                      # '96,20%'
                o["value"], o["decimals"] = _percent_points_to_fraction(parsed.value), parsed.decimals
                continue
            shown = next(d for d in (format_decimals, parsed.decimals, _float_decimals(parsed.value)) if d is not None)
            if percent_format:                      # 0.962 shown as 96,20%
                o["decimals"] = shown
            elif as_fraction:                       # 0.962
                o["decimals"] = max(shown - 2, 0)
            else:                                   # 96.2
                o["value"], o["decimals"] = _percent_points_to_fraction(parsed.value), shown
