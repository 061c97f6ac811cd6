"""Deliveries of another province, built from the sample months of Thanh Hóa (raw/2025-07): the same files and
layouts, each commune row renamed to a commune of the province (in the reference's order, extra rows dropped), the
title's province renamed, the delivery's own total row dropped (the province figure is the sum of the unit rows),
and the tax units renamed 'Thuế cơ sở N tỉnh <province>'. A test generator, not a fixture: any province, any
sample month by communes."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import openpyxl

from p06 import reference
from p06.ingest.units import UnitMatcher

REPO = Path(__file__).resolve().parent.parent
SAMPLE_PROVINCE = "38"
_TOTAL_LABELS = ("tổng cộng", "cộng", "toàn tỉnh")


def _short(name: str) -> str:
    """'Tỉnh Nghệ An' -> 'Nghệ An'."""
    return name.split(" ", 1)[1] if name.startswith("Tỉnh ") else name.removeprefix("Thành phố ")


def build(province: str, out_raw: Path, month: str = "2025-07", sample_raw: Path = REPO / "raw") -> dict[str, int]:
    """Write out_raw/<month>/<source>/<file> for the province; returns the number of unit rows per source."""
    day = date.fromisoformat(f"{month}-15")
    sample_name = _short(reference.province_name(SAMPLE_PROVINCE, day))
    name = _short(reference.province_name(province, day))
    sample_matcher = UnitMatcher("commune", day, SAMPLE_PROVINCE)
    target = reference.units("commune", province, day)
    rows_written: dict[str, int] = {}
    for path in sorted((sample_raw / month).glob("*/*")):
        out = out_raw / month / path.parent.name / path.name
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".csv":
            text = path.read_text(encoding="utf-8-sig")
            out.write_text("\ufeff" + text.replace(sample_name, name), encoding="utf-8")
            rows_written[path.parent.name] = len(text.splitlines()) - 1
            continue
        if path.suffix != ".xlsx":
            shutil.copy(path, out)
            continue
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            rows_written[path.parent.name] = _rewrite(ws, sample_matcher, target, sample_name, name, province)
        wb.save(out)
    return rows_written


def _rewrite(ws, sample_matcher: UnitMatcher, target: list, sample_name: str, name: str, province: str) -> int:
    drop, n = [], 0
    for row in ws.iter_rows():
        cells = [c for c in row if isinstance(c.value, str)]
        unit_cell = next((c for c in cells if sample_matcher.by_name(c.value) is not None), None)
        if unit_cell is not None:
            if n >= len(target):
                drop.append(row[0].row)
                continue
            code_cell = ws.cell(unit_cell.row, unit_cell.column - 1)
            if isinstance(code_cell.value, str) and code_cell.value.isdigit():
                code_cell.value = target[n].unit_code
            unit_cell.value = target[n].name_vi
            n += 1
        elif any(c.value.strip().casefold().startswith(_TOTAL_LABELS) for c in cells) and n:
            drop.append(row[0].row)
        else:
            for c in cells:
                c.value = c.value.replace(sample_name.upper(), name.upper()).replace(sample_name, name)
    for r in reversed(drop):
        ws.delete_rows(r)
    return n
