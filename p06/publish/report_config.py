"""Who issues the province's report (catalog/provinces/<code>/report.yaml): agency, number line, place, signer,
recipients. A province without the file gets defaults from its name in the reference."""
from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field

from p06 import config, reference
from p06.declared.base import Declared, validate_file


class ReportIssuer(Declared):
    """The letterhead and signature block of the province's reports."""

    agency_parent: str
    """The parent body, upper case, first line top left (UBND TỈNH THANH HÓA)."""
    agency: str
    """The issuing body, upper case, bold, under it."""
    number: str = "Số:       /BC-UBND"
    """The number and symbol line; the number is left blank for registration."""
    place: str
    """The place of the place/date line."""
    signer_title: str = "CHỦ TỊCH"
    """The signer's title, above the signature."""
    signer_name: str = ""
    """The signer's name, under the signature (blank: written by hand)."""
    recipients: tuple[str, ...] = Field(default=("Lưu: VT.",))
    """The 'Nơi nhận' list."""


def path(code: str | None = None) -> Path:
    return config.CATALOG_DIR / "provinces" / (code or reference.province_code()) / "report.yaml"


@cache
def issuer(code: str | None = None) -> ReportIssuer:
    file = path(code)
    if file.is_file():
        return validate_file(ReportIssuer, file)
    name = reference.province_name(code)                           # 'Tỉnh Thanh Hóa'
    kind, _, bare = name.partition(" ")
    return ReportIssuer(agency_parent=f"UBND {name.upper()}", agency=f"UBND {name.upper()}", place=bare or name)
