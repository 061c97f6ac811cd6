"""Write catalog/reference/unit_history.csv: administrative units of every month since January 2022.

Source: the git history of daohoangson/dvhcvn (https://github.com/daohoangson/dvhcvn), which keeps the
General Statistics Office's list of administrative units (danhmuchanhchinh.gso.gov.vn) as `data/dvhcvn.json`,
one commit per list date (`data/date.txt`: 01/11/2021, 10/04/2022, ... 01/03/2025), each commit message
naming the resolutions that took effect. Repository licence: GPL-3.0 (the list itself is the GSO's).

Usage: `.venv/bin/python scripts/gen_unit_history.py PATH` where PATH is a clone of that repository (a bare
git directory will do). The pipeline reads only the written CSV; a new list date shows up as a reviewable diff.

What is written: every version of a unit (kind, code, name) since the last list before 2022-01-01 that the
30/06/2025 list of admin_units.csv does not already hold as it is:
- `began`: a unit of admin_units.csv that began after the first list; the row gives its valid_from;
- `renamed`: an earlier name of a code that lives on (Huyện Kim Bảng -> Thị xã Kim Bảng);
- `merged`: a district whose communes all went to one district (`became`), `split` when to several;
- `ended`: a commune no longer listed (the list does not say which commune took it: see the basis);
- `unlisted`: listed on the last GSO date but not in the 30/06/2025 list (the package's), so it ended some day
  between; valid_to is then that last GSO date (the package's list is taken as the truth of 30/06/2025).
Dates are the list dates: a unit not listed on date D but listed before ended on D - 1 day; resolutions take
effect on or before the list date that first shows them (1104/NQ-UBTVQH15: 01/09/2024). Units already declared
by hand in catalog/reference/changes.csv are left to it. A name change that is only spelling between the GSO
list and the package (Hoà/Hòa) is not a change: names are compared within the GSO lists only.
"""
from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from p06.vntext import canonical_text, match_key  # noqa: E402

SOURCE = "https://github.com/daohoangson/dvhcvn"
START = date(2022, 1, 1)                 # the first month the reference must know
LIST_END = date(2025, 6, 30)             # the last day of admin_units.csv's pre-reform list
OUT = REPO / "catalog" / "reference" / "unit_history.csv"
COLUMNS = ["kind", "code", "name_vi", "province_code", "parent_code", "valid_from", "valid_to", "change",
           "became", "effective_date", "basis"]
_RESOLUTION = re.compile(r"^\s*[-*]\s*(\d+/[^:\s]*(?:NQ|QH)[^:\s]*)\s*:\s*(.+?)\s*;?\s*$")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def snapshots(repo: Path) -> list[tuple[date, str, list[tuple[str, str]]]]:
    """(list date, commit, resolutions (number, title) of the commits since the previous list date), oldest
    first, from the last list before START; a date committed twice keeps its last commit and both messages."""
    found: dict[date, tuple[str, list]] = {}
    for commit in reversed(_git(repo, "log", "--format=%H", "--", "data/dvhcvn.json").split()):
        try:
            day = datetime.strptime(_git(repo, "show", f"{commit}:data/date.txt").strip(), "%d/%m/%Y").date()
        except (subprocess.CalledProcessError, ValueError):
            continue
        message = _git(repo, "show", "-s", "--format=%B", commit)
        resolutions = [m.groups() for m in map(_RESOLUTION.match, message.splitlines()) if m]
        earlier = found.get(day, ("", []))[1]
        found[day] = (commit, earlier + [r for r in resolutions if r not in earlier])
    days = sorted(found)
    first = max(d for d in days if d <= START)
    return [(d, *found[d]) for d in days if d >= first]


def units_of(repo: Path, commit: str) -> dict[tuple[str, str], tuple[str, str, str]]:
    """(kind, code) -> (name, province code, parent code) of one list."""
    data = json.loads(_git(repo, "show", f"{commit}:data/dvhcvn.json"))["data"]
    out = {}
    for p in data:
        out[("province", p["level1_id"])] = (p["name"], p["level1_id"], "")
        for d in p.get("level2s") or []:
            out[("district", d["level2_id"])] = (d["name"], p["level1_id"], p["level1_id"])
            for c in d.get("level3s") or []:
                out[("commune", c["level3_id"])] = (c["name"], p["level1_id"], d["level2_id"])
    return out


def _same_name(a: str, b: str) -> bool:
    return canonical_text(a).casefold() == canonical_text(b).casefold()


def _read(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def basis_of(province_name: str, resolutions: list[tuple[str, str]], day: date) -> str:
    """The resolutions of the list date that name the province, else the list date itself."""
    key = match_key(re.sub(r"^(Tỉnh|Thành phố)\s+", "", province_name))
    named = [f"Nghị quyết {number}: {title.rstrip(';. ')}" for number, title in resolutions
             if key and key in match_key(title)]
    listed = f"danh mục ĐVHC của Tổng cục Thống kê ngày {day:%d/%m/%Y}"
    return "; ".join(named) + f" ({listed})" if named else listed


def build(repo: Path, reference_dir: Path) -> tuple[list[dict], dict]:
    lists = snapshots(repo)
    states = [units_of(repo, commit) for _, commit, _ in lists]
    final = {(r["kind"], r["code"]): r for r in _read(reference_dir / "admin_units.csv")
             if r["kind"] in ("province", "district", "commune") and r["valid_from"] == ""}
    by_hand = {(r["kind"], r["code"], r["valid_to"]) for r in _read(reference_dir / "changes.csv")}
    province_names = {code: name for state in states for (kind, code), (name, _, _) in state.items()
                      if kind == "province"}
    rows: list[dict] = []
    keys = sorted({k for s in states for k in s}, key=lambda k: (("province", "district", "commune").index(k[0]), k[1]))
    for key in keys:
        runs: list[list] = []                            # [first index, last index, name, province, parent]
        for i, state in enumerate(states):
            here = state.get(key)
            if here and runs and runs[-1][1] == i - 1 and _same_name(runs[-1][2], here[0]):
                runs[-1][1] = i
                runs[-1][4] = here[2]
            elif here:
                runs.append([i, i, *here])
        for first, last, name, province, parent in runs:
            valid_from = lists[first][0].isoformat() if first else ""
            if last == len(states) - 1 and key in final:     # the version admin_units.csv holds
                if first:
                    rows.append(_row(key, final[key]["name_vi"], province, final[key]["parent_code"], valid_from,
                                     final[key]["valid_to"], "began", "", lists[first][0],
                                     basis_of(province_names[province], lists[first][2], lists[first][0])))
                continue
            if last == len(states) - 1:                      # on the last GSO list, not in the package's
                rows.append(_row(key, name, province, parent, valid_from, lists[last][0].isoformat(), "unlisted",
                                 "", None, f"danh mục ĐVHC của Tổng cục Thống kê ngày {lists[last][0]:%d/%m/%Y}; "
                                 "không có trong danh mục ngày 30/06/2025 (vietnamadminunits)"))
                continue
            ended = lists[last + 1][0]
            valid_to = (ended - timedelta(days=1)).isoformat()
            if (key[0], key[1], valid_to) in by_hand:
                continue
            change, became = _what_became(key, states[last], states[last + 1])
            rows.append(_row(key, name, province, parent, valid_from, valid_to, change, became, ended,
                             basis_of(province_names[province], lists[last + 1][2], ended)))
    counts = {"list dates": [d.isoformat() for d, _, _ in lists], "rows": len(rows),
              "by change": dict(Counter(r["change"] for r in rows)),
              "by kind": dict(Counter(r["kind"] for r in rows))}
    return rows, counts


def _what_became(key, before: dict, after: dict) -> tuple[str, str]:
    """(change, codes it became, '|'-joined) of a unit listed before and not (under that name) after."""
    kind, code = key
    parents = {after[("commune", c)][2] for (k, c), v in before.items()
               if kind == "district" and k == "commune" and v[2] == code and ("commune", c) in after}
    if len(parents) > 1:                                 # its communes went to several districts
        return "split", "|".join(sorted(parents))
    if key in after:
        return "renamed", code
    return ("merged", parents.pop()) if parents else ("ended", "")


def _row(key, name, province, parent, valid_from, valid_to, change, became, effective, basis) -> dict:
    return dict(kind=key[0], code=key[1], name_vi=name, province_code=province, parent_code=parent,
                valid_from=valid_from, valid_to=valid_to, change=change, became=became,
                effective_date=effective.isoformat() if effective else "", basis=basis)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.split("\n\n")[2], file=sys.stderr)
        return 2
    repo = Path(argv[0])
    head = _git(repo, "log", "-1", "--format=%H %cs", "--", "data/dvhcvn.json").split()
    rows, counts = build(repo, OUT.parent)
    with open(OUT, "w", encoding="utf-8", newline="") as fh:
        fh.write(f"# Generated by scripts/gen_unit_history.py from {SOURCE} (GPL-3.0; the data are the General "
                 f"Statistics Office's list of administrative units, danhmuchanhchinh.gso.gov.vn), commit "
                 f"{head[0]} of {head[1]}.\n"
                 "# Do not edit: regenerate. Units of every list date since 2022 that admin_units.csv (the list of "
                 "30/06/2025) lacks or dates differently; change: began (the admin_units.csv unit began on "
                 "valid_from), renamed, merged, split, ended, unlisted (see the script's docstring).\n"
                 "# Dates are the GSO list dates: a resolution takes effect on or before the first list that "
                 "shows it. basis: the resolutions of that list date naming the province.\n")
        writer = csv.DictWriter(fh, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    for name, value in counts.items():
        print(f"{name}: {value}")
    print(f"unit_history.csv: {OUT.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
