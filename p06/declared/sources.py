"""A source declaration (catalog/sources/<source>.yaml): what a department sends, by which units, in which months."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from p06.declared.base import Declared, Identifier, YearMonth
from p06.periods import next_period

MeasureKind = Literal["count", "ratio", "text"]
Nature = Literal["stock", "flow", "level", "target"]
Scope = Literal["month", "cumulative"]


def header_path(alias: str | list | tuple) -> tuple[str, ...]:
    """'Group > Leaf' names a leaf under a merged group header; a plain text names a single header."""
    parts = alias if isinstance(alias, (list, tuple)) else str(alias).split(" > ")
    return tuple(str(part).strip() for part in parts)


class Measure(Declared):
    """One figure a source delivers per unit: a column of its sheet."""

    id: Identifier
    """Stable id, used by rules, indicators and staging.observations.measure."""
    label_vi: str = Field(min_length=1)
    """Name as the department writes it (messages to departments use it)."""
    label_en: str = Field(min_length=1)
    """English name."""
    kind: MeasureKind
    """count (a number of things), ratio (a stated share of two counts) or text."""
    headers: tuple[tuple[str, ...], ...] = Field(json_schema_extra={"yaml_type": "list of text"})
    """Header texts that identify the column, each a header path: 'Group > Leaf' for a leaf under a merged group."""
    nature: Nature | None = None
    """stock (cumulative, must not fall), flow (of the month), level (a state) or target (set by a document)."""
    scope: Scope = Field(json_schema_extra={"default": "by nature"})
    """Whether the column holds the month's figure ('Trong tháng') or the cumulative one ('Lũy kế').
    Default: month for a flow, cumulative otherwise."""
    required: bool = False
    """A delivery without this column (or with it blank throughout) is refused."""
    ratio_of: tuple[Identifier, Identifier] | None = None
    """For a stated ratio: (numerator, denominator), both count measures of the same source."""
    ratio_max: float | None = Field(None, gt=0)
    """For a ratio: the largest value it can take, as a fraction (1 for a part of a whole: 100%); a cell
    beyond it is refused. None: no upper bound (attainment of a target can pass 100%)."""

    @model_validator(mode="before")
    @classmethod
    def _default_scope(cls, data):
        if isinstance(data, dict) and data.get("scope") is None:
            data = {**data, "scope": "month" if data.get("nature") == "flow" else "cumulative"}
        return data

    @field_validator("headers", mode="before")
    @classmethod
    def _paths(cls, value):
        if not isinstance(value, (list, tuple)):
            raise ValueError("a list of header texts ('Group > Leaf' for a leaf under a merged group)")
        paths = tuple(header_path(alias) for alias in value)
        if not paths:
            raise ValueError("at least one header text")
        if any(not part for path in paths for part in path):
            raise ValueError("a header text or one of its ' > ' parts is empty")
        return paths

    @model_validator(mode="after")
    def _ratio_of_is_for_ratios(self):
        if self.ratio_max is not None and self.kind != "ratio":
            raise ValueError(f"ratio_max is for ratio measures; {self.id} is a {self.kind}")
        if self.ratio_of and self.kind != "ratio":
            raise ValueError(f"ratio_of is for ratio measures; {self.id} is a {self.kind}")
        return self


class UnitKindPeriod(Declared):
    """The unit kind of a source's rows over a span of months (open-ended where a bound is absent)."""

    unit_kind: Identifier
    """Kind of the units the rows name (district, commune, tax_office, tax_unit, service ...; see catalog/units.csv)."""
    from_: YearMonth | None = Field(None, alias="from")
    """First month of the span ('YYYY-MM'); absent: since the source is expected."""
    until: YearMonth | None = None
    """Last month of the span ('YYYY-MM'); absent: for as long as the source is expected."""

    def covers(self, period: str) -> bool:
        return (self.from_ is None or self.from_ <= period) and (self.until is None or period <= self.until)

    @model_validator(mode="after")
    def _ordered(self):
        if self.from_ and self.until and self.from_ > self.until:
            raise ValueError(f"from {self.from_} is after until {self.until}")
        return self

    def __str__(self) -> str:
        """'district until 2025-06', 'commune from 2025-07', 'service'."""
        return " ".join([self.unit_kind, *([f"from {self.from_}"] if self.from_ else []),
                         *([f"until {self.until}"] if self.until else [])])


class Source(Declared):
    """A department's monthly delivery: its measures, the months it is expected and the units of its rows."""

    id: Identifier = Field(alias="source")
    """Source id: the folder of raw/<YYYY-MM>/ its files are filed under (YAML key `source`)."""
    department_vi: str = Field(min_length=1)
    """Sending department, in Vietnamese."""
    department_en: str = Field(min_length=1)
    """Sending department, in English."""
    expected_from: YearMonth | None = None
    """First month the source is expected ('YYYY-MM'); absent: from the first month on record."""
    expected_until: YearMonth | None = None
    """Last month the source is expected ('YYYY-MM'), e.g. when a campaign ended; absent: still expected."""
    unit_kinds: tuple[UnitKindPeriod, ...] = Field(json_schema_extra={"default": "or `unit_kind: X`"})
    """Unit kind of the rows by period, earliest first, contiguous; `unit_kind: X` is shorthand for one open span."""
    measures: tuple[Measure, ...]
    """The figures the source delivers."""
    declaration_sha: str = Field("", exclude=True)
    """sha256 of the declaration file (set by the loader: a change makes unchanged files be read again)."""

    @model_validator(mode="before")
    @classmethod
    def _unit_kind_shorthand(cls, data):
        if isinstance(data, dict) and "unit_kind" in data:
            if "unit_kinds" in data:
                raise ValueError("give either unit_kind (one kind throughout) or unit_kinds (by period), not both")
            data = {k: v for k, v in data.items() if k != "unit_kind"} | {"unit_kinds": [{"unit_kind": data["unit_kind"]}]}
        return data

    @model_validator(mode="after")
    def _measures_fit_together(self):
        if not self.measures:
            raise ValueError("measures: a source declares at least one measure")
        ids = [m.id for m in self.measures]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"measure ids declared more than once: {twice}")
        by_id = {m.id: m for m in self.measures}
        for m in self.measures:
            if not m.ratio_of:
                continue
            undeclared = [p for p in m.ratio_of if p not in by_id]
            if undeclared:
                raise ValueError(f"ratio {m.id}: ratio_of names measures this source does not declare: {undeclared}")
            not_counts = [p for p in m.ratio_of if by_id[p].kind != "count"]
            if not_counts:
                raise ValueError(f"ratio {m.id}: ratio_of must name count measures, not {not_counts}")
            scopes = {by_id[p].scope for p in m.ratio_of}
            if scopes != {m.scope}:
                raise ValueError(f"ratio {m.id}: scope {m.scope} differs from its parts' {sorted(scopes)}; "
                                 f"declare scope: {sorted(scopes)[0]} on it" if len(scopes) == 1 else
                                 f"ratio {m.id}: its parts {list(m.ratio_of)} have different scopes")
        return self

    @model_validator(mode="after")
    def _periods_fit_together(self):
        if self.expected_from and self.expected_until and self.expected_from > self.expected_until:
            raise ValueError(f"expected_from {self.expected_from} is after expected_until {self.expected_until}")
        spans = self.unit_kinds
        if not spans:
            raise ValueError("unit_kinds: at least one span")
        starts = [s.from_ or "" for s in spans]
        if starts != sorted(starts):
            raise ValueError(f"unit_kinds: list the spans earliest first ({', '.join(str(s) for s in spans)})")
        for before, after in zip(spans, spans[1:]):
            if before.until is None or after.from_ is None:
                raise ValueError(f"unit_kinds: {before} and {after}: every span but the last needs `until`, "
                                 f"every span but the first needs `from`")
            if after.from_ <= before.until:
                raise ValueError(f"unit_kinds: {before} and {after} overlap")
            if after.from_ != next_period(before.until):
                raise ValueError(f"unit_kinds: a gap between {before} and {after}: no unit kind for "
                                 f"{next_period(before.until)}")
        first, last = spans[0], spans[-1]
        if first.from_ and (self.expected_from is None or first.from_ > self.expected_from):
            raise ValueError(f"unit_kinds: the first span {first} starts after the source is expected "
                             f"({self.expected_from or 'from the start'})")
        if last.until and (self.expected_until is None or last.until < self.expected_until):
            raise ValueError(f"unit_kinds: the last span {last} ends before the source stops being expected "
                             f"({self.expected_until or 'never'})")
        return self

    def measure(self, measure_id: str) -> Measure:
        return next(m for m in self.measures if m.id == measure_id)

    def expected_in(self, period: str) -> bool:
        """Whether a delivery is expected for the month 'YYYY-MM'."""
        return ((self.expected_from is None or self.expected_from <= period)
                and (self.expected_until is None or period <= self.expected_until))

    def unit_kind_in(self, period: str) -> str:
        """The unit kind of the rows of the month 'YYYY-MM'."""
        for span in self.unit_kinds:
            if span.covers(period):
                return span.unit_kind
        raise ValueError(f"source {self.id} declares no unit kind for {period}: "
                         f"{', '.join(str(s) for s in self.unit_kinds)}")

    @property
    def all_unit_kinds(self) -> tuple[str, ...]:
        """Every unit kind the rows come in over time, earliest first."""
        return tuple(dict.fromkeys(s.unit_kind for s in self.unit_kinds))

