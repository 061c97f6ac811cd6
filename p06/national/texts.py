"""catalog/national.yaml: the nation's code and name, how provinces are ranked, the workbook's wording."""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from p06 import config
from p06.declared.base import Declared, validate_file

FILE = config.CATALOG_DIR / "national.yaml"


class NationalWorkbook(Declared):
    """Names and lines of the national workbook."""

    file: str
    """File name of a month's workbook ({period}: YYYY-MM)."""
    nation_sheet: str
    """Sheet of the national figures."""
    provinces_sheet: str
    """Sheet of every province's figures."""
    ranking_sheet: str
    """Sheet of the provinces ranked for each headline indicator."""
    publications_sheet: str
    """Sheet of the copies in use: province, vintage, published time, sha256."""
    nation_line: str
    """Under the nation sheet's table: {reporting}, {expected}, {period}."""
    partial_line: str
    """Under it when provinces are missing: {missing}."""
    received: str
    """A province whose copy holds the month."""
    missing: str
    """A province without a copy of the month."""
    quality: dict[Literal["complete", "partial"], str]
    """How the workbook writes a row's quality."""


class National(Declared):
    """The national roll-up's declarations."""

    nation_code: str
    """unit_code of the nation's rows."""
    nation_name: str
    """unit_name of the nation's rows."""
    ranking_best: Literal["highest", "lowest"]
    """Rank 1 is the province with the highest (or lowest) value."""
    workbook: NationalWorkbook
    """The national workbook."""


@cache
def load(path: Path = FILE) -> National:
    return validate_file(National, Path(path))
