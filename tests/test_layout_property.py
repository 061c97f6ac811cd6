"""Property tests of the reader (issue 7): every generated office layout of a known table is read with
exactly the known figures, or refused with a reason that names the variation; never a different figure.

The generator lives in tests/layouts/ (its __init__ says how to add a variation). Three properties, so
that one kind of failure does not hide the others: readable layouts are read exactly; ambiguous layouts
are refused by name; the as-of date is read however it is written. Example counts come from the
hypothesis profile: `ci` (default, fixed and derandomized) or `deep`:
    HYPOTHESIS_PROFILE=deep .venv/bin/python -m pytest tests/test_layout_property.py
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from layouts.check import read_delivery, report, verdict
from layouts.figures import known_tables
from layouts.model import Layout
from layouts.render import render
from layouts.strategies import as_of_layouts, layouts

from p06 import config

TABLES = {t.label: t for t in known_tables()}
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
FAILURES = Path(tempfile.gettempdir()) / "p06_layout_failures"       # failing deliveries, to open by hand
# Examples per property and profile (0.07 to 0.3 s each on the shared 2-core machine, by its load).
# The ci profile does not shrink: a failure's report (features, differing figures with cells) reads well
# unshrunk, and shrinking against a reader that fails many layouts costs minutes; `deep` shrinks.
EXAMPLES = {"ci": {"readable": 80, "refusing": 40, "as_of": 20, "generator": 50},
            "deep": {"readable": 2000, "refusing": 1000, "as_of": 300, "generator": 2000}}
PHASES = [Phase.explicit, Phase.reuse, Phase.generate] + ([] if PROFILE == "ci" else [Phase.shrink])


def examples(prop: str) -> int:
    return EXAMPLES.get(PROFILE, EXAMPLES["ci"])[prop]


def check(layout: Layout, as_of: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        delivery = render(TABLES[layout.table], layout, Path(tmp))
        kind, lines = verdict(delivery, read_delivery(delivery), as_of=as_of)
        if kind != "ok":
            kept = FAILURES / f"{kind.replace(' ', '_').lower()}_{delivery.path.name}"
            FAILURES.mkdir(exist_ok=True)
            shutil.copyfile(delivery.path, kept)
            lines.append(f"the delivery is kept at {kept}")
        assert kind == "ok", report(delivery, kind, lines)


@settings(max_examples=examples("readable"), phases=PHASES)
@given(layout=layouts(refusing=False))
def test_readable_layouts_are_read_exactly(layout):
    check(layout, as_of=False)


@settings(max_examples=examples("refusing"), phases=PHASES)
@given(layout=layouts(refusing=True))
def test_ambiguous_layouts_are_refused_by_name(layout):
    check(layout, as_of=False)


@settings(max_examples=examples("as_of"), phases=PHASES)
@given(layout=as_of_layouts())
def test_the_as_of_date_is_read_however_it_is_written(layout):
    check(layout, as_of=True)


@settings(max_examples=examples("generator"))
@given(data=st.data())
def test_the_generator_renders_what_it_expects(data):
    """The generator's own bookkeeping: every unit and measure of the table is expected once, at a cell
    that shows that figure, and a refusing layout always says what its refusal must name."""
    layout = data.draw(layouts())
    with tempfile.TemporaryDirectory() as tmp:
        delivery = render(TABLES[layout.table], layout, Path(tmp))
    table, exp = delivery.table, delivery.expected
    units = {(u.code, m) for u in table.units for m in table.measures}
    if not exp.refusal:
        assert units <= set(exp.figures), units - set(exp.figures)
    assert bool(exp.refusal) == bool(exp.must_name)
    if layout.total_row != "absent" and not exp.refusal:
        assert {m for code, m in exp.figures if code == config.province_code()} == set(table.measures)
    for (code, m), want in exp.figures.items():
        shown = delivery.cells.get(want.cell)
        if want.value is None and want.text is None:
            assert shown is None, (code, m, want.cell, shown)
        elif want.text is not None:
            assert shown == want.text
        elif table.measure(m).kind == "count" and not exp.refusal:
            digits = str(shown).replace(".", "").replace(",", "").replace(" ", "").replace("\u00a0", "")
            assert int(float(digits)) == want.value, (code, m, want.cell, shown, want.value)
        else:
            assert shown is not None, (code, m, want.cell)
