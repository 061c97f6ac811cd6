"""Compare what the reader returned for a generated delivery with what the generator says it must return."""
from __future__ import annotations

from p06.ingest.reader import FileRead, read_file

from .model import Expected
from .render import Delivery

TOLERANCE = 1e-9


def read_delivery(delivery: Delivery) -> FileRead:
    return read_file(delivery.path, delivery.table.source, "2023-09")


def verdict(delivery: Delivery, read: FileRead, as_of: bool = True) -> tuple[str, list[str]]:
    """('ok', []) or (kind of failure, lines saying what differs). Kinds, worst first: 'WRONG FIGURE',
    'ACCEPTED A LAYOUT TO REFUSE', 'REFUSED WITHOUT NAMING', 'REFUSED A READABLE LAYOUT', 'MISSING FIGURE',
    'WRONG AS-OF DATE' (checked only with `as_of`)."""
    exp: Expected = delivery.expected
    problems = "\n".join(map(str, read.problems))
    wrong, missing, extra = compare_figures(delivery, read)
    if exp.refusal:
        if not read.problems:
            return ("WRONG FIGURE" if wrong else "ACCEPTED A LAYOUT TO REFUSE"), [
                f"expected a refusal ({exp.refusal}) naming {[w for w, _ in exp.must_name]}; got no problem", *wrong[:5]]
        unnamed = exp.unnamed(problems)
        if unnamed:
            return "REFUSED WITHOUT NAMING", [f"refused ({exp.refusal}) but the problems do not name {unnamed}:",
                                              *problems.splitlines()[:8]]
        return "ok", []
    if wrong:
        return "WRONG FIGURE", wrong[:8] + (["problems:", *problems.splitlines()[:4]] if problems else [])
    if read.problems:
        return "REFUSED A READABLE LAYOUT", problems.splitlines()[:8]
    if missing or extra:
        return "MISSING FIGURE", (missing + extra)[:8]
    if as_of and read.as_of_date != exp.as_of:
        return "WRONG AS-OF DATE", [f"as-of date {read.as_of_date}, expected {exp.as_of}"]
    return "ok", []


def compare_figures(delivery: Delivery, read: FileRead) -> tuple[list[str], list[str], list[str]]:
    """(figures that differ, expected figures missing, unexpected observations), each as readable lines."""
    exp, kind = delivery.expected, delivery.table.unit_kind
    got: dict[tuple[str, str], list[dict]] = {}
    extra = []
    for o in read.observations:
        if o["unit_kind"] in (kind, "province"):
            got.setdefault((o["unit_code"], o["measure"]), []).append(o)
        elif not exp.subtotals:
            extra.append(f"unexpected observation of kind {o['unit_kind']}: {o['unit_name']} {o['measure']} "
                         f"= {o['value']} at {o.get('cell')}")
        elif not o.get("stated", True):
            extra.append(f"a subtotal row counted as a unit: {o['unit_name']} {o['measure']} at {o.get('cell')}")
    wrong, missing = [], []
    for key, want in exp.figures.items():
        found = got.get(key)
        if not found:
            missing.append(f"{key[0]} {key[1]}: no observation (generator wrote {want.value if want.text is None else want.text!r} at {want.cell})")
            continue
        if len(found) > 1:
            wrong.append(f"{key[0]} {key[1]}: {len(found)} observations, at {[o.get('cell') for o in found]}")
            continue
        o = found[0]
        same = (o["value_text"] == want.text) if want.text is not None else _same(o["value"], want.value)
        if not same:
            wrong.append(f"{key[0]} {key[1]}: read {o['value'] if want.text is None else o['value_text']!r} "
                         f"from {o.get('sheet')}!{o.get('cell')}, generator wrote {want.value if want.text is None else want.text!r} at {want.cell}")
        elif o["stated"] != want.stated:
            wrong.append(f"{key[0]} {key[1]}: stated={o['stated']}, expected {want.stated} ({want.cell})")
    for key, found in got.items():
        if key not in exp.figures:
            o = found[0]
            if exp.subtotals and o["stated"] and o["unit_kind"] == kind:
                continue            # a subtotal row kept as a stated figure, under a code of its own
            extra.append(f"{key[0]} {key[1]}: read {o['value']!r} from {o.get('cell')}, which the generator did not write as a figure")
            if o["value"] is not None:
                wrong.append(extra[-1])
    return wrong, missing, extra


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= TOLERANCE * max(1.0, abs(float(b)))


def report(delivery: Delivery, kind: str, lines: list[str]) -> str:
    """A readable failure: the table, the layout's features, what differs, the header as rendered."""
    lay = delivery.layout
    header = ", ".join(f"{c}: {t!r}" for c, t in delivery.header_texts.items())
    return "\n".join([f"{kind} on {lay.table} ({lay.fmt})", "layout: " + ", ".join(lay.features()),
                      *("  " + ln for ln in lines), f"header as rendered: {header}"])
