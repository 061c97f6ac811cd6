"""The rule table `checks/rules.yaml`, read into dataclasses and checked against the catalog.

A rule is data: which sources, which kind of test, over which measures, how strict and how
severe. `load_rules()` fails loudly on an unknown source, measure, kind or operator, so a
typo in the table never silently turns a rule off.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import yaml

from p06 import catalog, config

RULES_PATH = config.CHECKS_DIR / "rules.yaml"

OPS = {"==", "<=", ">="}
SEVERITIES = {"error", "warning"}
MISSING_POLICIES = {"skip", "zero"}
APPLIES_TO = {"unit_rows", "total_row", "both"}
LAST_SHOWN_DECIMAL = "last_shown_decimal"
NATURES = catalog.NATURES - {None}
OUTLIER_DEFAULTS = {
    "series": "value", "min_history": 6, "z_threshold": 3.5,
    "max_fold_change": 2.0, "min_absolute_change": 100.0,
}
# The fields a rule of each kind takes: a misspelt or misplaced field is an error, never ignored.
COMMON_FIELDS = {"id", "description_vi", "description_en", "kind", "sources", "severity", "tolerance", "missing",
                 "applies_to"}
_SELECTION = {"measures", "natures", "exclude_measures"}
KIND_FIELDS = {
    "compare": {"left", "op", "right"},
    "stated_ratio": _SELECTION, "stated_total": _SELECTION, "stock_not_falling": _SELECTION,
    "outlier": _SELECTION | set(OUTLIER_DEFAULTS),
    "completeness_units": set(), "completeness_sources": set(), "completeness_figures": _SELECTION,
}
KINDS = set(KIND_FIELDS)
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


@dataclass(frozen=True)
class Rule:
    id: str
    description_vi: str
    description_en: str
    kind: str
    sources: tuple[str, ...]
    severity: str
    tolerance: float | str          # absolute, or LAST_SHOWN_DECIMAL
    missing: str                    # skip | zero
    applies_to: str                 # unit_rows | total_row | both
    left: Expression | None = None
    op: str | None = None
    right: Expression | None = None
    measures: tuple[str, ...] | None = None
    natures: tuple[str, ...] | None = None
    exclude_measures: tuple[str, ...] = ()
    params: Mapping[str, float | int | str] = field(default_factory=dict)

    def measures_for(self, source: catalog.Source) -> tuple[str, ...]:
        """The measures of `source` this rule looks at."""
        if self.kind == "compare":
            return self.left.measures + self.right.measures
        if self.measures is not None:
            chosen = [m for m in self.measures if any(x.id == m for x in source.measures)]
        elif self.kind == "stated_ratio":
            chosen = [m.id for m in source.measures if m.kind == "ratio" and m.ratio_of]
        else:
            chosen = [m.id for m in source.measures if m.kind == "count"
                      and (self.natures is None or m.nature in self.natures)]
        return tuple(m for m in chosen if m not in self.exclude_measures)


def _fail(rule_id: str, text: str) -> ValueError:
    return ValueError(f"{RULES_PATH.name}: rule {rule_id}: {text}")


def _choice(entry: dict, key: str, allowed: set, rule_id: str, default=None):
    value = entry.get(key, default)
    if value not in allowed:
        raise _fail(rule_id, f"{key} must be one of {sorted(allowed)}, found {value!r}")
    return value


def _rule_from(entry: dict, sources: Mapping[str, catalog.Source]) -> Rule:
    rule_id = entry.get("id") or "?"
    for key in ("id", "description_vi", "description_en", "kind", "sources", "severity"):
        if not entry.get(key):
            raise _fail(rule_id, f"{key} is required")
    kind = _choice(entry, "kind", KINDS, rule_id)
    unknown = set(entry) - COMMON_FIELDS - KIND_FIELDS[kind]
    if unknown:
        raise _fail(rule_id, f"unknown field(s) {sorted(unknown)} for a {kind} rule; it takes "
                             f"{sorted(COMMON_FIELDS | KIND_FIELDS[kind])}")
    src = tuple(sources) if entry["sources"] == "all" else tuple(entry["sources"])
    unknown = [s for s in src if s not in sources]
    if unknown:
        raise _fail(rule_id, f"unknown sources {unknown}")
    tolerance = entry.get("tolerance", 0)
    if tolerance != LAST_SHOWN_DECIMAL and not isinstance(tolerance, (int, float)):
        raise _fail(rule_id, f"tolerance must be a number or {LAST_SHOWN_DECIMAL!r}")
    natures = tuple(entry["natures"]) if entry.get("natures") else None
    if natures and not set(natures) <= NATURES:
        raise _fail(rule_id, f"natures must be among {sorted(NATURES)}")
    params = {}
    if kind == "outlier":
        params = {k: entry.get(k, v) for k, v in OUTLIER_DEFAULTS.items()}
        if params["series"] not in ("value", "change"):
            raise _fail(rule_id, "series must be value or change")
    rule = Rule(
        id=rule_id, description_vi=entry["description_vi"], description_en=entry["description_en"],
        kind=kind, sources=src,
        severity=_choice(entry, "severity", SEVERITIES, rule_id),
        tolerance=tolerance if tolerance == LAST_SHOWN_DECIMAL else float(tolerance),
        missing=_choice(entry, "missing", MISSING_POLICIES, rule_id, "skip"),
        applies_to=_choice(entry, "applies_to", APPLIES_TO, rule_id, "both"),
        left=parse_expression(entry["left"]) if "left" in entry else None,
        op=entry.get("op"),
        right=parse_expression(entry["right"]) if "right" in entry else None,
        measures=tuple(entry["measures"]) if entry.get("measures") else None,
        natures=natures, exclude_measures=tuple(entry.get("exclude_measures") or ()), params=params,
    )
    _check_measures(rule, sources)
    return rule


def _check_measures(rule: Rule, sources: Mapping[str, catalog.Source]) -> None:
    if rule.kind == "compare":
        if rule.left is None or rule.right is None or rule.op not in OPS:
            raise _fail(rule.id, f"compare needs left, right and op in {sorted(OPS)}")
    if rule.tolerance == LAST_SHOWN_DECIMAL and rule.kind != "stated_ratio":
        raise _fail(rule.id, f"tolerance {LAST_SHOWN_DECIMAL!r} is for stated_ratio rules only")
    if rule.tolerance != LAST_SHOWN_DECIMAL and rule.tolerance < 0:
        raise _fail(rule.id, "tolerance must not be negative")
    for key in ("min_history", "z_threshold", "max_fold_change", "min_absolute_change"):
        if key in rule.params and not isinstance(rule.params[key], (int, float)):
            raise _fail(rule.id, f"{key} must be a number")
    for sid in rule.sources:
        declared = {m.id: m for m in sources[sid].measures}
        wanted = (rule.left.measures + rule.right.measures) if rule.kind == "compare" else (rule.measures or ())
        unknown = [m for m in wanted if m not in declared]
        everywhere = {m.id for s in sources.values() for m in s.measures}
        unknown += [m for m in rule.exclude_measures if m not in everywhere and m not in unknown]
        if unknown:
            raise _fail(rule.id, f"source {sid} declares no measure {unknown}")
        text = [m for m in wanted if declared[m].kind == "text"]
        if text:
            raise _fail(rule.id, f"{text} of {sid} are text, not figures")
        if rule.kind == "stated_ratio" and rule.measures:
            not_ratio = [m for m in rule.measures if not declared[m].ratio_of]
            if not_ratio:
                raise _fail(rule.id, f"{not_ratio} of {sid} are not ratios with ratio_of")


@lru_cache(maxsize=8)
def _read_table(path: Path, mtime_ns: int) -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}


def load_rules(path: Path | None = None, sources: Mapping[str, catalog.Source] | None = None) -> tuple[Rule, ...]:
    """Read and validate the rule table; ids must be unique."""
    path = Path(path or RULES_PATH)
    return parse_rules(_read_table(path, path.stat().st_mtime_ns).get("rules", []), sources)


def parse_rules(entries: list[dict], sources: Mapping[str, catalog.Source] | None = None) -> tuple[Rule, ...]:
    """Rules from entries shaped like those of the table (validated the same way)."""
    sources = sources if sources is not None else catalog.sources()
    rules = tuple(_rule_from(entry, sources) for entry in entries)
    seen = set()
    for r in rules:
        if r.id in seen:
            raise _fail(r.id, "duplicate id")
        seen.add(r.id)
    return rules
