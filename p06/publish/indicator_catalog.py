"""The indicator catalog (catalog/indicators.yaml): utility groups, indicators, the public-services table.

An indicator is a count, or a numerator over a denominator (measures of one source, or the source's target)
times a factor, in the spirit of DHIS2 indicators. `load()` validates every entry with the models below and
against the source catalog, and fails naming the file, the indicator and the field, so a typo never silently
drops a figure.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import Field, ValidationInfo, model_validator

from p06 import catalog, config, vntext
from p06.declared.base import Declared, shown, validate_file

CATALOG_FILE = config.CATALOG_DIR / "indicators.yaml"
TIME_AGGREGATIONS = {"last": {"stock", "level", "target"}, "sum": {"flow"}}
UNIT_AGGREGATIONS = {"sum"}


class TargetReference(Declared):
    """Who or what set an indicator's target, as declared."""

    measure: str
    """The source's target measure."""
    assigned_by_vi: str
    """Who assigned it, in Vietnamese."""
    assigned_by_en: str
    """Who assigned it, in English."""
    document: str | None = None
    """The document that set the figure, when known."""
    plan: str | None = None
    """The plan the target belongs to."""
    evidence: str | None = None
    """Where the declaration comes from."""


class Indicator(Declared):
    """A published indicator: a count, or numerator / denominator * factor, per unit and for the province."""

    code: str = Field(min_length=1)
    """Stable identifier."""
    name_vi: str
    """Name as published, in Vietnamese."""
    name_en: str
    """Name as published, in English."""
    group: int
    """Project 06 utility group (a key of utility_groups)."""
    source: str
    """The source whose measures it uses."""
    numerator: tuple[str, ...] = Field(min_length=1)
    """Measures summed per unit (a unit's figure is unknown if any of them is blank)."""
    denominator: tuple[str, ...] = ()
    """Measures summed per unit, or `target` in the file (divide by the target); empty for a count."""
    target_reference: TargetReference | None = Field(None, alias="target")
    """The target it is compared to (YAML key `target`)."""
    factor: float = Field(gt=0)
    """100 for a percentage, 1 for a count."""
    decimals: int = Field(ge=0)
    """Decimals shown of the value; the published value itself is not rounded."""
    unit_vi: str = Field(min_length=1)
    """Unit of the value as the report writes it: '%' for a percentage, else what is counted ('hồ sơ')."""
    time_aggregation: Literal["last", "sum"]
    """How months add up: last (stock or level: the cut-off value), sum (flow: the month's count)."""
    unit_aggregation: Literal["sum"]
    """Numerator and denominator are each summed over units (a ratio of sums, never a mean of ratios)."""
    levels: tuple[str, ...] = Field(min_length=1)
    """Unit levels it is published at: province and unit kinds of its source."""
    related: tuple[str, ...] = ()
    """Extra measures whose findings also affect the quality flag."""

    @model_validator(mode="before")
    @classmethod
    def _denominator_target(cls, data):
        if isinstance(data, dict) and data.get("denominator") == "target":
            target = data.get("target")
            if not isinstance(target, dict) or not target.get("measure"):
                raise ValueError("denominator 'target' needs a target with its measure")
            data = {**data, "denominator": [target["measure"]]}
        return data

    @property
    def target(self) -> str | None:
        """The target measure, if any."""
        return self.target_reference.measure if self.target_reference else None

    @property
    def is_ratio(self) -> bool:
        return bool(self.denominator)

    @property
    def may_exceed_factor(self) -> bool:
        """Attainment of a target may pass 100%; a share of a whole may not."""
        return self.target is not None and self.denominator == (self.target,)

    def involved_measures(self, source: catalog.Source) -> tuple[str, ...]:
        """Measures whose findings bear on this indicator, including stated ratios of its own measures."""
        own = set(self.numerator) | set(self.denominator) | set(self.related) | ({self.target} - {None})
        ratios = {m.id for m in source.measures if m.ratio_of and set(m.ratio_of) <= own}
        return tuple(sorted(own | ratios))

    @model_validator(mode="after")
    def _fits_its_source(self, info: ValidationInfo):
        sources: Mapping[str, catalog.Source] = (info.context or {}).get("sources") or catalog.sources()
        source = sources.get(self.source)
        if source is None:
            raise ValueError(f"source: unknown source {self.source!r}; declared: {sorted(sources)}")
        measures = {m.id: m for m in source.measures}
        counted = [*self.numerator, *self.denominator, *([self.target] if self.target else [])]
        for mid in [*counted, *self.related]:
            if mid not in measures:
                raise ValueError(f"measure {mid!r} is not declared by source {source.id}")
        for mid in counted:
            if measures[mid].kind != "count":
                raise ValueError(f"measure {mid!r} is a {measures[mid].kind}; indicators are built from counts only")
        natures = {measures[m].nature for m in self.numerator if measures[m].nature}
        if not natures <= TIME_AGGREGATIONS[self.time_aggregation]:
            raise ValueError(f"time_aggregation {self.time_aggregation!r} does not fit numerator natures {sorted(natures)}")
        allowed = {"province", *source.all_unit_kinds}
        if not set(self.levels) <= allowed:
            raise ValueError(f"levels must be within {sorted(allowed)}, found {sorted(set(self.levels) - allowed)}")
        if not self.is_ratio and self.factor != 1:
            raise ValueError("factor: a count (no denominator) has factor 1")
        if (self.is_ratio and self.factor == 100) != (self.unit_vi == "%"):
            raise ValueError("unit_vi is '%' for a percentage (factor 100) and the counted thing otherwise")
        return self


class UtilityGroup(Declared):
    """A Project 06 utility group."""

    name_vi: str
    """Name, in Vietnamese."""
    name_en: str
    """Name, in English."""


class Appendix(Declared):
    """An appendix of the report listing public services."""

    key: str
    """Name of the appendix in the report templates: {pl2.count}."""
    prefix: str
    """Service codes of the appendix start with it: PL2-."""
    numeral: str = Field(alias="appendix")
    """Its numeral, II (YAML key `appendix`)."""
    by_department: bool
    """Services listed under their department (group_label)."""
    name_vi: str
    """Title, in Vietnamese."""
    name_en: str
    """Title, in English."""


class PublicServices(Declared):
    """marts.public_services_monthly as declared: its appendices, columns and online ratio."""

    source: str
    """The source of the services' figures (dvc)."""
    connected_statuses: tuple[str, ...]
    """Connection statuses that count as connected (matched on normalised text, at the start)."""
    appendices: tuple[Appendix, ...]
    """The report's appendices of services."""
    columns: dict[str, str]
    """Table column -> measure of the source."""
    online_ratio: Indicator = Field(alias="online_ratio_indicator", json_schema_extra={"yaml_type": "indicator code"})
    """The indicator computing the online ratio (YAML: its code, `online_ratio_indicator`)."""

    def is_connected(self, status: str | None) -> bool:
        key = vntext.match_key(status or "")
        return bool(key) and any(key.startswith(vntext.match_key(s)) for s in self.connected_statuses)


class IndicatorCatalog(Declared):
    """catalog/indicators.yaml."""

    anchors: dict[str, Any] = {}
    """YAML anchors reused by the entries below (&name ... *name); not read otherwise."""
    utility_groups: dict[int, UtilityGroup]
    """Utility group number -> its names."""
    indicators: dict[str, Indicator]
    """In file order (a list in the file, keyed by code here)."""
    public_services: PublicServices
    """marts.public_services_monthly."""

    @model_validator(mode="before")
    @classmethod
    def _by_code(cls, data):
        if not isinstance(data, dict) or not isinstance(data.get("indicators"), list):
            return data
        entries = data["indicators"]
        codes = [e.get("code") for e in entries if isinstance(e, dict)]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"indicators declared twice: {twice}")
        by_code = {e["code"]: e for e in entries if isinstance(e, dict) and "code" in e}
        services = data.get("public_services")
        if isinstance(services, dict) and isinstance(services.get("online_ratio_indicator"), str):
            code = services["online_ratio_indicator"]
            if code not in by_code:
                raise ValueError(f"public_services.online_ratio_indicator: no indicator {code!r}")
            services = {**services, "online_ratio_indicator": by_code[code]}
        return {**data, "indicators": by_code, "public_services": services}

    @model_validator(mode="after")
    def _fits_together(self, info: ValidationInfo):
        sources: Mapping[str, catalog.Source] = (info.context or {}).get("sources") or catalog.sources()
        for ind in self.indicators.values():
            if ind.group not in self.utility_groups:
                raise ValueError(f"indicator {ind.code}: group: unknown utility group {ind.group}")
        ps = self.public_services
        source = sources.get(ps.source)
        if source is None:
            raise ValueError(f"public_services.source: unknown source {ps.source!r}")
        if not set(ps.columns.values()) <= {m.id for m in source.measures}:
            raise ValueError(f"public_services.columns name measures {source.id} does not declare")
        ratio = ps.online_ratio
        if ratio.source != source.id or not {*ratio.numerator, *ratio.denominator} <= set(ps.columns.values()):
            raise ValueError("public_services.online_ratio_indicator: the online ratio must use measures of the "
                             "table's columns")
        return self

    @property
    def groups(self) -> dict[int, dict]:
        """Utility group -> {name_vi, name_en}."""
        return {k: g.model_dump() for k, g in self.utility_groups.items()}


@cache
def load(path: Path = CATALOG_FILE) -> IndicatorCatalog:
    """The catalog, validated against the source catalog."""
    path = Path(path)
    cat = validate_file(IndicatorCatalog, path, context={"sources": catalog.sources()})
    if not cat.indicators:
        raise ValueError(f"{shown(path)}: indicators: none declared")
    return cat


def indicators(path: Path = CATALOG_FILE) -> dict[str, Indicator]:
    return load(path).indicators
