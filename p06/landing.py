"""The landing zone as the loader sees it, without reading any file's content: month folders, the files
of a source-month (newest first) and their fingerprint. Light on imports (no polars, pandera or Dagster),
so `p06 run` can tell that nothing changed in a fraction of a second.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from p06 import catalog, config, reference
from p06.catalog import Source

READER_VERSION = "5"          # bump when reading changes, so unchanged files are read again
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass
class DeliveryFile:
    path: Path
    relative: str
    sha256: str
    size: int
    received_at: datetime                  # modification time
    first_seen_at: datetime | None = None  # when the warehouse first saw this file (p06.ingest.first_seen)


def landing_periods(raw_dir: Path) -> list[str]:
    """Month folders of the landing zone, oldest first."""
    if not raw_dir.exists():
        return []
    return sorted(p.name for p in raw_dir.iterdir() if p.is_dir() and PERIOD.match(p.name))


# The first report month when the landing zone has no month folder yet: Project 06 began in January 2022.
FIRST_MONTH_FALLBACK = "2022-01"


def first_month(raw_dir: Path | None = None) -> str:
    """The first report month: the earliest month folder of the landing zone (the first month the province
    has data for), else FIRST_MONTH_FALLBACK. Dagster's partitions start there (read when definitions load)."""
    months = landing_periods(Path(raw_dir) if raw_dir else config.raw_dir())
    return months[0] if months else FIRST_MONTH_FALLBACK


def is_delivery_file(path: Path) -> bool:
    """A file a department sent: not hidden, not an Office lock file (~$), not a README."""
    return path.is_file() and not path.name.startswith((".", "~$")) and not path.name.lower().startswith("readme")


def delivery_files(raw_dir: Path, source_id: str, period: str) -> list[DeliveryFile]:
    """Files of a source-month, newest first (lock files and hidden files ignored)."""
    folder = raw_dir / period / source_id
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        if not is_delivery_file(path):
            continue
        stat = path.stat()
        found.append(DeliveryFile(path, path.relative_to(raw_dir).as_posix(), hashlib.sha256(path.read_bytes()).hexdigest(),
                                  stat.st_size, datetime.fromtimestamp(stat.st_mtime)))
    return sorted(found, key=lambda f: (f.received_at, f.path.name), reverse=True)


def fingerprint(files: list[DeliveryFile], source: Source) -> str:
    """What 'unchanged' means: the same files, read by the same reader with the same declarations."""
    h = hashlib.sha256(f"{READER_VERSION}|{source.declaration_sha}|{catalog.reference_sha()}|{reference.fingerprint()}"
                       f"|{reference.province_code()}".encode())
    for f in sorted(files, key=lambda f: f.relative):
        h.update(f"|{f.relative}:{f.sha256}".encode())
    return h.hexdigest()


# ------------------------------------------------------------------ what a month's publication is made from

CODE_DIRS = ("p06", "assets", "pipelines", "checks")


def history_window(rules=None) -> int:
    """How many months before a month its rules read: the longest outlier series, at least one (last month)."""
    from p06.reconcile.rules import HISTORY_KINDS, load_rules
    rules = load_rules() if rules is None else rules
    return max([1, *(getattr(r, "history_months", 1) for r in rules if r.kind in HISTORY_KINDS)])


def month_before(period: str, months: int) -> str:
    """The month `months` months before `period`."""
    index = int(period[:4]) * 12 + int(period[5:7]) - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def release_sha() -> str:
    """The declarations (catalog/, checks/rules.yaml, checks/publication.yaml) and the code: a change in any
    republishes (and validates again) every month."""
    h = hashlib.sha256()
    root = config.REPO_DIR
    paths = [p for p in sorted(config.CATALOG_DIR.rglob("*")) if p.is_file()]
    paths += [config.CHECKS_DIR / "rules.yaml", config.CHECKS_DIR / "publication.yaml"]
    paths += [p for d in CODE_DIRS for p in sorted((root / d).rglob("*.py"))]
    for p in paths:
        h.update(f"{p.relative_to(root).as_posix()}:".encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def source_month_fingerprints(raw_dir: Path, periods: list[str]) -> dict[tuple[str, str], str | None]:
    """(period, source) -> fingerprint of its files (None when the folder has none)."""
    out = {}
    for period in periods:
        for source in catalog.sources().values():
            files = delivery_files(raw_dir, source.id, period)
            out[(period, source.id)] = fingerprint(files, source) if files else None
    return out


def processed_fingerprints(raw_dir: Path, periods: list[str], processed: dict[tuple[str, str], str],
                           window: int | None = None) -> dict[tuple[str, str], str | None]:
    """The fingerprints `month_inputs` needs for `periods`, as the warehouse last processed them (`processed`:
    (period, source) -> fingerprint of raw.deliveries), for the source-months whose folder has files.
    A publication records these, not the landing zone's: a file dropped during the run is not counted
    as published, and the next `p06 run` finds it."""
    window = history_window() if window is None else window
    first, last = month_before(min(periods), window), max(periods)
    out = {}
    for period in landing_periods(raw_dir):
        if first <= period <= last:
            for source in catalog.sources():
                folder = raw_dir / period / source
                has_files = folder.is_dir() and any(is_delivery_file(f) for f in folder.iterdir())
                out[(period, source)] = processed.get((period, source)) if has_files else None
    return out


def month_inputs(raw_dir: Path, periods: list[str], window: int | None = None,
                 fingerprints: dict[tuple[str, str], str | None] | None = None) -> dict[str, str]:
    """period -> digest of what its publication reads: the deliveries of the month and of the `window`
    months before it (history rules, last month's values), the declarations and the code."""
    window = history_window() if window is None else window
    landing = landing_periods(raw_dir)
    wanted = sorted({p for period in periods for p in landing if month_before(period, window) <= p <= period})
    fps = dict(fingerprints or {})
    missing = [p for p in wanted if (p, next(iter(catalog.sources()))) not in fps]
    fps.update(source_month_fingerprints(raw_dir, missing))
    release = release_sha()
    out = {}
    for period in periods:
        h = hashlib.sha256(f"{release}|{window}".encode())
        for (p, source), fp in sorted(fps.items()):
            if month_before(period, window) <= p <= period:
                h.update(f"|{p}/{source}:{fp}".encode())
        out[period] = h.hexdigest()
    return out
