"""A generated landing zone whose deliveries come in parts (per table, per group of units), then re-sends of some
parts with changed figures, then removals, published by `p06 run` beside the same data delivered one file a
source-month: at every stage both publish the same figures, and every figure that changed between two vintages
of the parts zone is in marts.errata with its old and new value.

The parts are cut from the sample files with openpyxl (tests/deliveries.py): each part keeps its own total row,
summed again over its units, as a department would write it. The groups and changed figures are drawn from a
seeded random generator."""
import random
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import copy_sample_run, copy_samples, landing_env, make_newer, sample_file
from deliveries import make_part, number, unit_rows

from pipelines import cli

PERIOD = "2023-09"
SEED = 15
RATIOS = {"TongHop": {"G": ("F", "D")}, "Xác thực CSDL": {"E": ("D", "C")}, "KCB bằng CCCD": {"G": ("F", "E")}}
PUBLISHED = ("SELECT period, unit_level, unit_code, indicator_code, round(value, 9), numerator, denominator, "
             "units_reporting, units_expected FROM marts.indicator_monthly ORDER BY ALL")
SERVICES = ("SELECT period, service_code, connected, dossiers_total, dossiers_online, on_time, overdue, difficulties "
            "FROM marts.public_services_monthly ORDER BY ALL")


def query(warehouse_dir: Path, sql: str, params=None, copy=True):
    name = "p06_published.duckdb" if copy else "p06.duckdb"
    con = duckdb.connect(str(warehouse_dir / name), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def groups(rng: random.Random, serials: list[int], k: int) -> list[set[int]]:
    """`serials` cut into k non-empty groups of random sizes, in no particular order."""
    shuffled = serials[:]
    rng.shuffle(shuffled)
    cuts = sorted(rng.sample(range(1, len(shuffled)), k - 1))
    return [set(shuffled[a:b]) for a, b in zip([0, *cuts], [*cuts, len(shuffled)])]


def changed(rng: random.Random, path: Path, sheet: str, serials: list[int], columns: list[str]) -> dict:
    """New figures for some units: each cell of `columns` of the units raised by 1 to 500."""
    import openpyxl
    ws = openpyxl.load_workbook(path)[sheet]
    rows = unit_rows(ws)
    out = {}
    for serial in serials:
        for col in columns:
            old = ws[f"{col}{rows[serial]}"].value
            out[(sheet, serial, col)] = round(number(old)) + rng.randint(1, 500)
    return out


class Zones:
    """The two landing zones, each with its own warehouse, run in turn. The whole zone starts as the session's
    run of the samples (conftest.py): its first run here finds nothing changed."""

    def __init__(self, base: Path, sample_run: dict):
        self.base = base
        self.raw = {"whole": copy_sample_run(sample_run, base / "whole")["raw"], "parts": copy_samples(base / "parts")}
        self.published: dict[str, list] = {}

    def run(self) -> dict[str, tuple[list, list]]:
        out = {}
        for name, raw in self.raw.items():
            with landing_env(raw, self.base / name / "warehouse"):
                assert cli.main(["run"]) == 0, name
            out[name] = (query(self.base / name / "warehouse", PUBLISHED), query(self.base / name / "warehouse", SERVICES))
        return out

    def vintages(self, name: str = "parts") -> list[tuple]:
        return query(self.base / name / "warehouse", "SELECT period, vintage FROM marts.publications ORDER BY ALL",
                     copy=False)

    def errata(self, vintage: int) -> dict[tuple, tuple]:
        return {r[:3]: r[3:] for r in query(self.base / "parts" / "warehouse",
                "SELECT unit_level, unit_code, indicator_code, old_value, new_value, cause, source FROM marts.errata "
                "WHERE period = ? AND vintage = ? AND published_table = 'indicator_monthly' AND figure = 'value'",
                [PERIOD, vintage], copy=False)}


@pytest.fixture(scope="module")
def stages(sample_run, tmp_path_factory):
    rng = random.Random(SEED)
    zones = Zones(tmp_path_factory.mktemp("generated"), sample_run)
    whole, parts = zones.raw["whole"], zones.raw["parts"]
    results = {}

    # ---- stage 1: every delivery of September of vneid, bhxh and dvc in parts, first seen together
    files = {s: sample_file(parts, PERIOD, s) for s in ("vneid", "bhxh", "dvc")}
    made: dict[str, list[Path]] = {}
    vneid_groups = groups(rng, list(range(1, 28)), 3)
    made["vneid"] = [make_part(files["vneid"], files["vneid"].with_name(f"vneid_phan_{i + 1}.xlsx"), units=g,
                               ratios=RATIOS) for i, g in enumerate(vneid_groups)]
    bhxh_groups = groups(rng, list(range(1, 28)), 2)
    made["bhxh"] = [make_part(files["bhxh"], files["bhxh"].with_name(f"bhxh_xac_thuc_{i + 1}.xlsx"),
                              sheets=["Xác thực CSDL"], units=g, ratios=RATIOS) for i, g in enumerate(bhxh_groups)]
    made["bhxh"].append(make_part(files["bhxh"], files["bhxh"].with_name("bhxh_kcb.xlsx"), sheets=["KCB bằng CCCD"],
                                  ratios=RATIOS))
    made["dvc"] = [make_part(files["dvc"], files["dvc"].with_name(f"dvc_{n}.xlsx"), sheets=[sheet])
                   for n, sheet in (("pl2", "Phụ lục II"), ("pl3", "Phụ lục III"))]
    for f in files.values():
        f.unlink()
    results[1] = zones.run()
    results["snapshot", 1] = snapshot(results[1]["parts"][0])
    results["files", 1] = query(zones.base / "parts" / "warehouse",
                                "SELECT source, count(*) FROM raw.deliveries WHERE period = ? AND status = 'loaded' "
                                "AND source IN ('vneid', 'bhxh', 'dvc') GROUP BY ALL ORDER BY ALL", [PERIOD], copy=False)

    # ---- stage 2: re-sends of some units with changed figures (parts zone); a corrected whole file (whole zone)
    originals = {s: sample_file(whole, PERIOD, s) for s in ("vneid", "bhxh", "dvc")}
    vneid_units = rng.sample(range(1, 28), 3)
    vneid_changes = changed(rng, originals["vneid"], "TongHop", vneid_units, ["C", "F"])
    bhxh_units = rng.sample(range(1, 28), 2)
    bhxh_changes = changed(rng, originals["bhxh"], "KCB bằng CCCD", bhxh_units, ["E", "F"])
    dvc_changes = {("Phụ lục III", 1, "G"): 4}                      # PL3-01 'on time' 47 -> 4 (issue 15)
    later = max(p.stat().st_mtime for ps in made.values() for p in ps) + 60
    resends = [
        make_part(originals["vneid"], parts / PERIOD / "vneid" / "vneid_gui_lai.xlsx", units=set(vneid_units),
                  changes=vneid_changes, ratios=RATIOS, mtime=later),
        make_part(originals["bhxh"], parts / PERIOD / "bhxh" / "bhxh_kcb_gui_lai.xlsx", sheets=["KCB bằng CCCD"],
                  units=set(bhxh_units), changes=bhxh_changes, ratios=RATIOS, mtime=later),
        make_part(originals["dvc"], parts / PERIOD / "dvc" / "dvc_pl3_gui_lai.xlsx", sheets=["Phụ lục III"],
                  changes=dvc_changes, mtime=later),
    ]
    corrected = {
        "vneid": make_part(originals["vneid"], originals["vneid"].with_name("vneid_sua.xlsx"), changes=vneid_changes,
                           ratios=RATIOS),
        "bhxh": make_part(originals["bhxh"], originals["bhxh"].with_name("bhxh_sua.xlsx"), changes=bhxh_changes,
                          ratios=RATIOS),
        "dvc": make_part(originals["dvc"], originals["dvc"].with_name("dvc_sua.xlsx"), changes=dvc_changes),
    }
    for s, f in corrected.items():
        make_newer(f, originals[s])
    results[2] = zones.run()
    results["snapshot", 2] = snapshot(results[2]["parts"][0])
    results["errata", 2] = zones.errata(zones.vintages()[-1][1])
    results["changes", 2] = (vneid_changes, bhxh_changes)
    results["service_errata", 2] = query(zones.base / "parts" / "warehouse",
                                         "SELECT count(*) FROM marts.errata WHERE published_table = 'public_services_monthly' "
                                         "AND source = 'dvc' AND cause = 'delivery' AND vintage = ?",
                                         [zones.vintages()[-1][1]], copy=False)[0][0]

    # ---- stage 3: removals: a group of units of bhxh's first table, and the vneid re-send (its units revert)
    removed_group = bhxh_groups[1]
    made["bhxh"][1].unlink()
    resends[0].unlink()
    corrected["vneid"].unlink()                          # the whole zone: back to the original file of vneid
    bhxh_again = make_part(originals["bhxh"], originals["bhxh"].with_name("bhxh_sua_2.xlsx"), changes=bhxh_changes,
                           ratios=RATIOS)
    _drop_units(bhxh_again, "Xác thực CSDL", removed_group)
    make_newer(bhxh_again, corrected["bhxh"])
    originals["bhxh"].unlink()                           # the whole zone: one file, without the removed units
    corrected["bhxh"].unlink()
    results[3] = zones.run()
    results["snapshot", 3] = snapshot(results[3]["parts"][0])
    results["errata", 3] = zones.errata(zones.vintages()[-1][1])
    results["removed_group"] = removed_group
    results["vintages"] = zones.vintages()
    yield results
    shutil.rmtree(zones.base, ignore_errors=True)


def snapshot(published: list[tuple]) -> dict[tuple, float | None]:
    """September's published figures, as the analysts' copy showed them after a run."""
    return {r[1:4]: r[4] for r in published if r[0] == PERIOD}


def _drop_units(path: Path, sheet: str, serials: set[int]) -> None:
    """The file without those unit rows of one sheet (its total row summed again over the rest)."""
    import openpyxl
    keep = set(unit_rows(openpyxl.load_workbook(path)[sheet])) - serials
    other = make_part(path, path.with_name("_one_sheet.xlsx"), sheets=[sheet], units=keep, ratios=RATIOS)
    wb = openpyxl.load_workbook(path)
    cut = openpyxl.load_workbook(other)[sheet]
    ws = wb[sheet]
    for row in ws.iter_rows():
        for cell in row:
            if not isinstance(cell, openpyxl.cell.cell.MergedCell):
                cell.value = None
    for row in cut.iter_rows():
        for cell in row:
            if not isinstance(cell, openpyxl.cell.cell.MergedCell):
                ws.cell(cell.row, cell.column).value = cell.value
    wb.save(path)
    other.unlink()


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_parts_publish_what_one_file_publishes(stages, stage):
    (whole, whole_services), (parts, parts_services) = stages[stage]["whole"], stages[stage]["parts"]
    assert len(parts) > 1000
    assert parts == whole
    assert parts_services == whole_services


def test_stage_one_loads_every_part(stages):
    assert stages["files", 1] == [("bhxh", 3), ("dvc", 2), ("vneid", 3)]


def _diff(old: dict, new: dict) -> dict:
    out = {}
    for key in old.keys() | new.keys():
        a, b = old.get(key), new.get(key)
        if (a is None) != (b is None) or (a is not None and abs(a - b) > 1e-9 * max(1, abs(a))):
            out[key] = (a, b)
    return out


@pytest.mark.parametrize("stage", [2, 3])
def test_every_changed_figure_is_an_erratum(stages, stage):
    changes = _diff(stages["snapshot", stage - 1], stages["snapshot", stage])
    errata = stages["errata", stage]
    assert changes, "the stage changed figures"
    assert set(changes) == set(errata)
    for key, (old, new) in changes.items():
        assert errata[key][:2] == (pytest.approx(old) if old is not None else None,
                                   pytest.approx(new) if new is not None else None), key


def test_resent_units_changed_only_their_own_figures(stages):
    errata = stages["errata", 2]
    assert {e[3] for e in errata.values()} == {"vneid", "bhxh"}          # dvc's on-time count is no indicator figure
    assert stages["service_errata", 2] > 0                                                 # ... but an erratum of the services' table
    vneid_changes, bhxh_changes = stages["changes", 2]
    assert {e[2] for e in errata.values()} == {"delivery"}
    district_rows = {k[1] for k in errata if k[0] == "district"}
    assert len(district_rows) <= len({s for _, s, _ in vneid_changes} | {s for _, s, _ in bhxh_changes})


def test_removals_are_withdrawals(stages):
    errata = stages["errata", 3]
    assert {e[2] for e in errata.values()} == {"delivery_withdrawn"}
    # the removed group's districts have no BHXH figure any more
    removed = [k for k, e in errata.items() if k[0] == "district" and e[3] == "bhxh"]
    assert len(removed) >= len(stages["removed_group"]) and all(errata[k][1] is None for k in removed)
