"""Property test of the reader (issue 7): every generated office layout of a known table is read with
exactly the known figures, or refused with a reason that names the variation; never a different figure.

The generator lives in tests/layouts/ (see its __init__ for how to add a variation). Example counts come
from the hypothesis profile: `ci` (default, fixed and derandomized) or `deep`:
    HYPOTHESIS_PROFILE=deep .venv/bin/python -m pytest tests/test_layout_property.py
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from layouts.check import read_delivery, report, verdict
from layouts.figures import known_tables
from layouts.render import render
from layouts.strategies import layouts

TABLES = {t.label: t for t in known_tables()}
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
# Examples of the layout test per profile (0.07 to 0.3 s each on the shared 2-core machine, by its load). The ci profile does
# not shrink: a failure's report (features, differing figures with cells) is readable unshrunk, and
# shrinking a reader that fails many layouts would cost minutes; run `deep` to get shrunk examples.
EXAMPLES = {"ci": 100, "deep": 5000}
PHASES = [Phase.explicit, Phase.reuse, Phase.generate] + ([] if PROFILE == "ci" else [Phase.shrink])


@pytest.mark.xfail(strict=False, reason="issue 7: the reader of main refuses flattened and 3-row headers, signature "
                   "blocks, subtotal rows and ',' thousands, reads the month's columns, hidden sheets and columns, "
                   "and '1.393' as 1393; the lead removes this mark when the new reader lands")
@settings(max_examples=EXAMPLES.get(PROFILE, 300), phases=PHASES)
@given(layout=layouts())
def test_every_generated_layout_is_read_exactly_or_refused_by_name(layout):
    with tempfile.TemporaryDirectory() as tmp:
        delivery = render(TABLES[layout.table], layout, Path(tmp))
        kind, lines = verdict(delivery, read_delivery(delivery))
        assert kind == "ok", report(delivery, kind, lines)


@given(data=st.data())
def test_the_generator_renders_what_it_expects(data):
    """The generator's own bookkeeping: every unit and measure of the table is expected once, at a cell
    holding a figure, and a refusing layout always says what its refusal must name."""
    layout = data.draw(layouts())
    with tempfile.TemporaryDirectory() as tmp:
        delivery = render(TABLES[layout.table], layout, Path(tmp))
    table, exp = delivery.table, delivery.expected
    units = {(u.code, m) for u in table.units for m in table.measures}
    if layout.hidden != "hidden unit row":
        assert units <= set(exp.figures)
    assert bool(exp.refusal) == bool(exp.must_name)
    if layout.total_row != "absent":
        assert {m for code, m in exp.figures if code == "38"} == set(table.measures)
