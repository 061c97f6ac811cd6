"""Where things are: locations come from environment variables with repo defaults."""
from __future__ import annotations

import os
import re
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


def province_code() -> str:
    """The province whose deliveries are read: its 2-digit national code (P06_PROVINCE, default 38)."""
    code = os.environ.get("P06_PROVINCE", "38").strip()
    if not re.fullmatch(r"\d{2}", code):
        raise ValueError(f"P06_PROVINCE must be a 2-digit national province code such as 38, found {code!r}")
    return code
