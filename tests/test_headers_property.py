"""Property tests: however a department spells a declared header, it still finds its measure.

Spellings combine case changes, NFD decomposition, removed diacritics, extra spaces and line
breaks, and old tone placement ('Hoá' for 'Hóa'). Number parsing round trips live in test_vntext.py.
"""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from layouts.spelling import old_tone_placement, without_diacritics

from p06 import catalog, reference
from p06.ingest.headers import find_layout, header_column, match_measures
from p06.ingest.workbook import Grid

SOURCES = catalog.sources()
ALIASES = [(s.id, m.id, alias) for s in SOURCES.values() for m in s.measures for alias in m.headers]


@st.composite
def respelled(draw, text: str) -> str:
    """`text` as some department might type it."""
    if draw(st.booleans()):
        text = old_tone_placement(text)
    if draw(st.booleans()):
        text = without_diacritics(text)
    if draw(st.booleans()):
        text = unicodedata.normalize("NFD", text)
    case = draw(st.sampled_from(["keep", "upper", "lower", "title", "random"]))
    if case == "random":
        flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
        text = "".join(c.swapcase() if flip else c for c, flip in zip(text, flips))
    elif case != "keep":
        text = getattr(text, case)()
    spaces = st.sampled_from([" ", "  ", "   ", "\n", " \n ", "\u00a0", "\t"])
    words = text.split(" ")
    text = "".join(w + (draw(spaces) if i < len(words) - 1 else "") for i, w in enumerate(words))
    return draw(st.sampled_from(["", " ", "\n"])) + text + draw(st.sampled_from(["", " ", "  "]))


def respelled_path(path: tuple[str, ...]):
    return st.tuples(*(respelled(part) for part in path))


def test_old_tone_placement_helper():
    assert old_tone_placement("Chuẩn hóa, Cẩm Thủy, Hòa") == "Chuẩn hoá, Cẩm Thuỷ, Hoà"
    assert old_tone_placement("Quý, hoàn") == "Quý, hoàn"


def canonical_columns(source_id: str, skip: str) -> list:
    """One column per declared measure under its first header, except `skip`."""
    return [header_column(i, m.headers[0]) for i, m in enumerate(SOURCES[source_id].measures) if m.id != skip]


@pytest.mark.parametrize("source_id, measure_id, alias", ALIASES,
                         ids=[f"{s}:{m}:{' > '.join(a)}" for s, m, a in ALIASES])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_spelling_of_an_alias_finds_its_measure(source_id, measure_id, alias, data):
    spelled = data.draw(respelled_path(alias), label="header")
    columns = canonical_columns(source_id, measure_id)
    target = header_column(len(SOURCES[source_id].measures), spelled)
    found, _ = match_measures([*columns, target], SOURCES[source_id].measures)
    assert found.get(measure_id) == target
    assert {mid: col.index for mid, col in found.items() if mid != measure_id} == \
        {m.id: i for i, m in enumerate(SOURCES[source_id].measures) if m.id != measure_id}


def header_grid(source_id: str, draw) -> tuple[Grid, dict[str, int], int]:
    """A sheet with a title, a (one- or two-row) header of every measure respelled, and one unit row.
    Returns the grid, measure -> column, and the unit-name column."""
    source = SOURCES[source_id]
    name_header = catalog.common()["unit_name_headers"][source.unit_kinds[0].unit_kind][0]
    top, bottom, merged, where = ["STT", draw(respelled(name_header))], [None, None], [], {}
    previous_group = None
    for m in source.measures:
        path = m.headers[0]
        c = len(top)
        where[m.id] = c
        if len(path) == 2:
            group, leaf = path
            if group == previous_group:
                top.append(None)
                r1, c1, r2, _ = merged.pop()
                merged.append((r1, c1, r2, c))
            else:
                top.append(draw(respelled(group)))
                merged.append((3, c, 3, c))
            bottom.append(draw(respelled(leaf)))
            previous_group = group
        else:
            top.append(draw(respelled(path[0])))
            bottom.append(None)
            merged.append((3, c, 4, c))
            previous_group = None
    two_rows = any(b is not None for b in bottom)
    unit = reference.expected_units(source.unit_kinds[0].unit_kind, None)[0].name_vi
    rows = [["BÁO CÁO"], ["(Số liệu tính đến ngày 15/9/2023)"], [], top, *([bottom] if two_rows else []),
            [1, unit, *[1] * len(source.measures)]]
    merged = [(3, 0, 4, 0), (3, 1, 4, 1), *merged] if two_rows else []
    return Grid("generated.xlsx", "Sheet1", rows, None, merged), where, 1


@pytest.mark.parametrize("source_id", sorted(SOURCES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_find_layout_on_a_respelled_header(source_id, data):
    grid, where, name_col = header_grid(source_id, data.draw)
    layout = find_layout(grid, SOURCES[source_id])
    assert layout is not None
    assert layout.header_row == 3
    assert layout.first_data_row == len(grid.rows) - 1
    assert layout.name_col is not None and layout.name_col.index == name_col
    assert {mid: col.index for mid, col in layout.measures.items()} == where


def test_a_longer_header_is_not_the_declared_one():
    """Matching is on the whole header, not a prefix: 'Tổng số trẻ em dưới 6 tuổi' is another figure."""
    found, _ = match_measures([header_column(0, ("Tổng số trẻ em dưới 6 tuổi",)), header_column(1, ("Số trẻ em đã cập nhật",))],
                            SOURCES["tre_em"].measures)
    assert {m: c.index for m, c in found.items()} == {"children_updated": 1}
