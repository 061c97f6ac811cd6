"""Where things are: locations come from environment variables with repo defaults."""
from __future__ import annotations

import os
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
CATALOG_DIR = REPO_DIR / "catalog"
CHECKS_DIR = REPO_DIR / "checks"


def raw_dir() -> Path:
    """The landing zone: raw/<YYYY-MM>/<source>/<file>."""
    return Path(os.environ.get("P06_RAW_DIR", REPO_DIR / "raw")).resolve()


def warehouse_dir() -> Path:
    """Everything the pipeline writes: the DuckDB file, exports, the analysts' copy."""
    return Path(os.environ.get("P06_WAREHOUSE_DIR", REPO_DIR / "warehouse")).resolve()


def warehouse_path() -> Path:
    return warehouse_dir() / "p06.duckdb"


def analyst_copy_path() -> Path:
    """Read-only copy published after each successful run, for analysts."""
    return warehouse_dir() / "p06_published.duckdb"
