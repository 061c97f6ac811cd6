"""Who issues the province's report (catalog/provinces/<code>/report.yaml): agency, number line, place, signer,
recipients. A province without the file gets defaults from its name in the reference: the province's People's
Committee issues it ("ỦY BAN NHÂN DÂN TỈNH NGHỆ AN"), from the province's name as the place."""
from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field

from p06 import config, reference
from p06.declared.base import Declared, YearMonth, validate_file


class Recipient(Declared):
    """A 'Nơi nhận' line that holds for some months only: bodies that the 2025 reform abolished or created."""

    text: str
    """The line as written ("UBND các xã, phường;")."""
    since: YearMonth | None = None
    """The first report month it applies to (none: from the start)."""
    until: YearMonth | None = None
    """The last report month it applies to (none: still)."""

    def applies(self, month: str) -> bool:
        return (self.since is None or self.since <= month) and (self.until is None or month <= self.until)


class ReportIssuer(Declared):
    """The letterhead and signature block of the province's reports."""

    agency_parent: str = ""
    """The parent body, upper case, first line top left (UBND TỈNH THANH HÓA); empty when the body has none."""
    agency: str
    """The issuing body, upper case, bold, under it; a line break ("\\n") where a long name is to break (each line
    of the letterhead stays on one line)."""
    number: str = "Số:       /BC-UBND"
    """The number and symbol line; the number is left blank for registration."""
    place: str
    """The place of the place/date line."""
    issuer_name: str = ""
    """Who reports, as a sentence names it ("Tổ công tác Đề án 06 tỉnh Thanh Hóa"): the opening, the closing and
    the appendices' "Kèm theo" line."""
    report_to: str = "Tổ công tác triển khai Đề án 06 của Chính phủ"
    """To whom the closing sentence reports ("... kính báo cáo <report_to>")."""
    signer_title: str = "CHỦ TỊCH"
    """The signer's title, above the signature."""
    signer_capacity: str = ""
    """The signer's own office under the title when signing for a body (CHỦ TỊCH UBND TỈNH); may be empty."""
    signer_name: str = ""
    """The signer's name, under the signature (blank: written by hand)."""
    recipients: tuple[str | Recipient, ...] = Field(default=("Lưu: VT.",))
    """The 'Nơi nhận' list: a line, or {text, since, until} for a line of some months only."""

    def recipients_of(self, month: str) -> list[str]:
        """The 'Nơi nhận' lines of a report whose last month is `month`."""
        return [r if isinstance(r, str) else r.text for r in self.recipients if isinstance(r, str) or r.applies(month)]

    @property
    def agency_lines(self) -> list[str]:
        return [line.strip() for line in self.agency.split("\n") if line.strip()]

    @property
    def number_only(self) -> str:
        """The number and symbol without 'Số:' ('      /BC-UBND'), as the appendices' "Kèm theo" line writes it."""
        text = self.number.strip()
        return text[3:].strip() if text.lower().startswith("số:") else text


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
    name = reference.province_name(code)                           # 'Tỉnh Thanh Hóa', 'Thành phố Đà Nẵng'
    return ReportIssuer(agency_parent="", agency=f"ỦY BAN NHÂN DÂN\n{name.upper()}",
                        place=reference.short_province_name(name),
                        issuer_name=f"Ủy ban nhân dân {name[:1].lower()}{name[1:]}")
