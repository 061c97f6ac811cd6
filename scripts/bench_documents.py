"""What each of a month's documents costs, written from an existing warehouse (CPU seconds of this process).

    .venv/bin/python scripts/bench_documents.py WAREHOUSE.duckdb 2023-09 2025-07 [--repeat 3]

The warehouse is copied aside and opened read-only; the documents are written to a temporary folder. Each
line: the month, the document, its CPU time (the best of --repeat, after one warm-up that pays the imports).
`scripts/bench --history --keep` leaves a 39-month warehouse to use.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from p06.documents import dashboard, excel, report, report_charts, report_word  # noqa: E402
from p06.documents.report import Draft  # noqa: E402
from p06.publish import files  # noqa: E402


def writers(out: Path) -> dict:
    def charts(con, period):
        draft = Draft(con, period)
        report_word.chart_entries(con, draft, out / "charts")
    return {
        "workbook": lambda con, p: excel.write_workbook(con, p, out / f"DA06_{p}.xlsx"),
        "report draft (.md)": lambda con, p: report.write_report(con, p, out / f"bao_cao_{p}.md"),
        "word (.docx, charts included)": lambda con, p: report_word.write_word(con, p, out / f"bao_cao_{p}.docx"),
        "  of which charts": charts,
        "tables (.csv, .parquet)": lambda con, p: files.export_tables(con, p, out / "tables"),
        "dashboard": lambda con, p: dashboard.write_dashboard(con, p, out / "dashboard.html"),
        "digests (what decides a rewrite)": lambda con, p: (report_charts.trend_digest(con, p, list(report.load_templates()["headline"]), 12),
                                                            dashboard.digest(con, p)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="scripts/bench_documents.py")
    parser.add_argument("warehouse")
    parser.add_argument("months", nargs="+")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="p06-bench-docs-") as tmp:
        copy = Path(tmp) / "p06.duckdb"
        shutil.copyfile(args.warehouse, copy)
        con = duckdb.connect(str(copy), read_only=True)
        out = Path(tmp) / "out"
        for month in args.months:
            total = 0.0
            for name, write in writers(out).items():
                times = []
                for _ in range(args.repeat + 1):
                    t0 = time.process_time()
                    write(con, month)
                    times.append(time.process_time() - t0)
                best = min(times[1:])
                total += best if not name.startswith(" ") else 0
                print(f"{month}  {name:<34} {best:6.2f} s")
            print(f"{month}  {'all documents':<34} {total:6.2f} s")


if __name__ == "__main__":
    main()
