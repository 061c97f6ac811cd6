"""Files that appear whole or not at all: written aside, flushed to disk, then renamed over the old one.

A run killed at any moment (kill -9, a power cut) leaves each file as it was before the run or as the run
wrote it, never half written: `os.replace` is atomic within a folder, and the fsyncs make the new content
and the rename durable before the run records that the month is published.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def fsync_path(path: Path, directory: bool = False) -> None:
    """Flush a file's data (or a folder's entries) to disk."""
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def durable_replace(tmp_path: Path, dest_path: Path) -> None:
    """fsync the written file, rename it over `dest_path` (atomic), fsync the folder."""
    fsync_path(tmp_path)
    os.replace(tmp_path, dest_path)
    fsync_path(Path(dest_path).parent, directory=True)


def temp_name(path: Path) -> Path:
    """A name beside `path` for its next version, unique to this process (keeps the suffix: writers
    choose the format by it)."""
    path = Path(path)
    return path.with_name(f".{path.stem}.tmp{os.getpid()}{path.suffix}")


@contextmanager
def atomic_file(path: Path | str) -> Iterator[Path]:
    """`with atomic_file(dest) as tmp: write(tmp)` — dest is replaced by tmp when the block succeeds;
    on failure the temporary file is removed and dest is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    tmp.unlink(missing_ok=True)
    try:
        yield tmp
        durable_replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path | str, text: str) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
