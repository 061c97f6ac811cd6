"""A generator of a merged province's deliveries before its merger: one file per old province, source and month.

Before 1 July 2025 each old province's departments reported on their own province: a file with its own title
("SỞ Y TẾ TỈNH NAM ĐỊNH"), its districts of the month (from the units reference, p06.reference) and its own
total row ("Toàn tỉnh Nam Định"). `build` writes such files for any merged province (the mergers come from
catalog/reference/unit_crosswalk.csv through p06.reference.old_provinces), with seeded figures, unit names in
the spellings departments use, planted inconsistencies, and files left out; it returns what the product must
find: each old province's sums, the province's, and the inconsistencies.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import openpyxl

from p06 import reference

# Per source: department, file name, unit column header, measure headers, and how a unit's figures are drawn.
SOURCES = {
    "tre_em": dict(department="SỞ Y TẾ", file="tre_em_T{m}_{y}", unit_header="Huyện/thị xã/thành phố",
                   headers=["Tổng số trẻ em", "Số trẻ em đã cập nhật, chuẩn hóa", "Tỷ lệ (%)"],
                   measures=["children", "children_updated"], ratio="children_updated_ratio"),
    "nguoi_co_cong": dict(department="SỞ NỘI VỤ", file="NCC_ra_soat_lam_sach_T{m}", unit_header="Huyện, thị xã, thành phố",
                          headers=["Tổng số người có công cần rà soát", "Đã rà soát, làm sạch", "Còn lại", "Tỷ lệ (%)"],
                          measures=["merit_to_review", "merit_cleaned", "merit_remaining"], ratio="merit_cleaned_ratio"),
}


@dataclass
class Plant:
    """An inconsistency written into one old province's file: its total row states `delta` more than its units
    (`kind` 'total'), or one unit's stated ratio is off by `delta` percent points (`kind` 'ratio')."""
    kind: str
    month: str
    source: str
    old: str
    measure: str
    delta: float
    unit_code: str | None = None          # filled in for 'ratio'


@dataclass
class Built:
    province: str
    files: list[Path] = field(default_factory=list)
    # (month, source, old province code) -> measure -> sum of its unit rows
    old_sums: dict[tuple[str, str, str], dict[str, float]] = field(default_factory=dict)
    units: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)   # -> unit codes listed
    plants: list[Plant] = field(default_factory=list)
    left_out: set[tuple[str, str, str]] = field(default_factory=set)

    def province_sum(self, month: str, source: str, measure: str) -> float:
        """The province figure: the sum over the old provinces' files that were delivered."""
        return sum(v[measure] for (m, s, _), v in self.old_sums.items() if m == month and s == source)


def _spell(name: str, rng: random.Random) -> str:
    """A unit name as a department may write it: as is, upper case, or with the type abbreviated."""
    choice = rng.randrange(3)
    if choice == 1:
        return name.upper()
    if choice == 2:
        for full, short in (("Thành phố ", "TP. "), ("Huyện ", "H. "), ("Thị xã ", "TX. ")):
            if name.startswith(full):
                return short + name.removeprefix(full)
    return name


def _percent(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def build(raw: Path, province: str, months: list[str], sources: list[str] = ("tre_em", "nguoi_co_cong"), *,
          plants: list[Plant] = (), leave_out: set[tuple[str, str, str]] = frozenset(), seed: int = 6) -> Built:
    """Files raw/<month>/<source>/<name>_<old province>.xlsx for each month before the merger, each source and
    each old province of `province`, except the (month, source, old province) of `leave_out`."""
    rng = random.Random(seed)
    built = Built(province, plants=[Plant(**vars(p)) for p in plants], left_out=set(leave_out))
    for month in months:
        y, m = int(month[:4]), int(month[5:])
        day = date(y, m, 15)
        olds = reference.old_provinces(province, day)
        assert olds, f"{month} is not before {province}'s merger"
        for source in sources:
            spec = SOURCES[source]
            for old in olds:
                if (month, source, old.unit_code) in leave_out:
                    continue
                districts = reference.units("district", old.unit_code, day)
                rows, sums = [], {k: 0.0 for k in spec["measures"]}
                for unit in districts:
                    whole = rng.randrange(8_000, 60_000)
                    part = whole - rng.randrange(0, whole // 10)
                    figures = [whole, part] + ([whole - part] if len(spec["measures"]) == 3 else [])
                    for k, v in zip(spec["measures"], figures):
                        sums[k] += v
                    rows.append((unit, figures, part / whole * 100))
                for plant in built.plants:
                    if plant.kind == "ratio" and (plant.month, plant.source, plant.old) == (month, source, old.unit_code):
                        unit, figures, ratio = rows[1]
                        rows[1] = (unit, figures, ratio - plant.delta)
                        plant.unit_code = unit.unit_code
                totals = dict(sums)
                for plant in built.plants:
                    if plant.kind == "total" and (plant.month, plant.source, plant.old) == (month, source, old.unit_code):
                        totals[plant.measure] += plant.delta
                short = reference.short_province_name(old.name_vi)
                ws_rows = [[f"{spec['department']} {old.name_vi.upper()}"],
                           ["BÁO CÁO KẾT QUẢ THỰC HIỆN ĐỀ ÁN 06"],
                           [f"(Số liệu tính đến ngày 15/{m}/{y})"],
                           [],
                           ["STT", spec["unit_header"], *spec["headers"]]]
                for i, (unit, figures, ratio) in enumerate(rows, 1):
                    ws_rows.append([i, _spell(unit.name_vi, rng), *figures, _percent(ratio)])
                stated = [totals[k] for k in spec["measures"]]
                ws_rows.append([None, f"Toàn tỉnh {short}", *stated, _percent(stated[1] / stated[0] * 100)])
                ws_rows.append([])
                ws_rows.append(["Ghi chú: số liệu do các đơn vị báo cáo."])
                wb = openpyxl.Workbook()
                ws = wb.active
                ws.title = "Báo cáo"
                for r in ws_rows:
                    ws.append(r)
                name = spec["file"].format(m=m, y=y) + f"_{old.unit_code}_{short.replace(' ', '')}.xlsx"
                path = raw / month / source / name
                path.parent.mkdir(parents=True, exist_ok=True)
                wb.save(path)
                built.files.append(path)
                built.old_sums[(month, source, old.unit_code)] = sums
                built.units[(month, source, old.unit_code)] = [u.unit_code for u, _, _ in rows]
    return built
