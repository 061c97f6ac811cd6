"""Write catalog/reference/admin_units.csv and unit_crosswalk.csv from the `vietnamadminunits` package.

Run through `scripts/gen_units` (it installs the package's dependency group first). The pipeline reads only
the written files, so it does not depend on the package or its internals, and a new package version shows
up as a reviewable diff of the CSVs.

What the package holds (version 1.0.4): the 63 provinces, their districts and communes as they stood just
before the reform (30/06/2025; earlier changes such as Huyện Đông Sơn's merger on 01/01/2025 are already
applied, so units that ended before 2025 are missing: catalog/reference/changes.csv adds them), the 34
provinces and 3,321 communes of Decision 19/2025/QĐ-TTg, and which old communes each new commune took, whole
or in part.
"""
from __future__ import annotations

import csv
import sqlite3
import sys
from collections import defaultdict
from datetime import date
from importlib import metadata, resources
from pathlib import Path

PACKAGE = "vietnamadminunits"
REFORM = "2025-07-01"          # Decision 19/2025/QĐ-TTg: the 34-province, no-district list takes effect
LAST_DAY_BEFORE = "2025-06-30"
OUT_DIR = Path(__file__).resolve().parent.parent / "catalog" / "reference"
UNIT_COLUMNS = ["kind", "code", "name_vi", "province_code", "parent_code", "valid_from", "valid_to"]
LINK_COLUMNS = ["old_kind", "old_code", "old_valid_from", "new_kind", "new_code", "new_valid_from",
                "coverage", "new_within_old", "effective_date"]


def _package_data() -> tuple[sqlite3.Connection, dict, str]:
    import json
    root = resources.files(PACKAGE) / "data"
    con = sqlite3.connect(str(root / "dataset.db"))
    con.row_factory = sqlite3.Row
    converter = json.loads((root / "converter_2025.json").read_text(encoding="utf-8"))
    return con, converter, metadata.version(PACKAGE)


def _rows(con: sqlite3.Connection, sql: str) -> list[sqlite3.Row]:
    return con.execute(sql).fetchall()


def build(con: sqlite3.Connection, converter: dict) -> tuple[list[dict], list[dict], dict]:
    """(units, links, counts) from the package's tables and its old-to-new conversion table."""
    legacy = _rows(con, "SELECT * FROM admin_units_legacy")
    new = _rows(con, "SELECT * FROM admin_units")

    old_prov = {r["provinceKey"]: (r["provinceCode"], r["province"]) for r in legacy}
    new_prov = {r["provinceKey"]: (r["provinceCode"], r["province"]) for r in new}
    olds_of = converter["DICT_PROVINCE"]                        # new province key -> old province keys
    unchanged = {k for k, olds in olds_of.items() if [new_prov[k]] == [old_prov[o] for o in olds]}

    units: list[dict] = []
    links: list[dict] = []

    def unit(kind, code, name, province, parent, valid_from="", valid_to=""):
        units.append(dict(kind=kind, code=code, name_vi=name, province_code=province, parent_code=parent,
                          valid_from=valid_from, valid_to=valid_to))

    # Provinces: one unit across the reform when the new province is exactly the old one.
    for key, (code, name) in sorted(old_prov.items(), key=lambda kv: kv[1]):
        if key in unchanged:
            unit("province", code, name, code, "")
        else:
            unit("province", code, name, code, "", valid_to=LAST_DAY_BEFORE)
    for key, (code, name) in sorted(new_prov.items(), key=lambda kv: kv[1]):
        if key in unchanged:
            continue
        unit("province", code, name, code, "", valid_from=REFORM)
        for old in olds_of[key]:
            links.append(dict(old_kind="province", old_code=old_prov[old][0], old_valid_from="", new_kind="province",
                              new_code=code, new_valid_from=REFORM, coverage="whole",
                              new_within_old=len(olds_of[key]) == 1, effective_date=REFORM))

    districts = {(r["provinceCode"], r["districtCode"]): r["district"] for r in legacy}
    for (prov, code), name in sorted(districts.items()):
        unit("district", code, name, prov, prov, valid_to=LAST_DAY_BEFORE)
    old_communes = {(r["provinceKey"], r["districtKey"], r["wardKey"] or ""): r for r in legacy}
    for r in sorted((r for r in legacy if r["wardCode"]), key=lambda r: r["wardCode"]):
        unit("commune", r["wardCode"], r["ward"], r["provinceCode"], r["districtCode"], valid_to=LAST_DAY_BEFORE)
    new_communes = {(r["provinceKey"], r["wardKey"]): r for r in new}
    for r in sorted(new, key=lambda r: r["wardCode"]):
        unit("commune", r["wardCode"], r["ward"], r["provinceCode"], r["provinceCode"], valid_from=REFORM)

    # Commune links: an old commune not divided went whole into one new commune; a divided one in parts.
    pieces: list[tuple[sqlite3.Row, sqlite3.Row, str]] = []     # (old row, new row, coverage)

    def old_row(key: str) -> sqlite3.Row:
        prov, district, ward = key.split("_")
        return old_communes[(prov, district, ward)]

    for new_pkey, by_new in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_wkey, old_keys in by_new.items():
            for old_key in old_keys:
                pieces.append((old_row(old_key), new_communes[(new_pkey, new_wkey)], "whole"))
    for new_pkey, by_old in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, targets in by_old.items():
            for t in targets:
                pieces.append((old_row(old_key), new_communes[(new_pkey, t["newWardKey"])], "part"))

    sources_of: dict[str, set] = defaultdict(set)                # new code -> old commune codes (or district codes)
    districts_of: dict[str, set] = defaultdict(set)              # new code -> old district codes
    targets_of_district: dict[str, set] = defaultdict(set)
    for old, nw, _ in pieces:
        sources_of[nw["wardCode"]].add(old["wardCode"] or f"district {old['districtCode']}")
        districts_of[nw["wardCode"]].add(old["districtCode"])
        targets_of_district[old["districtCode"]].add(nw["wardCode"])

    seen = set()
    for old, nw, coverage in sorted(pieces, key=lambda p: (p[0]["wardCode"] or "", p[0]["districtCode"], p[1]["wardCode"])):
        if old["wardCode"] and (old["wardCode"], nw["wardCode"]) not in seen:
            seen.add((old["wardCode"], nw["wardCode"]))
            links.append(dict(old_kind="commune", old_code=old["wardCode"], old_valid_from="", new_kind="commune",
                              new_code=nw["wardCode"], new_valid_from=REFORM, coverage=coverage,
                              new_within_old=sources_of[nw["wardCode"]] == {old["wardCode"]}, effective_date=REFORM))
    # District links: the new communes that took (part of) an old district's area.
    for district in sorted(targets_of_district):
        targets = targets_of_district[district]
        for code in sorted(targets):
            links.append(dict(old_kind="district", old_code=district, old_valid_from="", new_kind="commune",
                              new_code=code, new_valid_from=REFORM,
                              coverage="whole" if len(targets) == 1 and districts_of[code] == {district} else "part",
                              new_within_old=districts_of[code] == {district}, effective_date=REFORM))

    counts = {
        "provinces before": len(old_prov), "provinces after": len(new_prov),
        "provinces unchanged by the reform": len(unchanged),
        "districts before": len(districts), "communes before": sum(1 for r in legacy if r["wardCode"]),
        "communes after": len(new),
        "communes after by type": dict(sorted(_type_counts(new).items())),
        "crosswalk links": len(links),
    }
    return units, links, counts


def _type_counts(rows) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for r in rows:
        out[r["wardType"]] += 1
    return out


def _write(path: Path, header: str, columns: list[str], rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(header)
        writer = csv.DictWriter(fh, columns, lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("true" if v is True else "false" if v is False else v) for k, v in r.items()})


def main() -> int:
    con, converter, version = _package_data()
    units, links, counts = build(con, converter)
    stamp = (f"# Generated by scripts/gen_units from the {PACKAGE} package {version} (MIT, "
             f"https://github.com/tranngocminhhieu/vietnamadminunits) on {date.today().isoformat()}.\n"
             "# Do not edit: regenerate, or declare a dated change the package lacks in catalog/reference/changes.csv.\n")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    _write(OUT_DIR / "admin_units.csv", stamp + "# An empty valid_from: in force before the list begins; "
           "an empty valid_to: still in force.\n", UNIT_COLUMNS, units)
    _write(OUT_DIR / "unit_crosswalk.csv", stamp + "# coverage: whole = the new unit took the whole old unit, "
           "part = part of it; new_within_old: the new unit lies entirely within the old one.\n", LINK_COLUMNS, links)
    for name, value in counts.items():
        print(f"{name}: {value}")
    for name in ("admin_units.csv", "unit_crosswalk.csv"):
        print(f"{name}: {(OUT_DIR / name).stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
