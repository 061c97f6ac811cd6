"""Who issues the province's report (catalog/provinces/<code>/report.yaml): agency, number line, place, signer,
recipients. A province without the file gets defaults from its name in the reference: the province's People's
Committee issues it ("ỦY BAN NHÂN DÂN TỈNH NGHỆ AN"), from the province's name as the place."""
from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field

from p06 import config, reference
from p06.declared.base import Declared, validate_file


class ReportIssuer(Declared):
    """The letterhead and signature block of the province's reports."""

    agency_parent: str = ""
    """The parent body, upper case, first line top left (UBND TỈNH THANH HÓA); empty when the body has none."""
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


def issuer(code: str | None = None) -> ReportIssuer:
    """The province's issuer (P06_PROVINCE's when no code is given)."""
    return _issuer(code or reference.province_code())


@cache
def _issuer(code: str) -> ReportIssuer:
    file = path(code)
    if file.is_file():
        return validate_file(ReportIssuer, file)
    name = reference.province_name(code)                           # 'Tỉnh Thanh Hóa'
    _, _, bare = name.partition(" ")
    return ReportIssuer(agency_parent="", agency=f"ỦY BAN NHÂN DÂN {name.upper()}", place=bare or name)
