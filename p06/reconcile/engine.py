"""Evaluate the reconciliation rules on staging observations: frames in, findings and a summary out.

Each rule kind (`p06.reconcile.kinds`) first builds *items*, one row per rule instance, each
with a left-hand side, an operator, a right-hand side and a tolerance. pandera (polars backend)
then runs one check per rule over the items (`pandera_checks`); its failure cases become
findings carrying the file, sheet and cells of the figures involved. Items whose figures are
blank are counted as missing. Nothing here reads or writes files or the warehouse (the
catalog's cached declarations aside).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Callable, Iterable, Mapping, Sequence

import polars as pl

from p06 import catalog, reference
from p06.landing import month_before
from p06.reconcile import messages
from p06.reconcile.frames import (
    FINDING_SCHEMA,
    OBSERVATION_SCHEMA,
    SUMMARY_SCHEMA,
    conform,
    no_items,
)
from p06.reconcile.kinds import BUILDERS
from p06.reconcile.kinds.history import history_items, modified_z
from p06.reconcile.month import Month
from p06.reconcile.pandera_checks import failing_rows, item_schema
from p06.reconcile.rules import HISTORY_KINDS, KINDS, Rule, load_rules
from p06.reconcile.views import (
    SourceCheck,
    format_summary,
    source_check,
    source_findings,
    source_summary,
)

__all__ = [
    "OBSERVATION_SCHEMA", "Reconciliation", "SourceCheck", "check_delivery", "failing_rows", "format_summary",
    "item_schema", "modified_z", "reconcile", "reconcile_months", "source_check", "source_findings", "source_summary",
]

MONTHS_AT_ONCE = 12        # history items built together (memory grows with the months of a batch)

# A single delivery says nothing about the other sources of its month.
DELIVERY_KINDS = KINDS - HISTORY_KINDS - {"completeness_sources"}


@dataclass(frozen=True)
class Reconciliation:
    """Findings (one row per failed rule instance) and the per-rule summary of one month."""
    period: str
    findings: pl.DataFrame
    summary: pl.DataFrame
    items: pl.DataFrame = field(repr=False)

    @property
    def errors(self) -> int:
        return self.findings.filter(pl.col("severity") == "error").height

    @property
    def warnings(self) -> int:
        return self.findings.filter(pl.col("severity") == "warning").height


def _summary(items: pl.DataFrame, failed: list[int], rules: Sequence[Rule], sources: Iterable[str],
             period: str) -> pl.DataFrame:
    """Per rule and source: items, passed, failed, missing (rules with no item count zeros)."""
    flagged = items.with_row_index("_i").with_columns(pl.col("_i").is_in(failed).alias("_failed"))
    counts = flagged.group_by("source", "rule_id").agg(
        pl.len().alias("items"), pl.col("_failed").sum().alias("failed"), pl.col("is_missing").sum().alias("missing"))
    wanted = set(sources)
    pairs = pl.DataFrame(
        [dict(period=period, source=s, rule_id=r.id, rule_kind=r.kind, severity=r.severity)
         for r in rules for s in r.sources if s in wanted],
        schema={k: SUMMARY_SCHEMA[k] for k in ("period", "source", "rule_id", "rule_kind", "severity")})
    out = (pairs.join(counts, on=["source", "rule_id"], how="left")
           .with_columns(pl.col("items", "failed", "missing").fill_null(0).cast(pl.Int64))
           .with_columns((pl.col("items") - pl.col("failed") - pl.col("missing")).alias("passed")))
    return conform(out, SUMMARY_SCHEMA).sort("source", "rule_id")


def _findings(items: pl.DataFrame, failed: list[int], rules: Sequence[Rule],
              sources: Mapping[str, catalog.Source]) -> pl.DataFrame:
    """The failed items with their difference and messages, errors first."""
    by_id = {r.id: r for r in rules}
    rows = []
    picked = items.with_row_index("_i").filter(pl.col("_i").is_in(failed)).drop("_i")
    for row in picked.iter_rows(named=True):
        vi, en = messages.render(by_id[row["rule_id"]], row, sources.get(row["source"]))
        diff = None if row["actual"] is None or row["expected"] is None else row["actual"] - row["expected"]
        rows.append({**row, "difference": diff, "message_vi": vi, "message_en": en})
    frame = pl.DataFrame([{c: r.get(c) for c in FINDING_SCHEMA} for r in rows], schema=FINDING_SCHEMA)
    order = pl.col("severity").replace_strict({"error": 0, "warning": 1}, default=2, return_dtype=pl.Int8)
    return frame.sort(order, "source", "rule_id", "unit_code")


def reconcile(
    observations: pl.DataFrame,
    period: str,
    rules: Sequence[Rule] | None = None,
    *,
    sources: Mapping[str, catalog.Source] | None = None,
    expected_units: Callable[[str, date | None], list] = reference.expected_units,
    kinds: Iterable[str] | None = None,
    only_sources: Iterable[str] | None = None,
    precomputed: Mapping[tuple[str, str], pl.DataFrame] | None = None,
) -> Reconciliation:
    """Evaluate the rules for one month.

    `observations` has the shape of staging.observations and holds the month and any earlier
    months (used by the month-over-month rules). `kinds` limits the rule kinds run and
    `only_sources` the sources (both default to all). `precomputed`: items of history rules by
    (rule id, source), built for several months at once (`reconcile_months`).
    """
    sources = sources if sources is not None else catalog.sources()
    rules = tuple(rules if rules is not None else load_rules(sources=sources))
    if kinds is not None:
        rules = tuple(r for r in rules if r.kind in set(kinds))
    month = Month(period, conform(observations, OBSERVATION_SCHEMA).filter(pl.col("period") <= period),
                  expected_units, dict(precomputed or {}))
    in_scope = list(only_sources) if only_sources is not None else list(sources)
    frames = [BUILDERS[r.kind](r, sources[s], month) for r in rules for s in r.sources if s in in_scope]
    items = pl.concat(frames) if frames else no_items()
    items = items.with_columns(pl.col("is_missing") | pl.col("lhs").is_null() | pl.col("rhs").is_null())
    failed = failing_rows(items, rules)
    return Reconciliation(
        period=period,
        findings=_findings(items, failed, rules, sources),
        summary=_summary(items, failed, rules, in_scope, period),
        items=items,
    )


def reconcile_months(
    observations: pl.DataFrame,
    periods: Sequence[str],
    rules: Sequence[Rule] | None = None,
    *,
    window: int | None = None,
    sources: Mapping[str, catalog.Source] | None = None,
    keep_items: bool = True,
    **kwargs,
) -> dict[str, Reconciliation]:
    """Evaluate the rules for several months: `reconcile` of each month on the observations of its `window`
    months before it (all earlier ones when None), the history rules' items built for MONTHS_AT_ONCE months at
    a time. Without `keep_items`, the results keep findings and summaries only (a history's items are large)."""
    sources = sources if sources is not None else catalog.sources()
    rules = tuple(rules if rules is not None else load_rules(sources=sources))
    periods = sorted(set(periods))
    obs = conform(observations, OBSERVATION_SCHEMA)
    out = {}
    for start in range(0, len(periods), MONTHS_AT_ONCE):
        chunk = periods[start:start + MONTHS_AT_ONCE]
        built: dict[str, dict] = {p: {} for p in chunk}
        for rule in rules:
            if rule.kind in HISTORY_KINDS:
                for s in rule.sources:
                    for period, frame in history_items(rule, sources[s], obs, chunk, window).items():
                        built[period][(rule.id, s)] = frame
        for period in chunk:
            first = month_before(period, window) if window else ""
            seen = obs.filter(pl.col("period").is_between(pl.lit(first), pl.lit(period)))
            out[period] = reconcile(seen, period, rules, sources=sources, precomputed=built.pop(period), **kwargs)
            if not keep_items:
                out[period] = replace(out[period], items=out[period].items.clear())
    return out


def check_delivery(
    observations: pl.DataFrame,
    rules: Sequence[Rule] | None = None,
    history: pl.DataFrame | None = None,
    **kwargs,
) -> Reconciliation:
    """Findings for one delivery before it is filed (for `p06 check PATH`).

    Only the delivery's own sources are checked and source completeness is skipped; the
    month-over-month rules run only when `history` (earlier observations) is given.
    """
    obs = conform(observations, OBSERVATION_SCHEMA)
    periods = obs["period"].unique().to_list()
    if len(periods) != 1:
        raise ValueError(f"a delivery covers one month, found {sorted(periods)}")
    kinds = set(DELIVERY_KINDS)
    if history is not None:
        kinds |= HISTORY_KINDS
        obs = pl.concat([conform(history, OBSERVATION_SCHEMA).filter(pl.col("period") < periods[0]), obs])
    return reconcile(obs, periods[0], rules, kinds=kinds,
                     only_sources=observations["source"].unique().to_list(), **kwargs)
