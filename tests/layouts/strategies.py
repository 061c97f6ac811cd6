"""Hypothesis strategies: each draws one layout feature; `layouts()` composes them into a `Layout`.

At most one refusing variation is drawn per layout, so a refusal's expected words are unambiguous.
"""
from __future__ import annotations

from hypothesis import strategies as st

from p06 import catalog

from .figures import KnownTable, known_tables, largest_count
from .model import Layout
from .render import COUNT_STYLES, CSV_RATIO_STYLES, RATIO_STYLES, scope_words
from .spelling import NAME_FORMS, SPELLINGS

JOINERS = (" - ", " – ", " / ", ": ", "\n", "(")
FOOTER_PARTS = ("notes", "place and date", "signature", "blank rows")
XLSX_HIDDEN = ("none", "helper column", "blank row", "old sheet")
XLSX_REFUSALS = ("hidden duplicate column", "hidden unit row", "duplicate visible header", "mixed number styles",
                 "wrong period only", "unlabelled period pair", "ratio beyond its maximum")
CSV_REFUSALS = ("duplicate visible header", "mixed number styles", "wrong period only", "unlabelled period pair",
                "ratio beyond its maximum")


def tables() -> st.SearchStrategy[KnownTable]:
    return st.sampled_from(known_tables())


@st.composite
def layouts(draw, table: KnownTable | None = None, fmt: str | None = None, refusing: bool | None = None) -> Layout:
    """A layout of a known table: every feature drawn independently, constrained only where the format
    or the table cannot carry it. `refusing`: True draws one refusing variation, False none, None either
    (one in four)."""
    table = table or draw(tables(), label="table")
    fmt = fmt or draw(st.sampled_from(("xlsx", "xlsx", "csv")), label="format")
    xlsx = fmt == "xlsx"
    measures = [table.measure(m) for m in table.measures]
    n_counts = sum(m.kind == "count" for m in measures)
    n_ratios = sum(m.kind == "ratio" for m in measures)
    has_groups = any(len(h) == 2 for m in measures for h in m.headers)
    common = catalog.common()

    capped = any(m.kind == "ratio" and m.ratio_max is not None for m in measures)
    refusals = [r for r in (XLSX_REFUSALS if xlsx else CSV_REFUSALS)
                if (r != "mixed number styles" or largest_count(table) is not None)
                and (r != "ratio beyond its maximum" or capped)]
    if refusing is None:
        refusal = draw(st.one_of(st.just(None), st.just(None), st.just(None), st.sampled_from(refusals)), label="refusal")
    else:
        refusal = draw(st.sampled_from(refusals), label="refusal") if refusing else None
    periods = draw(st.sampled_from(("none", "none", "month and cumulative")))
    if refusal in ("wrong period only", "unlabelled period pair"):
        periods = refusal
    super_header = periods == "none" and draw(st.booleans())
    hidden = draw(st.sampled_from(XLSX_HIDDEN)) if xlsx else "none"
    if refusal in ("hidden duplicate column", "hidden unit row"):
        hidden = refusal
    count_styles = draw(st.lists(st.sampled_from(COUNT_STYLES), min_size=n_counts, max_size=n_counts))
    if refusal == "mixed number styles":
        big = largest_count(table)
        count_styles[big] = draw(st.sampled_from(("text .", "text ,")))
    total_row = "absent" if table.unit_kind == "service" else draw(st.sampled_from(("top", "bottom", "absent")))
    return Layout(
        table=table.label,
        fmt=fmt,
        csv_delimiter=draw(st.sampled_from((",", ";"))) if not xlsx else ",",
        csv_encoding=draw(st.sampled_from(("utf-8", "utf-8-sig", "utf-16"))) if not xlsx else "utf-8",
        titles=draw(st.integers(0, 3)),
        merged_titles=xlsx and draw(st.booleans()),
        as_of=draw(st.sampled_from(("text", "date cell", "short year", "none"))),
        header_aliases=tuple(draw(st.lists(st.integers(0, 5), min_size=len(measures), max_size=len(measures)))),
        header_spelling=draw(st.sampled_from(SPELLINGS)),
        group_style=draw(st.sampled_from(("merged", "written once", "repeated", "flattened"))) if has_groups else "merged",
        joiner=draw(st.sampled_from(JOINERS)),
        super_header=super_header,
        units_row=draw(st.booleans()),
        column_numbers=draw(st.sampled_from(("none", "(1) (2)", "A B 1 2"))),
        unit_header=draw(st.integers(0, len(common["unit_name_headers"][table.unit_kind])
                                    + len(common["unit_name_headers"].get("any", [])) - 1)),
        unit_header_spelling=draw(st.sampled_from(SPELLINGS)),
        code_column=draw(st.booleans()),
        number_column=draw(st.sampled_from(("STT", "none", "some blank"))),
        shuffle_columns=draw(st.booleans()),
        blank_columns=draw(st.integers(0, 2)),
        note_column=draw(st.booleans()),
        total_row=total_row,
        total_label=draw(st.integers(0, len(common["total_row_labels"]) - 1)),
        total_label_spelling=draw(st.sampled_from(SPELLINGS)),
        name_form=draw(st.sampled_from(NAME_FORMS)),
        name_spelling=draw(st.sampled_from(SPELLINGS)),
        subtotals=draw(st.sampled_from(("none", "none", "2 blocks", "3 blocks"))) if table.unit_kind == "district" else "none",
        footer=tuple(draw(st.lists(st.sampled_from(FOOTER_PARTS), max_size=3, unique=True))),
        count_styles=tuple(count_styles),
        ratio_styles=tuple(draw(st.lists(st.sampled_from(RATIO_STYLES if xlsx else CSV_RATIO_STYLES),
                                         min_size=n_ratios, max_size=n_ratios))),
        ratio_decimals=tuple(draw(st.lists(st.integers(0, 2), min_size=n_ratios, max_size=n_ratios))),
        periods=periods,
        period_words=(draw(st.integers(0, len(scope_words("month")) - 1)),
                      draw(st.integers(0, len(scope_words("cumulative")) - 1))),
        month_first=draw(st.booleans()),
        hidden=hidden,
        instruction_sheet=xlsx and draw(st.booleans()),
        duplicate_visible=refusal == "duplicate visible header",
        mixed_styles=refusal == "mixed number styles",
        ratio_beyond_max=refusal == "ratio beyond its maximum",
        seed=draw(st.integers(0, 2**16)),
    )


@st.composite
def as_of_layouts(draw) -> Layout:
    """A plain layout whose title lines and as-of date are drawn: the as-of property alone."""
    table = draw(tables(), label="table")
    fmt = draw(st.sampled_from(("xlsx", "csv")))
    return Layout(table.label, fmt=fmt, titles=draw(st.integers(0, 3)), merged_titles=fmt == "xlsx" and draw(st.booleans()),
                  as_of=draw(st.sampled_from(("text", "date cell", "short year", "none"))),
                  total_row="absent" if table.unit_kind == "service" else draw(st.sampled_from(("top", "bottom", "absent"))),
                  footer=tuple(draw(st.lists(st.sampled_from(FOOTER_PARTS), max_size=2, unique=True))))
