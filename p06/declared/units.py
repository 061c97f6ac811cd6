"""A reference unit (a row of catalog/units.csv): province, district, commune, tax office, public service ...

A pydantic dataclass rather than a BaseModel so that positional construction keeps working; it is
validated the same way (types, unknown fields refused, validity dates in order).
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
    """National code (38, 380, 14758), or the declared code of a non-administrative unit (CCT01, PL2-08)."""
    name_vi: Annotated[str, Field(min_length=1)]
    """Official name."""
    name_en: str
    """English name."""
    parent_code: str
    """Code of the unit it belongs to (a district's province), or empty."""
    group_vi: str
    """Group it is listed under (the department of an appendix III service), or empty."""
    valid_from: date
    """First day the unit exists."""
    valid_to: date | None
    """Last day the unit exists; None while it still does."""
    aliases: tuple[str, ...] = ()
    """Other names it is written under."""

    @field_validator("valid_from", mode="before")
    @classmethod
    def _since_ever(cls, value):
        return value or date.min

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
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError(f"valid_to {self.valid_to} is before valid_from {self.valid_from}")
        return self

    def valid_on(self, day: date | None) -> bool:
        if day is None:
            return True
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)
