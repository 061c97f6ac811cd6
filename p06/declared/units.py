"""A declared unit (a row of catalog/national/services.csv or catalog/provinces/<code>/units.csv): tax office, tax unit, public service ...

Administrative units come from the generated national reference (p06/reference.py); units no national list
holds are declared per province and validated here (types, unknown columns refused, dates in order).
"""
from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic.dataclasses import dataclass

from p06.declared.base import Identifier


@dataclass(frozen=True, config=ConfigDict(extra="forbid", use_attribute_docstrings=True))
class Unit:
    unit_kind: Identifier
    """province, district, commune, tax_office, tax_unit, service ..."""
    unit_code: Annotated[str, Field(min_length=1)]
    """The declared code of the unit (CCT01, TCS01, PL2-08)."""
    name_vi: Annotated[str, Field(min_length=1)]
    """Official name."""
    name_en: str
    """English name."""
    group_vi: str
    """Group it is listed under (the department of an appendix III service), or empty."""
    valid_from: date | None
    """First day the unit exists; None since ever."""
    valid_to: date | None
    """Last day the unit exists; None while it still does."""
    aliases: tuple[str, ...] = ()
    """Other names it is written under."""

    @field_validator("valid_from", mode="before")
    @classmethod
    def _since_ever(cls, value):
        return value or None

    @field_validator("valid_to", mode="before")
    @classmethod
    def _still_valid(cls, value):
        return value or None

    @field_validator("aliases", mode="before")
    @classmethod
    def _split(cls, value):
        return tuple(a for a in value.split("|") if a) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _dates_in_order(self):
        if self.valid_to is not None and self.valid_from is not None and self.valid_to < self.valid_from:
            raise ValueError(f"valid_to {self.valid_to} is before valid_from {self.valid_from}")
        return self

    def valid_on(self, day: date | None) -> bool:
        if day is None:
            return True
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)
