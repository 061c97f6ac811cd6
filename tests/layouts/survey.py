"""Which variations the reader handles today: each variation alone on the plainest layout of every table.

    cd tests && ../.venv/bin/python -m layouts.survey [--csv]

Prints one line per variation: tables read as expected / tables tried, and the first failure's kind and
cause. A help for the reader's author, not a test.
"""
from __future__ import annotations

import dataclasses
import sys
import tempfile
from pathlib import Path

from .check import read_delivery, verdict
from .figures import KnownTable, known_tables, largest_count
from .model import Layout
from .render import COUNT_STYLES, RATIO_STYLES, render
from .spelling import NAME_FORMS, SPELLINGS
from .strategies import FOOTER_PARTS, JOINERS


def variations(table: KnownTable, fmt: str) -> list[tuple[str, dict]]:
    n_counts = sum(table.measure(m).kind == "count" for m in table.measures)
    n_ratios = sum(table.measure(m).kind == "ratio" for m in table.measures)
    out: list[tuple[str, dict]] = [("plain", {})]
    out += [(f"titles={n}", {"titles": n}) for n in (0, 3)]
    out += [("merged titles", {"merged_titles": True, "titles": 2})] if fmt == "xlsx" else []
    out += [(f"as-of {a}", {"as_of": a}) for a in ("date cell", "short year", "none")]
    out += [(f"header alias #{i}", {"header_aliases": (i,) * len(table.measures)}) for i in range(1, 4)]
    out += [(f"headers {s}", {"header_spelling": s}) for s in SPELLINGS[1:]]
    out += [(f"groups {g}", {"group_style": g}) for g in ("written once", "repeated")]
    out += [(f"flattened with {j!r}", {"group_style": "flattened", "joiner": j}) for j in JOINERS]
    out += [("3-row header (super header)", {"super_header": True}), ("units row", {"units_row": True})]
    out += [(f"column numbers {c}", {"column_numbers": c}) for c in ("(1) (2)", "A B 1 2")]
    out += [(f"unit header #{i}", {"unit_header": i}) for i in range(1, 4)]
    out += [(f"unit header {s}", {"unit_header_spelling": s}) for s in SPELLINGS[1:]]
    out += [("code column", {"code_column": True}), ("no STT column", {"number_column": "none"}),
            ("some rows without serial", {"number_column": "some blank"}), ("columns shuffled", {"shuffle_columns": True}),
            ("2 blank columns", {"blank_columns": 2}), ("note column", {"note_column": True})]
    if table.unit_kind != "service":         # services have no province total row
        out += [(f"total row {t}", {"total_row": t}) for t in ("top", "bottom")]
        out += [(f"total label #{i}", {"total_row": "bottom", "total_label": i}) for i in (2, 4, 10)]
        out += [(f"total label {s}", {"total_row": "bottom", "total_label_spelling": s}) for s in SPELLINGS[1:3]]
    out += [(f"unit names {f}", {"name_form": f}) for f in NAME_FORMS[1:]]
    out += [(f"unit names {s}", {"name_spelling": s}) for s in SPELLINGS[1:]]
    out += [(f"subtotals {b}", {"subtotals": b}) for b in ("2 blocks", "3 blocks")] if table.unit_kind == "district" else []
    out += [(f"footer {p}", {"footer": (p,)}) for p in FOOTER_PARTS]
    out += [("footer notes under a code column", {"footer": ("notes",), "code_column": True, "number_column": "none",
                                                  "seed": 1})]
    out += [(f"counts {s}", {"count_styles": (s,) * n_counts}) for s in COUNT_STYLES[1:]]
    if n_ratios:
        out += [(f"ratios {s}", {"ratio_styles": (s,) * n_ratios}) for s in RATIO_STYLES
                if fmt == "xlsx" or s != "percent format"]
        out += [(f"ratios {s}, 1 decimal", {"ratio_styles": (s,) * n_ratios, "ratio_decimals": (1,) * n_ratios})
                for s in ("fraction", "text 0.962", "percent number")]
    out += [("month and cumulative", {"periods": "month and cumulative"}),
            ("month and cumulative, other order", {"periods": "month and cumulative", "month_first": False})]
    if fmt == "xlsx":
        out += [(f"hidden {h}", {"hidden": h}) for h in ("helper column", "blank row", "old sheet")]
        out += [("instruction sheet", {"instruction_sheet": True})]
        out += [("REFUSE hidden duplicate column", {"hidden": "hidden duplicate column"}),
                ("REFUSE hidden unit row", {"hidden": "hidden unit row"})]
    styles = ["number"] * n_counts
    if largest_count(table) is not None:
        styles[largest_count(table)] = "text ,"
        out += [("REFUSE mixed number styles", {"mixed_styles": True, "count_styles": tuple(styles)})]
    if any(table.measure(m).kind == "ratio" and table.measure(m).ratio_max is not None for m in table.measures):
        out += [("REFUSE ratio beyond its maximum", {"ratio_beyond_max": True})]
    out += [("REFUSE duplicate visible header", {"duplicate_visible": True}),
            ("REFUSE wrong period only", {"periods": "wrong period only"}),
            ("REFUSE unlabelled period pair", {"periods": "unlabelled period pair"})]
    if fmt == "csv":
        out += [("csv ';'", {"csv_delimiter": ";"}), ("csv with BOM", {"csv_encoding": "utf-8-sig"}),
                ("csv UTF-16", {"csv_encoding": "utf-16"})]
    return out


def main(fmt: str) -> None:
    results: dict[str, list[tuple[str, str, str]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for table in known_tables():
            for name, changes in variations(table, fmt):
                n_ratios = sum(table.measure(m).kind == "ratio" for m in table.measures)
                # CSV base: ratios as '96,20%' text, so that the '1.393' case shows only under its own variation
                base = Layout(table.label, fmt=fmt, ratio_styles=("text 96,20%",) * n_ratios if fmt == "csv" else ())
                lay = dataclasses.replace(base, **changes)
                delivery = render(table, lay, Path(tmp))
                kind, lines = verdict(delivery, read_delivery(delivery))
                results.setdefault(name, []).append((table.label, kind, lines[0] if lines else ""))
    for name, rows in results.items():
        ok = sum(kind == "ok" for _, kind, _ in rows)
        first = next(((t, k, line) for t, k, line in rows if k != "ok"), None)
        cause = f"{first[1]} ({first[0]}): {first[2][:150]}" if first else ""
        print(f"{name:40} {ok:2}/{len(rows):<2} {cause}".replace("\n", " "))


if __name__ == "__main__":
    main("csv" if "--csv" in sys.argv else "xlsx")
