"""What callers show of a month's reconciliation: one source's findings and check, a text summary."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from p06.reconcile.engine import Reconciliation


def source_findings(findings: pl.DataFrame, source: str) -> pl.DataFrame:
    """The findings of one source (for its Dagster asset check)."""
    return findings.filter(pl.col("source") == source)


def source_summary(summary: pl.DataFrame, source: str) -> pl.DataFrame:
    """The per-rule summary rows of one source."""
    return summary.filter(pl.col("source") == source)


@dataclass(frozen=True)
class SourceCheck:
    """What a per-source asset check shows: counts, the failing cases, the rule summary."""
    source: str
    errors: int
    warnings: int
    failing: pl.DataFrame
    summary: pl.DataFrame

    @property
    def passed(self) -> bool:
        return self.errors == 0 and self.warnings == 0

    @property
    def severity(self) -> str | None:
        return "error" if self.errors else ("warning" if self.warnings else None)


def source_check(result: Reconciliation, source: str) -> SourceCheck:
    failing = source_findings(result.findings, source)
    return SourceCheck(
        source=source,
        errors=failing.filter(pl.col("severity") == "error").height,
        warnings=failing.filter(pl.col("severity") == "warning").height,
        failing=failing.select("unit_code", "unit_name", "rule_id", "severity", "expected", "actual",
                               "difference", "file", "sheet", "cell", "message_vi"),
        summary=source_summary(result.summary, source),
    )


def format_summary(result: Reconciliation, limit: int = 20) -> str:
    """A short text summary of a month's findings (for `p06 run` / `p06 check`)."""
    f = result.findings
    lines = [f"{result.period}: {result.errors} error(s), {result.warnings} warning(s) "
             f"from {result.summary['items'].sum()} rule instances"]
    for row in f.head(limit).iter_rows(named=True):
        lines.append(f"  [{row['severity']}] {row['source']} {row['unit_code']} {row['rule_id']}: {row['message_en']}")
    if f.height > limit:
        lines.append(f"  ... and {f.height - limit} more")
    return "\n".join(lines)
