"""The number style of a column, decided from all its cells, then applied to every cell.

Read cell by cell, "1,721,898" is a million and "540,135" a decimal, in the same column. A careful
reader looks at the column: the cells that can be read one way only ("1,721,898", "96,20",
"3.421.346") settle the style of the others. A column whose cells settle on two different styles
is refused, naming two cells that disagree. Cells holding true numbers carry no style.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from p06.vntext import MISSING, NumberFormatError, ParsedNumber, parse_number

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]")
_DASHES = {"-", "\u2013", "\u2014", "\u2212"}


@dataclass(frozen=True)
class NumberStyle:
    thousands: str          # '.', ',' or ' '
    decimal: str            # ',' or '.'
    name: str

    def __str__(self) -> str:
        return self.name


VIETNAMESE = NumberStyle(".", ",", "thousands '.', decimals ',' (3.421.346 / 96,20)")
ENGLISH = NumberStyle(",", ".", "thousands ',', decimals '.' (3,421,346 / 96.20)")
SPACED_COMMA = NumberStyle(" ", ",", "thousands ' ', decimals ',' (3 421 346 / 96,20)")
SPACED_POINT = NumberStyle(" ", ".", "thousands ' ', decimals '.' (3 421 346 / 96.20)")
STYLES = (VIETNAMESE, ENGLISH, SPACED_COMMA, SPACED_POINT)


@dataclass(frozen=True)
class TextNumber:
    """A number written as text, split from its sign and percent sign."""
    body: str
    negative: bool
    percent: bool


def _split_text(raw: str) -> TextNumber | None:
    s = raw.strip()
    if not s or s in _DASHES:
        return None
    percent = s.endswith("%")
    if percent:
        s = s[:-1].rstrip()
    negative = s[:1] in ("-", "\u2212")
    if s[:1] in ("+", "-", "\u2212"):
        s = s[1:].lstrip()
    return TextNumber(_SPACES.sub(" ", s), negative, percent)


def _digits(body: str, style: NumberStyle) -> tuple[str, str] | None:
    """(integer digits, fraction digits) of a body read in a style, or None when it cannot be."""
    t, d = re.escape(style.thousands), re.escape(style.decimal)
    m = re.fullmatch(rf"(?P<int>[1-9][0-9]{{0,2}}(?:{t}[0-9]{{3}})+|[0-9]+)(?:{d}(?P<frac>[0-9]+))?", body)
    if not m:
        return None
    return m["int"].replace(style.thousands, ""), m["frac"] or ""


def styles_of(raw) -> tuple[NumberStyle, ...] | None:
    """The styles a text cell can be read in; None for a cell that carries no style (a number, a blank)."""
    if not isinstance(raw, str):
        return None
    text = _split_text(raw)
    if text is None or re.fullmatch(r"[0-9]+", text.body):
        return None
    return tuple(s for s in STYLES if _digits(text.body, s) is not None)


def parse_in_style(raw, style: NumberStyle | None) -> ParsedNumber:
    """A cell read in the column's style (text) or as it is (a number); raises NumberFormatError."""
    if not isinstance(raw, str) or style is None:
        return parse_number(raw)
    text = _split_text(raw)
    if text is None:
        return MISSING
    if re.fullmatch(r"[0-9]+", text.body):
        return parse_number(raw)
    parts = _digits(text.body, style)
    if parts is None:
        raise NumberFormatError(f"expected a number written {style}, found {raw!r}")
    whole, frac = parts
    value = float(Decimal(f"{'-' if text.negative else ''}{whole}.{frac or 0}"))
    return ParsedNumber(value, len(frac), text.percent)


@dataclass(frozen=True)
class ColumnStyle:
    """The style chosen for a column, or why none can be: two cells that disagree, or two readings."""
    style: NumberStyle | None
    conflict: tuple[tuple[int, str], tuple[int, str]] | None = None    # ((row, text), (row, text)) read apart
    ambiguous: tuple[int, str, list[tuple[NumberStyle, float]]] | None = None


def column_style(cells: list[tuple[int, object]], kind: str) -> ColumnStyle:
    """The one style all text cells (row, raw value) of a column can be read in.

    Where several styles fit every cell and give different figures, the measure decides: a count
    is a whole number; a ratio is below 1000 (in percent points). Still two readings: ambiguous.
    """
    fitting = list(STYLES)
    witness: dict[NumberStyle, tuple[int, str]] = {}       # a cell that rules a style out
    first_of: dict[NumberStyle, tuple[int, str]] = {}      # a cell that can only be read in that style
    for row, raw in cells:
        options = styles_of(raw)
        if options is None:
            continue
        if not options:
            continue                                        # not a number in any style: reported when parsed
        if len(options) == 1:
            first_of.setdefault(options[0], (row, raw))
        for style in fitting:
            if style not in options:
                witness.setdefault(style, (row, raw))
        fitting = [s for s in fitting if s in options]
        if not fitting:
            a, b = _disagreeing(cells, first_of)
            return ColumnStyle(None, conflict=(a, b))
    texts = [(row, raw) for row, raw in cells if styles_of(raw)]
    if not fitting or not texts:
        return ColumnStyle(None)
    readings = {s: [parse_in_style(raw, s).value for _, raw in texts] for s in fitting}
    distinct = {tuple(v): s for s, v in reversed(list(readings.items()))}
    if len(distinct) <= 1:
        return ColumnStyle(fitting[0])
    if kind == "count":
        fitting = [s for s in fitting if all(v is None or float(v).is_integer() for v in readings[s])]
    elif kind == "ratio":
        fitting = [s for s in fitting if all(v is None or abs(v) < 1000 for v in readings[s])]
    distinct = {tuple(readings[s]): s for s in reversed(fitting)}
    if len(distinct) == 1:
        return ColumnStyle(fitting[0])
    if not fitting:
        return ColumnStyle(None)
    # Two readings give different figures: name a cell and what each style makes of it.
    for i, (row, raw) in enumerate(texts):
        values = {readings[s][i] for s in fitting}
        if len(values) > 1:
            return ColumnStyle(None, ambiguous=(row, raw, [(s, readings[s][i]) for s in fitting]))
    return ColumnStyle(fitting[0])


def _disagreeing(cells: list[tuple[int, object]], first_of: dict) -> tuple[tuple[int, str], tuple[int, str]]:
    """Two cells that cannot be read in one style: preferably each readable in one style only."""
    texts = [(row, raw, set(styles_of(raw) or ())) for row, raw in cells if styles_of(raw)]
    for i, (ra, a, sa) in enumerate(texts):
        for rb, b, sb in texts[i + 1:]:
            if not sa & sb:
                return (ra, a), (rb, b)
    settled = list(first_of.values())
    if len(settled) >= 2:
        return settled[0], settled[1]       # the first cells that settle two different styles
    return (texts[0][0], texts[0][1]), (texts[-1][0], texts[-1][1])
