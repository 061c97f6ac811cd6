"""Reconcile a month in the warehouse: read staging.observations, write marts.reconciliation_findings
and marts.rule_summary.

A month's findings and summary are replaced together (DELETE + INSERT in one transaction),
so re-running a month never leaves it half written. Reconciliation never withholds a figure:
it only reports.
"""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

import duckdb
import polars as pl

from p06 import warehouse
from p06.landing import history_window, month_before
from p06.reconcile import engine, register
from p06.reconcile.frames import OBSERVATION_SCHEMA
from p06.reconcile.rules import Rule, load_rules

FINDINGS_TABLE = "marts.reconciliation_findings"
SUMMARY_TABLE = "marts.rule_summary"

DDL = f"""
CREATE SCHEMA IF NOT EXISTS marts;
CREATE TABLE IF NOT EXISTS {FINDINGS_TABLE} (
    period        VARCHAR NOT NULL,      -- YYYY-MM
    source        VARCHAR NOT NULL,
    unit_kind     VARCHAR,               -- province (a total row, a whole source) | district | tax_office | service
    unit_code     VARCHAR,
    unit_name     VARCHAR,
    rule_id       VARCHAR NOT NULL,      -- checks/rules.yaml
    rule_kind     VARCHAR NOT NULL,
    severity      VARCHAR NOT NULL,      -- error | warning
    measure       VARCHAR,               -- the figure the finding is about
    expected      DOUBLE,                -- what the other figures imply (ratios as fractions)
    actual        DOUBLE,                -- what the delivery states
    difference    DOUBLE,                -- actual - expected
    message_vi    VARCHAR NOT NULL,
    message_en    VARCHAR NOT NULL,
    file          VARCHAR,               -- lineage of the figures involved
    sheet         VARCHAR,
    cell          VARCHAR,               -- cells joined with '; ' (I8:I34 for a column of unit rows)
    delivery_id   BIGINT,
    reconciled_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS {SUMMARY_TABLE} (
    period        VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,
    rule_id       VARCHAR NOT NULL,
    rule_kind     VARCHAR NOT NULL,
    severity      VARCHAR NOT NULL,
    items         INTEGER NOT NULL,      -- rule instances confronted
    passed        INTEGER NOT NULL,
    failed        INTEGER NOT NULL,
    missing       INTEGER NOT NULL,      -- not evaluable: blank figures, no earlier month, no total row
    reconciled_at TIMESTAMP NOT NULL
);
"""

OBSERVATION_COLUMNS = list(OBSERVATION_SCHEMA)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def read_observations(con: duckdb.DuckDBPyConnection, period: str) -> pl.DataFrame:
    """staging.observations of the month and every earlier month."""
    cols = ", ".join(OBSERVATION_COLUMNS)
    return con.sql(f"SELECT {cols} FROM staging.observations WHERE period <= ? ORDER BY period, source",
                   params=[period]).pl()


def _replace(con: duckdb.DuckDBPyConnection, table: str, period: str, frame: pl.DataFrame,
             stamp: datetime) -> None:
    cols = list(frame.columns)
    name = f"_reconcile_{table.split('.')[-1]}"
    con.register(name, frame.with_columns(pl.lit(stamp).alias("reconciled_at")))
    try:
        con.execute(f"DELETE FROM {table} WHERE period = ?", [period])
        names = ", ".join(cols + ["reconciled_at"])
        con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {name}")
    finally:
        con.unregister(name)


def write_result(con: duckdb.DuckDBPyConnection, result: engine.Reconciliation) -> None:
    """Replace the month's findings and summary in one transaction."""
    ensure_tables(con)
    stamp = datetime.now().replace(microsecond=0)
    with warehouse.transaction(con):
        _replace(con, FINDINGS_TABLE, result.period, result.findings, stamp)
        _replace(con, SUMMARY_TABLE, result.period, result.summary, stamp)


def reconcile_period(con: duckdb.DuckDBPyConnection, period: str,
                     rules: Sequence[Rule] | None = None) -> engine.Reconciliation:
    """Reconcile one month from staging (with the earlier months its rules compare with) and store the result."""
    return reconcile_periods(con, [period], rules)[period]


def reconcile_periods(con: duckdb.DuckDBPyConnection, periods: Sequence[str],
                      rules: Sequence[Rule] | None = None) -> dict[str, engine.Reconciliation]:
    """Reconcile several months, reading staging once (each month with only the months its history rules
    compare with), and store every month's result in one transaction. The results hold findings and summaries
    (their items are dropped: a long history's would fill the memory)."""
    rules = tuple(rules if rules is not None else load_rules())
    periods = sorted(set(periods))
    if not periods:
        return {}
    window = history_window(rules)
    cols = ", ".join(OBSERVATION_COLUMNS)
    everything = con.sql(f"SELECT {cols} FROM staging.observations WHERE period BETWEEN ? AND ? ORDER BY period, source",
                         params=[month_before(periods[0], window), periods[-1]]).pl()
    results = engine.reconcile_months(everything, periods, rules, window=window, keep_items=False)
    ensure_tables(con)
    stamp = datetime.now().replace(microsecond=0)
    with warehouse.transaction(con):
        for result in results.values():
            _replace(con, FINDINGS_TABLE, result.period, result.findings, stamp)
            _replace(con, SUMMARY_TABLE, result.period, result.summary, stamp)
        register.follow(con, periods, stamp)            # the findings register (p06/reconcile/register.py)
    return results


def read_findings(con: duckdb.DuckDBPyConnection, period: str | None = None) -> pl.DataFrame:
    """Stored findings, errors first (all months when `period` is None)."""
    ensure_tables(con)
    where, params = ("WHERE period = ?", [period]) if period else ("", [])
    return con.sql(f"SELECT * FROM {FINDINGS_TABLE} {where} "
                   "ORDER BY period, severity = 'warning', source, rule_id, unit_code", params=params).pl()
