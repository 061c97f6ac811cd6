"""The rule table `checks/rules.yaml`, validated by pydantic models and checked against the catalog.

A rule is data: which sources, which kind of test, over which measures, how strict and how
severe. Each kind is a model (a discriminated union on `kind`); `load_rules()` fails loudly,
naming the file, the rule and the field, on an unknown source, measure, kind, operator or
field, so a typo in the table never silently turns a rule off.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, ClassVar, Literal, Mapping, Union, get_args

from pydantic import Field, PlainValidator, ValidationInfo, field_validator, model_validator

from p06 import catalog, config
from p06.declared.base import Declared, read_yaml, shown, validate

RULES_PATH = config.CHECKS_DIR / "rules.yaml"

Op = Literal["==", "<=", ">="]
Severity = Literal["error", "warning"]
MissingPolicy = Literal["skip", "zero"]
AppliesTo = Literal["unit_rows", "total_row", "both"]
OPS = set(get_args(Op))
SEVERITIES = set(get_args(Severity))
MISSING_POLICIES = set(get_args(MissingPolicy))
APPLIES_TO = set(get_args(AppliesTo))
LAST_SHOWN_DECIMAL = "last_shown_decimal"
NATURES = catalog.NATURES - {None}
HISTORY_KINDS = {"stock_not_falling", "outlier"}   # need earlier months

_TERM = re.compile(r"\s*([+-])?\s*([A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?)\s*")


@dataclass(frozen=True)
class Term:
    sign: int                       # +1 or -1
    measure: str | None = None      # a measure id ...
    constant: float | None = None   # ... or a number


@dataclass(frozen=True)
class Expression:
    """A signed sum of measures (and constants): "a + b - c"."""
    text: str
    terms: tuple[Term, ...]

    @property
    def measures(self) -> tuple[str, ...]:
        return tuple(t.measure for t in self.terms if t.measure)


def parse_expression(spec: str | list | tuple) -> Expression:
    """Parse a measure id, a list of ids (summed) or a "a + b - c" string."""
    if isinstance(spec, (list, tuple)):
        spec = " + ".join(str(s) for s in spec)
    text = str(spec).strip()
    terms, pos = [], 0
    while pos < len(text):
        m = _TERM.match(text, pos)
        if not m or m.end() == pos or (terms and not m.group(1)):
            raise ValueError(f"cannot read expression {text!r} at {text[pos:]!r}")
        sign = -1 if m.group(1) == "-" else 1
        token = m.group(2)
        if token[0].isdigit():
            terms.append(Term(sign, constant=float(token)))
        else:
            terms.append(Term(sign, measure=token))
        pos = m.end()
    if not terms:
        raise ValueError("empty expression")
    return Expression(text, tuple(terms))



Expr = Annotated[Expression, PlainValidator(lambda v: v if isinstance(v, Expression) else parse_expression(v))]
Tolerance = Annotated[float, Field(ge=0)]


def _declared(info: ValidationInfo) -> Mapping[str, catalog.Source]:
    return (info.context or {}).get("sources") or catalog.sources()


class Rule(Declared):
    """Fields every rule has; each kind below adds its own."""

    id: str = Field(min_length=1)
    """Unique, stable: findings and summaries carry it."""
    description_vi: str = Field(min_length=1)
    """What the rule checks, in Vietnamese (finding messages use it)."""
    description_en: str = Field(min_length=1)
    """What the rule checks, in English."""
    kind: str
    """The kind of test (the models below)."""
    sources: tuple[str, ...] = Field(min_length=1)
    """Source ids (catalog/sources/*.yaml), or "all"."""
    severity: Severity
    """error: the delivered figures cannot all be true; warning: a claim disagrees, a stock falls, something is missing."""
    tolerance: Tolerance = 0.0
    """Absolute, in the unit of the figures compared."""
    missing: MissingPolicy = "skip"
    """skip: a case with a blank figure is counted as missing; zero: blanks count as 0."""
    applies_to: AppliesTo = "both"
    """unit_rows, total_row (the delivery's own total row) or both."""
    _takes_last_shown_decimal: ClassVar[bool] = False

    @field_validator("tolerance", mode="before")
    @classmethod
    def _last_shown_decimal_is_for_ratios(cls, value):
        if value == LAST_SHOWN_DECIMAL and not cls._takes_last_shown_decimal:
            raise ValueError(f"{LAST_SHOWN_DECIMAL!r} is for stated_ratio rules only; give a number")
        return value

    @field_validator("sources", mode="before")
    @classmethod
    def _all_sources(cls, value, info: ValidationInfo):
        declared = _declared(info)
        if value == "all":
            return tuple(declared)
        if isinstance(value, str):
            value = [value]
        unknown = [s for s in value if s not in declared]
        if unknown:
            raise ValueError(f"unknown sources {unknown}; declared: {sorted(declared)}")
        return value

    def named_measures(self) -> tuple[str, ...]:
        """Measures the rule names explicitly (each must be declared by every source of the rule)."""
        return ()

    @model_validator(mode="after")
    def _measures_declared(self, info: ValidationInfo):
        declared_sources = _declared(info)
        everywhere = {m.id for s in declared_sources.values() for m in s.measures}
        excluded = getattr(self, "exclude_measures", ())
        for sid in self.sources:
            declared = {m.id: m for m in declared_sources[sid].measures}
            unknown = [m for m in self.named_measures() if m not in declared]
            unknown += [m for m in excluded if m not in everywhere and m not in unknown]
            if unknown:
                raise ValueError(f"source {sid} declares no measure {unknown}")
            text = [m for m in self.named_measures() if declared[m].kind == "text"]
            if text:
                raise ValueError(f"{text} of {sid} are text, not figures")
            self._check_source(declared)
        return self

    def _check_source(self, declared: Mapping[str, catalog.Measure]) -> None:
        """Kind-specific facts about the measures of one source of the rule."""

    def measures_for(self, source: catalog.Source) -> tuple[str, ...]:
        """The measures of `source` this rule looks at."""
        return self.named_measures()


class CompareRule(Rule):
    """left op right, per unit row and/or total row: "remaining == to review - cleaned"."""

    kind: Literal["compare"]
    """The rule kind."""
    left: Expr = Field(json_schema_extra={"yaml_type": "expression"})
    """A measure id, a list of measure ids (summed), or "a + b - c"."""
    op: Op
    """How left compares with right."""
    right: Expr = Field(json_schema_extra={"yaml_type": "expression"})
    """Like left."""

    def named_measures(self) -> tuple[str, ...]:
        return self.left.measures + self.right.measures


class _SelectionRule(Rule):
    """A rule over a selection of a source's measures."""

    measures: tuple[str, ...] | None = None
    """Measure ids to check (default: every measure the kind applies to)."""
    natures: tuple[catalog.Nature, ...] | None = None
    """Select count measures by nature."""
    exclude_measures: tuple[str, ...] = ()
    """Measures the rule leaves out."""

    @field_validator("measures", "natures", mode="before")
    @classmethod
    def _empty_is_default(cls, value):
        return value or None

    def named_measures(self) -> tuple[str, ...]:
        return self.measures or ()

    def measures_for(self, source: catalog.Source) -> tuple[str, ...]:
        if self.measures is not None:
            chosen = [m for m in self.measures if any(x.id == m for x in source.measures)]
        elif self.kind == "stated_ratio":
            chosen = [m.id for m in source.measures if m.kind == "ratio" and m.ratio_of]
        else:
            chosen = [m.id for m in source.measures if m.kind == "count"
                      and (self.natures is None or m.nature in self.natures)]
        return tuple(m for m in chosen if m not in self.exclude_measures)


class StatedRatioRule(_SelectionRule):
    """A delivered ratio column agrees with its parts (ratio_of)."""

    kind: Literal["stated_ratio"]
    """The rule kind."""
    _takes_last_shown_decimal: ClassVar[bool] = True
    tolerance: Tolerance | Literal["last_shown_decimal"] = 0.0
    """Absolute (a fraction), or "last_shown_decimal": one unit of the last decimal the delivery shows."""

    def _check_source(self, declared: Mapping[str, catalog.Measure]) -> None:
        not_ratio = [m for m in self.measures or () if not declared[m].ratio_of]
        if not_ratio:
            raise ValueError(f"measures {not_ratio} are not ratios with ratio_of")


class StatedTotalRule(_SelectionRule):
    """The delivery's own total row equals the sum of its unit rows."""

    kind: Literal["stated_total"]
    """The rule kind."""


class StockNotFallingRule(_SelectionRule):
    """A stock does not fall from one month to the next."""

    kind: Literal["stock_not_falling"]
    """The rule kind."""


class OutlierRule(_SelectionRule):
    """A figure far from the unit's own history (modified z-score, or a jump test with little history)."""

    kind: Literal["outlier"]
    """The rule kind."""
    series: Literal["value", "change"] = "value"
    """value (the figure itself) or change (its month-over-month change)."""
    min_history: int = Field(6, ge=1)
    """Months of the series needed for the modified z-score; with fewer, the jump test is used."""
    z_threshold: float = Field(3.5, gt=0)
    """|modified z-score| above this is an outlier (Iglewicz & Hoaglin: 3.5)."""
    max_fold_change: float = Field(2.0, gt=1)
    """Jump test: the figure grew or shrank by more than this factor ..."""
    min_absolute_change: float = Field(100.0, ge=0)
    """... and by at least this many (keeps small counts quiet)."""

    @property
    def params(self) -> dict[str, float | int | str]:
        return {k: getattr(self, k) for k in ("series", "min_history", "z_threshold", "max_fold_change",
                                              "min_absolute_change")}


class CompletenessUnitsRule(Rule):
    """Every unit expected in the month is listed once, and no other."""

    kind: Literal["completeness_units"]
    """The rule kind."""


class CompletenessFiguresRule(_SelectionRule):
    """Every unit row reports every figure of its table (a blank cell where other units have figures)."""

    kind: Literal["completeness_figures"]
    """The rule kind."""


class CompletenessSourcesRule(Rule):
    """Every source expected in the month is delivered."""

    kind: Literal["completeness_sources"]
    """The rule kind."""


AnyRule = Annotated[Union[CompareRule, StatedRatioRule, StatedTotalRule, StockNotFallingRule, OutlierRule,
                          CompletenessUnitsRule, CompletenessFiguresRule, CompletenessSourcesRule],
                    Field(discriminator="kind")]
KINDS = {get_args(m.model_fields["kind"].annotation)[0] for m in get_args(get_args(AnyRule)[0])}


class RuleTable(Declared):
    """checks/rules.yaml."""

    rules: tuple[AnyRule, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self):
        ids = [r.id for r in self.rules]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"rules: duplicate id(s) {twice}")
        return self


@lru_cache(maxsize=8)
def _read_table(path: Path, mtime_ns: int) -> dict:
    return read_yaml(path) or {}


def load_rules(path: Path | None = None, sources: Mapping[str, catalog.Source] | None = None) -> tuple[Rule, ...]:
    """Read and validate the rule table; ids must be unique."""
    path = Path(path or RULES_PATH)
    return _validated(_read_table(path, path.stat().st_mtime_ns), shown(path), sources)


def parse_rules(entries: list[dict], sources: Mapping[str, catalog.Source] | None = None) -> tuple[Rule, ...]:
    """Rules from entries shaped like those of the table (validated the same way)."""
    return _validated({"rules": entries}, shown(RULES_PATH), sources)


def _validated(doc: dict, where: str, sources: Mapping[str, catalog.Source] | None) -> tuple[Rule, ...]:
    sources = sources if sources is not None else catalog.sources()
    return validate(RuleTable, doc, where, context={"sources": sources}).rules
