"""The benchmark behind scripts/bench (see there). Runs `p06 run` in child processes."""
from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
import history  # noqa: E402

P06 = str(REPO / ".venv" / "bin" / "p06")


def _role(pid: int) -> str:
    """A process of the run's tree by what it runs: the run, its reader, validation or export worker."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().decode(errors="replace").split("\0")
    except OSError:
        return "?"
    text = " ".join(args)
    for module, role in (("gx_worker", "validation"), ("export_worker", "export worker"), ("pool", "reader")):
        if module in text:
            return role
    return "run" if any(a.endswith("/p06") for a in args) else Path(args[0]).name or "?"


def _tree_rss_kb(root: int) -> tuple[int, dict[int, int]]:
    """Resident memory of a process and all its descendants (from /proc): the total, and each process's."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            pid, ppid = int(entry), int(fields[1])
            rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
            children.setdefault(ppid, []).append(pid)
        except (OSError, IndexError, ValueError):
            continue
    each, stack = {}, [root]
    while stack:
        pid = stack.pop()
        each[pid] = rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return sum(each.values()), each


def run_p06(raw: Path, wh: Path, *args: str) -> dict:
    # A Dagster instance on disk beside each warehouse, kept from run to run, as the project's .dagster/ is: its
    # SQLite run history is part of what a run costs (an ephemeral instance in memory would hide it)
    home = wh.parent / f"{wh.name}-dagster"
    if not (home / "dagster.yaml").exists():
        home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "P06_RAW_DIR": str(raw), "P06_WAREHOUSE_DIR": str(wh), "P06_LANG": "en",   # parsed below
           "DAGSTER_HOME": str(home)}
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:   # files: a pipe could fill up
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.Popen([P06, "run", *args], env=env, stdout=stdout, stderr=stderr, text=True)
        peak, at_peak = 0, ""
        while proc.poll() is None:
            total, each = _tree_rss_kb(proc.pid)
            if total > peak:        # which processes held it: "run 640, validation 310"
                peak = total
                at_peak = ", ".join(f"{_role(pid)} {kb / 1024:.0f}" for pid, kb in sorted(each.items()) if kb > 20_000)
            time.sleep(0.05)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU seconds of the run's process tree (its worker processes included): what the run costs whatever
        # else the machine is doing; the wall time depends on the other work of a shared machine.
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        stdout.seek(0)
        stderr.seek(0)
        out, err = stdout.read(), stderr.read()
    last = next((line for line in reversed(out.splitlines()) if re.match(r"^(ran |nothing changed)", line)), "")
    return {"wall": wall, "cpu": cpu, "peak_mb": peak / 1024, "at_peak": at_peak, "code": proc.returncode, "layers": last.split(": ", 1)[-1],
            "what": last.split(";")[0], "out": out, "err": err}


def line(label: str, r: dict, target: str = "") -> None:
    print(f"{label:<44} {r['wall']:6.1f} s  cpu {r['cpu']:6.1f} s  peak {r['peak_mb']:5.0f} MB  exit {r['code']}  {target}")
    print(f"    {r['what']}: {r['layers']}")
    print(f"    at the peak, MB: {r['at_peak']}")
    if r["code"] not in (0, 1):
        print("    " + r["err"][-1500:].replace("\n", "\n    "))


def deliveries(wh: Path) -> str:
    con = duckdb.connect(str(wh / "p06.duckdb"), read_only=True)
    try:
        rows = con.execute("""SELECT status, count(*) FROM (
                                SELECT DISTINCT ON (period, source) period, source, status FROM raw.deliveries
                                WHERE status <> 'superseded' ORDER BY period, source, processed_at DESC)
                              GROUP BY ALL ORDER BY ALL""").fetchall()
        months = con.execute("SELECT count(DISTINCT period) FROM marts.indicator_monthly").fetchone()[0]
    finally:
        con.close()
    return ", ".join(f"{n} {s}" for s, n in rows) + f"; {months} months with published indicators"


def bench_samples(tmp: Path) -> None:
    raw, wh = tmp / "raw", tmp / "w"
    for month in ("2023-08", "2023-09"):
        shutil.copytree(history.sample_dir(month), raw / month)
    line("samples: empty -> 2 months published", run_p06(raw, wh))
    line("samples: unchanged", run_p06(raw, wh))


def bench_history(tmp: Path, first: str, last: str) -> None:
    source = tmp / "generated"
    started = time.perf_counter()
    months = history.write_history(source, first, last)
    nxt = history.months(months[-1], "9999-12")[1]
    history.write_month(tmp / "extra", nxt)
    print(f"synthetic history: {len(months)} months {months[0]} to {months[-1]} (+ {nxt}), "
          f"{sum(1 for _ in source.rglob('*.*'))} files, written in {time.perf_counter() - started:.0f} s")

    raw, wh = tmp / "raw", tmp / "w"
    shutil.copytree(source, raw)
    r = run_p06(raw, wh)
    line(f"empty -> {len(months)} months published", r, "(target < 60 s)")
    print(f"    source-months: {deliveries(wh)}")
    line("unchanged p06 run", run_p06(raw, wh), "(target < 3 s)")

    old = "2024-03" if "2024-03" in months else months[len(months) // 2]
    history.resend(raw, old, "vneid")
    r = run_p06(raw, wh)
    line(f"corrected re-send of {old} (vneid)", r, "(target < 10 s)")
    shutil.copytree(tmp / "extra" / nxt, raw / nxt)
    line(f"one new month ({nxt}) on {len(months)} months", run_p06(raw, wh), "(target < 5 s)")

    # The same new month on a warehouse of only the 3 months before it: what history alone costs.
    raw3, wh3 = tmp / "raw3", tmp / "w3"
    for m in months[-3:]:
        shutil.copytree(source / m, raw3 / m)
    run_p06(raw3, wh3)
    shutil.copytree(tmp / "extra" / nxt, raw3 / nxt)
    line(f"one new month ({nxt}) on 3 months", run_p06(raw3, wh3), "(target < 5 s, same as on 39)")


def main() -> None:
    parser = argparse.ArgumentParser(prog="scripts/bench")
    parser.add_argument("--history", action="store_true", help="the 39-month synthetic history")
    parser.add_argument("--first", default="2023-08")
    parser.add_argument("--last", default="2026-10")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="p06-bench-"))
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; work folder {tmp}")
    print("each line: wall time, CPU time of the run's process tree, peak memory (RSS summed over the tree)")
    try:
        bench_history(tmp, args.first, args.last) if args.history else bench_samples(tmp)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
