"""catalog/national.yaml: the nation's code and name, how provinces are ranked, the workbook's wording."""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from p06 import config
from p06.declared.base import Declared, validate_file
from p06.documents.report_config import ReportIssuer

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


class NationalReport(Declared):
    """The national Word report: who issues it and its sentences (Jinja2 with the report's number filters)."""

    file: str
    """File name of a month's report ({period}: YYYY-MM)."""
    issuer: ReportIssuer
    """The letterhead, number line, place, signer and recipients (as a province's report.yaml)."""
    motto: tuple[str, str]
    """The national motto, top right (Decree 30/2020/NĐ-CP)."""
    date_line: str
    """The place and date line ({{ place }}), the date left blank for the signer."""
    heading: str
    """The kind of document, above the title."""
    recipients_label: str
    """Above the recipients."""
    title: str
    """Title under the heading ({{ month }}: '9/2023')."""
    intro: str
    """First paragraph ({{ reporting }}, {{ expected }})."""
    partial: str
    """When provinces are missing ({{ month }}, {{ missing }})."""
    complete: str
    """When every province reported ({{ month }}, {{ expected }})."""
    figures_heading: str
    """Heading of the national figures."""
    figures_header: tuple[str, str, str, str, str]
    """Header of their table: number, indicator, value, unit, provinces reporting."""
    ranking_heading: str
    """Heading of the ranking."""
    ranking_caption: str
    """Caption of one headline indicator's ranking ({{ name }})."""
    ranking_header: tuple[str, str, str]
    """Header of a ranking table: rank, province, value."""
    publications_heading: str
    """Heading of the provinces' publications."""
    publications_header: tuple[str, str, str, str]
    """Header of their table: number, province, vintage, published."""
    not_received: str
    """A province without a copy of the month."""


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
    report: NationalReport
    """The national Word report."""


@cache
def load(path: Path = FILE) -> National:
    return validate_file(National, Path(path))
