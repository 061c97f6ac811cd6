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
    A count cell that only a style other cells rule out would make whole ('94,577' beside '2.262.033')
    is a disagreement between the two cells, named as such.
    """
    texts = [(row, raw, opts) for row, raw in cells if (opts := styles_of(raw))]
    if not texts:
        return ColumnStyle(None)
    fitting = [s for s in STYLES if all(s in opts for _, _, opts in texts)]
    if not fitting:
        return ColumnStyle(None, conflict=_disagreeing(texts))
    readings = {s: [parse_in_style(raw, s).value for _, raw, _ in texts] for s in fitting}
    if kind == "count":
        whole = [s for s in fitting if all(v is None or float(v).is_integer() for v in readings[s])]
        if not whole:
            # each style leaves a cell with a fraction of a person: two such cells disagree
            odd = [next(i for i, v in enumerate(readings[s]) if v is not None and not float(v).is_integer())
                   for s in fitting]
            if len(set(odd)) > 1:
                (ra, a, _), (rb, b, _) = texts[odd[0]], texts[next(i for i in odd if i != odd[0])]
                return ColumnStyle(None, conflict=((ra, a), (rb, b)))
            row, raw, opts = texts[odd[0]]
            whole_in = [t for t in opts if float(parse_in_style(raw, t).value).is_integer()]
            ruler = next(((r, x) for r, x, o in texts if whole_in and not set(whole_in) & set(o)), None)
            if ruler is None:
                return ColumnStyle(fitting[0])        # a fraction in any style: reported as not a whole number
            return ColumnStyle(None, conflict=((row, raw), ruler))
        fitting = whole
    elif kind == "ratio":
        fitting = [s for s in fitting if all(v is None or abs(v) < 1000 for v in readings[s])] or fitting
    if len({tuple(readings[s]) for s in fitting}) == 1:
        return ColumnStyle(fitting[0])
    # Two readings give different figures: name a cell and what each style makes of it.
    for i, (row, raw, _) in enumerate(texts):
        if len({readings[s][i] for s in fitting}) > 1:
            return ColumnStyle(None, ambiguous=(row, raw, [(s, readings[s][i]) for s in fitting]))
    return ColumnStyle(fitting[0])


def _disagreeing(texts: list[tuple[int, str, tuple[NumberStyle, ...]]]) -> tuple[tuple[int, str], tuple[int, str]]:
    """Two cells that cannot be read in one style: the first pair with no style in common, else the first
    cells that settle two different styles."""
    for i, (ra, a, sa) in enumerate(texts):
        for rb, b, sb in texts[i + 1:]:
            if not set(sa) & set(sb):
                return (ra, a), (rb, b)
    settled: dict[NumberStyle, tuple[int, str]] = {}
    for row, raw, opts in texts:
        if len(opts) == 1:
            settled.setdefault(opts[0], (row, raw))
    pair = list(settled.values())[:2]
    return (pair[0], pair[1]) if len(pair) == 2 else ((texts[0][0], texts[0][1]), (texts[-1][0], texts[-1][1]))
