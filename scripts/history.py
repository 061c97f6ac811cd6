"""A synthetic history of deliveries in the sample layouts, for the benchmark and the tests.

Each month is rendered from the nearest sample month of the same layout era (2023 districts until
2024-12; the 26 districts of 2025-06 from 2025-01; the 166 communes of 2025-07 from 2025-07): the
sample workbook is copied with openpyxl and its figures rewritten. Base figures are the sample's
scaled by a slowly growing factor (so stocks never fall); derived columns (parts that add up,
remaining counts, ratios) and total rows are computed from them, in the style of the sample cell
(number or text "406.608", "92,19%", fraction or percent). The figures are consistent, not real.

    from history import write_history
    write_history(dest_raw, "2023-08", "2026-10")
"""
from __future__ import annotations

import csv
import os
import re
import shutil
from datetime import datetime
from pathlib import Path

import openpyxl
from openpyxl.utils import column_index_from_string

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DIRS = (REPO / "raw", Path("/work/shared/samples/raw"))
TEMPLATES = ("2023-09", "2025-06", "2025-07")     # sample months, each a layout (2023-08 has planted falls)
GROWTH = 0.004                                                # per month, of every base figure
TOTAL_LABELS = {"tổng cộng", "cộng", "toàn tỉnh"}
TIEM_CHUNG_UNTIL = "2023-12"

# Per source and sheet (by index): derived columns as sums/differences of others, and ratio columns
# (numerator, denominator, style), and caps (a column no larger than an expression of others); pct = text "92,19%" (decimals as in the sample), fraction (0.9753),
# percent (86.8). The other numeric columns are base figures.
DERIVED: dict[str, list[dict]] = {
    "an_sinh": [{"sum": {"E": "C+D", "I": "G+H", "L": "J+K"}, "cap": {"F": "E"}}],
    "bhxh": [{"ratio": {"E": ("D", "C", "pct", 2)}}, {"ratio": {"G": ("F", "E", "pct", 2)}}],
    "dvc": [{"ratio": {"F": ("E", "D", "pct", 2)}, "cap": {"G": "E", "H": "E-G"}},
            {"ratio": {"F": ("E", "D", "pct", 2)}, "cap": {"G": "E", "H": "E-G"}}],
    "ho_tich": [{"sum": {"I": "E+F+G+H"}, "ratio": {"J": ("I", "D", "fraction", 4)}, "skip": {"B"}}],
    "nguoi_co_cong": [{"sum": {"E": "C-D"}, "ratio": {"F": ("D", "C", "fraction", 4)}}],
    "tiem_chung": [{"sum": {"G": "D-E", "I": "G-H"}, "ratio": {"F": ("E", "D", "percent", 1)}}],
    "tre_em": [{"ratio": {"E": ("D", "C", "percent", 1)}}],
    "vneid": [{"ratio": {"G": ("F", "D", "fraction", 4)}}],
    "thue": [{"sum": {"E": "C-D"}}],
}
SOURCES = tuple(DERIVED)


def month_index(period: str) -> int:
    return int(period[:4]) * 12 + int(period[5:7]) - 1


def months(first: str, last: str) -> list[str]:
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(month_index(first), month_index(last) + 1)]


def sample_dir(template: str) -> Path:
    return next(d / template for d in SAMPLE_DIRS if (d / template).is_dir())


def template_of(period: str) -> str:
    """The sample month whose layout the period uses."""
    if period < "2025-01":
        return "2023-09"
    return "2025-06" if period < "2025-07" else "2025-07"


def expected(source: str, period: str) -> bool:
    return source != "tiem_chung" or period <= TIEM_CHUNG_UNTIL


# ------------------------------------------------------------------ numbers in the sample's style

def _number(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"\d{1,3}(\.\d{3})+|\d+", text):
        return float(text.replace(".", ""))
    return None


def _styled_int(value: int, like) -> int | str:
    if isinstance(like, str):
        return f"{value:,}".replace(",", ".") if "." in like else str(value)
    return value


def _styled_ratio(part: float, whole: float, style: str, decimals: int, like):
    if not whole:
        return None
    r = part / whole
    if style == "pct":
        if isinstance(like, str) and "," in like:
            decimals = len(like.rstrip("%").split(",")[1])
        return f"{r * 100:.{decimals}f}".replace(".", ",") + "%"
    if style == "percent":
        return round(r * 100, decimals)
    return round(r, decimals)


def _formula(expr: str, row: dict[str, float | None]) -> float | None:
    total, sign = 0.0, 1
    for token in re.findall(r"[A-Z]+|[+-]", expr):
        if token in "+-":
            sign = 1 if token == "+" else -1
            continue
        if row.get(token) is None:
            return None
        total += sign * row[token]
    return total


# ------------------------------------------------------------------ one table

def _render_rows(rows: list[list], spec: dict, factor: float, stt_col: int = 0, label_col: int = 1) -> list[list]:
    """Rewrite the unit rows (an integer in the STT column) and the total row of a table given as lists."""
    sums, ratios, skip = spec.get("sum", {}), spec.get("ratio", {}), spec.get("skip", set())
    derived = set(sums) | set(ratios) | skip
    letters = [openpyxl.utils.get_column_letter(i + 1) for i in range(max(len(r) for r in rows))]
    units, total_at = [], None
    for i, row in enumerate(rows):
        label = str(row[label_col] or "").strip().lower() if len(row) > label_col else ""
        if isinstance(row[stt_col], int) and not isinstance(row[stt_col], bool):
            units.append(i)
        elif label in TOTAL_LABELS:
            total_at = i
    out = [list(r) for r in rows]
    values: list[dict[str, float | None]] = []
    for i in units:
        vals = {}
        for c, letter in enumerate(letters[:len(rows[i])]):
            if c in (stt_col, label_col) or letter in derived:
                continue
            n = _number(rows[i][c])
            if n is not None:
                vals[letter] = float(round(n * factor))
                out[i][c] = _styled_int(int(vals[letter]), rows[i][c])
        _derive(out[i], rows[i], vals, sums, ratios, letters, spec.get("cap"))
        values.append(vals)
    if total_at is not None and units:
        vals = {}
        for c, letter in enumerate(letters[:len(rows[total_at])]):
            if c in (stt_col, label_col) or letter in derived:
                continue
            column = [v.get(letter) for v in values]
            if _number(rows[total_at][c]) is not None and any(x is not None for x in column):
                vals[letter] = float(sum(x or 0 for x in column))
                out[total_at][c] = _styled_int(int(vals[letter]), rows[total_at][c])
        _derive(out[total_at], rows[total_at], vals, sums, ratios, letters, spec.get("cap"))
    return out


def _derive(out_row: list, like_row: list, vals: dict, sums: dict, ratios: dict, letters: list[str],
            caps: dict | None = None) -> None:
    for letter, expr in sums.items():
        c = column_index_from_string(letter) - 1
        if c < len(out_row) and _number(like_row[c]) is not None:
            v = _formula(expr, vals)
            if v is not None:
                vals[letter] = v
                out_row[c] = _styled_int(int(v), like_row[c])
    for letter, expr in (caps or {}).items():
        c = column_index_from_string(letter) - 1
        limit = _formula(expr, vals)
        if vals.get(letter) is not None and limit is not None and vals[letter] > limit:
            vals[letter] = max(limit, 0.0)
            out_row[c] = _styled_int(int(vals[letter]), like_row[c])
    for letter, (num, den, style, decimals) in ratios.items():
        c = column_index_from_string(letter) - 1
        if c < len(out_row) and like_row[c] is not None and vals.get(num) is not None and vals.get(den) is not None:
            out_row[c] = _styled_ratio(vals[num], vals[den], style, decimals, like_row[c])


_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def _as_of_text(text: str, period: str) -> str:
    return _DATE.sub(lambda m: f"{m.group(1)}/{int(period[5:7])}/{period[:4]}", text)


def _file_name(name: str, template: str, period: str) -> str:
    ty, tm = template[:4], int(template[5:7])
    y, m = period[:4], int(period[5:7])
    name = name.replace(f"{ty}{tm:02d}", f"{y}{m:02d}").replace(f"{tm:02d}-{ty}", f"{m:02d}-{y}")
    name = re.sub(rf"T{tm}([._]){ty}", lambda g: f"T{m}{g.group(1)}{y}", name)
    name = re.sub(rf"thang_{tm}\b", f"thang_{m}_{y}", name)
    return re.sub(rf"T{tm}(?=\.xlsx$)", f"T{m}_{y}", name)


# ------------------------------------------------------------------ files

def render_file(template_path: Path, source: str, template: str, period: str, dest_dir: Path, bump: float = 0.0) -> Path:
    """One delivery of `period` in the layout of `template_path`; `bump` adds to the growth (a corrected figure)."""
    factor = 1 + GROWTH * (month_index(period) - month_index(template)) + bump
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / _file_name(template_path.name, template, period)
    specs = DERIVED[source]
    if template_path.suffix.lower() == ".csv":
        text = template_path.read_text(encoding="utf-8-sig")
        rows = list(csv.reader(text.splitlines(), delimiter=";"))
        head, body = rows[0], rows[1:]
        # The CSV has no STT column: number the rows for the renderer, then drop the numbers again.
        numbered = [[i + 1, *r] for i, r in enumerate(body)]
        spec = {"sum": {_shift(k): _shift_expr(v) for k, v in specs[0].get("sum", {}).items()}}
        rendered = _render_rows(numbered, spec, factor, stt_col=0, label_col=2)
        with dest.open("w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f, delimiter=";", lineterminator="\r\n")
            w.writerow(head)
            w.writerows([[str(v) for v in r[1:]] for r in rendered])
    else:
        wb = openpyxl.load_workbook(template_path)
        for index, ws in enumerate(wb.worksheets):
            spec = specs[min(index, len(specs) - 1)]
            grid = [[c.value for c in row] for row in ws.iter_rows()]
            if not grid:
                continue
            label_col = 2 if source == "ho_tich" else 1
            rendered = _render_rows(grid, spec, factor, label_col=label_col)
            for r, row in enumerate(ws.iter_rows()):
                for c, cell in enumerate(row):
                    value = rendered[r][c]
                    if isinstance(value, str) and _DATE.search(value):
                        value = _as_of_text(value, period)
                    if value != cell.value and not isinstance(cell, openpyxl.cell.cell.MergedCell):
                        cell.value = value
        wb.save(dest)
    stamp = datetime(int(period[:4]), int(period[5:7]), 16, 9).timestamp() + bump * 1e6
    os.utime(dest, (stamp, stamp))
    return dest


def _shift(letter: str) -> str:
    """CSV columns shift right by one once an STT column is put in front."""
    return openpyxl.utils.get_column_letter(column_index_from_string(letter) + 1)


def _shift_expr(expr: str) -> str:
    return re.sub(r"[A-Z]+", lambda m: _shift(m.group(0)), expr)


def write_month(raw: Path, period: str, sources: tuple[str, ...] = SOURCES, bump: float = 0.0) -> list[Path]:
    """Every expected source of `period` under raw/<period>/<source>/; returns the files written."""
    template = template_of(period)
    written = []
    for source in sources:
        if not expected(source, period):
            continue
        folder = sample_dir(template) / source
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            written.append(render_file(path, source, template, period, raw / period / source, bump))
    return written


def write_history(raw: Path, first: str = "2023-08", last: str = "2026-10") -> list[str]:
    """Months first..last of every source under `raw`; returns the months."""
    periods = months(first, last)
    for period in periods:
        write_month(raw, period)
    return periods


def resend(raw: Path, period: str, source: str, bump: float = 0.002) -> list[Path]:
    """A corrected re-send of one source-month: its files again with slightly different figures, newer."""
    folder = raw / period / source
    old = sorted(folder.iterdir())
    new = write_month(raw.parent / "_resend", period, (source,), bump=bump)
    moved = []
    for path in new:
        target = folder / (path.stem + "_sua_lai" + path.suffix)
        shutil.move(str(path), target)
        latest = max(p.stat().st_mtime for p in old) + 3600
        os.utime(target, (latest, latest))
        moved.append(target)
    shutil.rmtree(raw.parent / "_resend", ignore_errors=True)
    return moved


if __name__ == "__main__":
    import sys
    dest = Path(sys.argv[1])
    print(f"{len(write_history(dest, *sys.argv[2:4]))} months written to {dest}")
