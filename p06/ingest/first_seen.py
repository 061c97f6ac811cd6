"""The order of a source-month's files (a later file's tables and units supersede an earlier file's, p06.ingest.parts)
is by the time a file was first seen, not by its modification time (which copying a file rewrites, or keeps
from an old e-mail). raw.deliveries records `first_seen_at` for every file processed and
keeps it when the same file (same path and sha256) is processed again; a file never seen before is first seen
now. Files first seen at the same time (dropped together) are ordered by modification time, then name."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import duckdb

from p06.landing import DeliveryFile


def first_seen(con: duckdb.DuckDBPyConnection, files: list[DeliveryFile], now: datetime) -> list[DeliveryFile]:
    """The files with `first_seen_at` set, newest first."""
    seen = {(path, sha): at for path, sha, at in con.execute(
        "SELECT path, sha256, min(coalesce(first_seen_at, processed_at)) FROM raw.deliveries "
        "WHERE path IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL", [[f.relative for f in files]]).fetchall()}
    dated = [replace(f, first_seen_at=seen.get((f.relative, f.sha256)) or now) for f in files]
    return sorted(dated, key=lambda f: (f.first_seen_at, f.received_at, f.path.name), reverse=True)
