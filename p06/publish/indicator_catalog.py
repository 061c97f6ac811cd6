"""The indicator catalog (catalog/indicators.yaml): utility groups, indicators, the public-services table.

An indicator is a count, or a numerator over a denominator (measures of one source, or the source's target)
times a factor, in the spirit of DHIS2 indicators. `load()` checks every entry against the source catalog and
fails on the first mistake, so a typo never silently drops a figure.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from p06 import catalog, config, vntext

CATALOG_FILE = config.CATALOG_DIR / "indicators.yaml"
TIME_AGGREGATIONS = {"last": {"stock", "level", "target"}, "sum": {"flow"}}
UNIT_AGGREGATIONS = {"sum"}


@dataclass(frozen=True)
class Indicator:
    code: str
    name_vi: str
    name_en: str
    group: int
    source: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]        # measures; the target measure when divided by the target
    target: str | None                  # target measure
    target_reference: dict | None       # who/what set the target, as declared
    factor: float
    decimals: int
    unit_vi: str                        # unit of the value as the report writes it: "%", "hồ sơ", "lượt"
    time_aggregation: str
    unit_aggregation: str
    levels: tuple[str, ...]
    related: tuple[str, ...] = ()

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


@dataclass(frozen=True)
class Appendix:
    key: str            # name of the appendix in the report templates: {pl2.count}
    prefix: str         # service codes of the appendix start with it: PL2-
    numeral: str        # II
    by_department: bool  # services listed under their department (group_label)
    name_vi: str
    name_en: str


@dataclass(frozen=True)
class PublicServices:
    """marts.public_services_monthly as declared: its appendices, columns and online ratio."""
    source: str
    appendices: tuple[Appendix, ...]
    columns: dict[str, str]             # table column -> dvc measure
    online_ratio: Indicator
    connected_statuses: tuple[str, ...]  # connection statuses that count as connected

    def is_connected(self, status: str | None) -> bool:
        key = vntext.match_key(status or "")
        return bool(key) and any(key.startswith(vntext.match_key(s)) for s in self.connected_statuses)


@dataclass(frozen=True)
class IndicatorCatalog:
    groups: dict[int, dict]             # utility group -> {name_vi, name_en}
    indicators: dict[str, Indicator]    # in file order
    public_services: PublicServices


def _fail(code: str, msg: str):
    raise ValueError(f"{CATALOG_FILE.name}: indicator {code}: {msg}")


def _indicator(doc: dict, groups: dict, sources: dict[str, catalog.Source]) -> Indicator:
    code = doc["code"]
    source = sources.get(doc["source"]) or _fail(code, f"unknown source {doc['source']!r}")
    target = doc.get("target")
    denominator = doc.get("denominator") or []
    if denominator == "target":
        if not target:
            _fail(code, "denominator 'target' needs a target")
        denominator = [target["measure"]]
    ind = Indicator(
        code=code, name_vi=doc["name_vi"], name_en=doc["name_en"], group=int(doc["group"]), source=source.id,
        numerator=tuple(doc["numerator"]), denominator=tuple(denominator),
        target=target["measure"] if target else None, target_reference=target or None,
        factor=float(doc["factor"]), decimals=int(doc["decimals"]), unit_vi=str(doc.get("unit_vi") or ""),
        time_aggregation=doc["time_aggregation"], unit_aggregation=doc["unit_aggregation"],
        levels=tuple(doc["levels"]), related=tuple(doc.get("related") or ()),
    )
    _validate(ind, groups, source)
    return ind


def _validate(ind: Indicator, groups: dict, source: catalog.Source) -> None:
    measures = {m.id: m for m in source.measures}
    counted = [*ind.numerator, *ind.denominator, *([ind.target] if ind.target else [])]
    if not ind.numerator:
        _fail(ind.code, "needs a numerator")
    for mid in [*counted, *ind.related]:
        if mid not in measures:
            _fail(ind.code, f"measure {mid!r} is not declared by source {source.id}")
    for mid in counted:
        if measures[mid].kind != "count":
            _fail(ind.code, f"measure {mid!r} is a {measures[mid].kind}; indicators are built from counts only")
    if ind.group not in groups:
        _fail(ind.code, f"unknown utility group {ind.group}")
    if ind.time_aggregation not in TIME_AGGREGATIONS:
        _fail(ind.code, f"time_aggregation must be one of {sorted(TIME_AGGREGATIONS)}")
    natures = {measures[m].nature for m in ind.numerator if measures[m].nature}
    if not natures <= TIME_AGGREGATIONS[ind.time_aggregation]:
        _fail(ind.code, f"time_aggregation {ind.time_aggregation!r} does not fit numerator natures {sorted(natures)}")
    if ind.unit_aggregation not in UNIT_AGGREGATIONS:
        _fail(ind.code, f"unit_aggregation must be one of {sorted(UNIT_AGGREGATIONS)}")
    if not ind.levels or not set(ind.levels) <= {"province", source.unit_kind}:
        _fail(ind.code, f"levels must be within province and {source.unit_kind}")
    if ind.factor <= 0 or ind.decimals < 0:
        _fail(ind.code, "factor must be positive and decimals not negative")
    if not ind.is_ratio and ind.factor != 1:
        _fail(ind.code, "a count (no denominator) has factor 1")
    if not ind.unit_vi or (ind.is_ratio and ind.factor == 100) != (ind.unit_vi == "%"):
        _fail(ind.code, "unit_vi is '%' for a percentage (factor 100) and the counted thing otherwise")


def _public_services(doc: dict, indicators: dict[str, Indicator], sources: dict[str, catalog.Source]) -> PublicServices:
    source = sources[doc["source"]]
    ratio = indicators[doc["online_ratio_indicator"]]
    columns = dict(doc["columns"])
    if not set(columns.values()) <= {m.id for m in source.measures}:
        raise ValueError(f"{CATALOG_FILE.name}: public_services: columns name measures {source.id} does not declare")
    if ratio.source != source.id or not {*ratio.numerator, *ratio.denominator} <= set(columns.values()):
        raise ValueError(f"{CATALOG_FILE.name}: public_services: the online ratio must use measures of the table's columns")
    appendices = tuple(Appendix(key=a["key"], prefix=a["prefix"], numeral=a["appendix"], by_department=a["by_department"],
                                name_vi=a["name_vi"], name_en=a["name_en"]) for a in doc["appendices"])
    return PublicServices(source=source.id, appendices=appendices, columns=columns, online_ratio=ratio,
                          connected_statuses=tuple(doc["connected_statuses"]))


@cache
def load(path: Path = CATALOG_FILE) -> IndicatorCatalog:
    """The catalog, validated against the source catalog."""
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    groups = {int(k): dict(v) for k, v in doc["utility_groups"].items()}
    sources = catalog.sources()
    found: dict[str, Indicator] = {}
    for entry in doc["indicators"]:
        ind = _indicator(entry, groups, sources)
        if ind.code in found:
            _fail(ind.code, "declared twice")
        found[ind.code] = ind
    return IndicatorCatalog(groups=groups, indicators=found,
                            public_services=_public_services(doc["public_services"], found, sources))


def indicators(path: Path = CATALOG_FILE) -> dict[str, Indicator]:
    return load(path).indicators
