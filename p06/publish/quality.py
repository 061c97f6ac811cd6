"""Great Expectations over the published tables of a month, with Data Docs built offline.

What is validated is what the pipeline did not construct itself: the checks of checks/publication.yaml
(p06/publish/publication_checks.py), each a query over the warehouse comparing a publication with what it was
made from (province figures and the units' staging rows, values and their parts, last month's values, declared
bounds, whole counts, expected sources and units), judged by one expectation. A failed expectation fails the run
before the analysts' copy is replaced (assets/publish.py).
Frames are read from DuckDB into pandas (GX's SQL path to DuckDB is not used).
The GX project lives in `<warehouse>/gx`; Data Docs in `<warehouse>/gx/data_docs` (their CSS and scripts served
from the repository: p06/publish/data_docs_static.py).
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import duckdb
import pandas as pd

from p06.publish import data_docs_static
from p06.publish import publication_checks as checks

os.environ["GX_ANALYTICS_ENABLED"] = "false"    # before great_expectations is imported anywhere
log = logging.getLogger(__name__)

SITE = "p06_data_docs"
DATASOURCE = "p06_published"
OBSERVED = ("observed_value", "unexpected_count", "partial_unexpected_list", "missing_count", "partial_missing_list")


@dataclass
class QualitySummary:
    success: bool
    statistics: dict[str, int] = field(default_factory=dict)
    tables: dict[str, dict] = field(default_factory=dict)   # table -> {success, statistics, failed: [...]}
    data_docs_index: Path | None = None

    def as_dict(self) -> dict:
        return {"success": self.success, "statistics": self.statistics, "tables": self.tables,
                "data_docs_index": str(self.data_docs_index) if self.data_docs_index else None}


DECLARED_AGAIN = ("expectations", "validation_definitions", "checkpoints")   # stores every validation rewrites


def _set_aside(path: Path, why: str) -> None:
    aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%dT%H%M%S')}")
    os.replace(path, aside)
    log.warning("%s could not be read (%s); set aside as %s, made again", path, why, aside.name)


def _file_context(gx, warehouse_dir: Path):
    """The GX project, with what cannot be read made again. GX rewrites great_expectations.yml (its datasource,
    its Data Docs site), the suites and the validation definitions in place at every validation, so a run stopped
    at that moment leaves one of them cut short. Nothing in them is ours to lose: every validation declares them
    again. An unreadable file is set aside (`<name>.unreadable-<time>`), not deleted; results and Data Docs are
    not touched."""
    gx_dir = warehouse_dir / "gx"
    for store in DECLARED_AGAIN:
        for path in sorted((gx_dir / store).rglob("*.json")):
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                _set_aside(path, f"{type(exc).__name__}: {exc}")
    try:
        return gx.get_context(mode="file", project_root_dir=str(warehouse_dir))
    except Exception as exc:  # noqa: BLE001 (GX raises several kinds for one cut-short file)
        config = gx_dir / "great_expectations.yml"
        if not config.is_file():
            raise
        _set_aside(config, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        return gx.get_context(mode="file", project_root_dir=str(warehouse_dir))


def gx_context(warehouse_dir: Path):
    """The file-backed GX project under `<warehouse>/gx`, analytics off, one offline Data Docs site."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = _file_context(gx, Path(warehouse_dir))
    # GX parses its config-variables file at every read of a context variable (1,200 times for 13 months'
    # validation, a tenth of its time); the project uses none (its one value is an analytics id, analytics are
    # off), so the project names no such file: read again without it.
    if context.variables.config_variables_file_path:
        context.variables.config_variables_file_path = None
        context.variables.save()
        context = _file_context(gx, Path(warehouse_dir))
    if context.config.analytics_enabled is not False:
        context.enable_analytics(False)
    sites = context.list_data_docs_sites()
    if "local_site" in sites:
        context.delete_data_docs_site("local_site")
    if SITE not in sites:
        context.add_data_docs_site(SITE, {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": "data_docs/"},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.variables.save()
    return context


# ------------------------------------------------------------------ what to expect

def delivered_sources(con: duckdb.DuckDBPyConnection, period: str) -> set[str]:
    """Sources with an accepted delivery for the month."""
    rows = con.execute(
        "SELECT DISTINCT source FROM raw.deliveries WHERE period = ? AND status = 'loaded'", [period]
    ).fetchall()
    return {r[0] for r in rows}


def _periods(period: str | list[str]) -> list[str]:
    return [period] if isinstance(period, str) else sorted(period)


# ------------------------------------------------------------------ running

@dataclass
class Collected:
    """What a validation reads from the warehouse: the months, each check's columns and rows of those months
    (as frames, or as Parquet files read when needed), and the sources delivered each month. Plain data: it
    can be handed to another process."""
    periods: list[str]
    tables: dict[str, list[str]]
    frames: dict[str, pd.DataFrame]
    delivered: dict[str, set[str]]
    files: dict[str, str] = field(default_factory=dict)

    def frame(self, table: str) -> pd.DataFrame:
        if table not in self.frames:
            self.frames[table] = checks.read_check_file(Path(self.files[table]))
        return self.frames[table]

    def month_frames(self, table: str) -> Iterator[tuple[str, pd.DataFrame]]:
        """(month, the check's rows of that month) for each month; from a Parquet file, read month by month: a
        history's file holds about 105,000 rows a check, and the validation process then holds one month's."""
        by_month = "period" in self.tables[table]
        if table in self.frames or table not in self.files or not by_month:
            frame = self.frame(table)
            for period in self.periods:
                yield period, frame[frame["period"] == period].reset_index(drop=True) if by_month else frame
            return
        with duckdb.connect() as con:
            con.execute("CREATE TABLE rows AS FROM read_parquet(?)", [self.files[table]])    # compressed, in memory
            for period in self.periods:
                yield period, con.execute("FROM rows WHERE period = ?", [period]).df()


def collect(con: duckdb.DuckDBPyConnection, period: str | list[str], folder: Path | None = None) -> Collected:
    """The rows of every declared check for the months (the checks' queries run here, on the run's connection):
    as frames, or, given a `folder`, as Parquet files written there (for the validation process: the rows are
    not held in this process's memory)."""
    periods = _periods(period)
    delivered = {p: delivered_sources(con, p) for p in periods}
    if folder is None:
        frames = checks.check_frames(con, periods)
        return Collected(periods, {t: list(f.columns) for t, f in frames.items()}, frames, delivered)
    files = checks.write_check_files(con, periods, folder)
    return Collected(periods, {t: columns for t, (_, columns) in files.items()}, {}, delivered,
                     {t: str(path) for t, (path, _) in files.items()})


def _suites(collected: Collected) -> dict[str, list]:
    """One suite per declared check: `check_<id>` -> its expectation."""
    return {t: checks.expectations(t.removeprefix(checks.PREFIX)) for t in collected.tables}


def _failed(result, table: str, frame: pd.DataFrame) -> list[dict]:
    """The failed expectations of a validation: check, type, arguments, what was observed, the first failing
    rows (the check's few columns, ratios rounded)."""
    failed = []
    for r in result.results:
        if r.success:
            continue
        config = r.expectation_config
        observed = {k: r.result[k] for k in OBSERVED if r.result.get(k) not in (None, [])}
        check_id = table.removeprefix(checks.PREFIX)
        failed.append({"check": check_id, "description": config.description, "expectation": config.type,
                       "kwargs": {k: str(v) for k, v in config.kwargs.items() if k != "batch_id"},
                       "observed": str(observed)[:500],
                       "failing_rows": checks.failing_rows(check_id, frame)})
    return failed


def validate_publication(con: duckdb.DuckDBPyConnection, period: str | list[str], warehouse_dir: Path) -> QualitySummary:
    """Validate the published tables of a month (or of the months of a run, together: one validation per
    table, whatever the number of months), store the results and rebuild the Data Docs.

    When `p06 run` started a validation process ahead (`gx_worker`: Great Expectations imported while the
    run loads and reconciles), the validation runs there; else, or if it fails, here."""
    from p06.publish import gx_worker

    if not gx_worker.running():
        return validate_collected(collect(con, period), Path(warehouse_dir))
    with tempfile.TemporaryDirectory(prefix="p06-checks-") as folder:
        collected = collect(con, period, Path(folder))
        try:
            return gx_worker.validate(collected, Path(warehouse_dir))
        except gx_worker.WorkerError as exc:
            log.warning("validation process failed (%s); validating in this process", exc)
        return validate_collected(collected, Path(warehouse_dir))


def validate_collected(collected: Collected, warehouse_dir: Path) -> QualitySummary:
    """The Great Expectations part of `validate_publication`: one validation per month and table (run name
    `p06-<month>`, its data asset named '<table>, <month>' on its page), the suites' pages and this run's results
    rendered in the Data Docs."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    periods = collected.periods
    context = gx_context(Path(warehouse_dir))
    source = context.data_sources.add_or_update_pandas(DATASOURCE)
    run_ids = {p: RunIdentifier(run_name=f"p06-{p}") for p in periods}
    summary = QualitySummary(success=True, statistics={"evaluated_expectations": 0, "successful_expectations": 0,
                                                       "unsuccessful_expectations": 0})
    suites, ours = [], []
    for table, expectations in _suites(collected).items():
        asset = source.add_dataframe_asset(table)
        batch = asset.add_batch_definition_whole_dataframe(f"{table}_month")
        suite = context.suites.add_or_update(gx.ExpectationSuite(name=f"p06.{table}", expectations=expectations))
        suites.append(ExpectationSuiteIdentifier(name=suite.name))
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=f"p06.{table}", data=batch, suite=suite))
        stats = dict.fromkeys(summary.statistics, 0)
        failed = []
        for period, month in collected.month_frames(table):
            result = definition.run(batch_parameters={"dataframe": month}, run_id=run_ids[period], result_format="SUMMARY")
            key = ValidationResultIdentifier(batch_identifier=f"{DATASOURCE}-{table}", run_id=run_ids[period],
                                             expectation_suite_identifier=suites[-1])
            _name_asset(context, key, result, f"{table}, {period}")
            ours.append(key)
            for k in stats:
                stats[k] += int(result.statistics[k])
            failed += [{**f, "period": period} for f in _failed(result, table, month)]
        collected.frames.pop(table, None)          # one check's rows held at a time
        summary.tables[table] = {"success": not failed, "statistics": stats, "failed": failed}
        summary.success &= not failed
        for k, v in stats.items():
            summary.statistics[k] += v
    # Only this run's pages are rendered (and the index, and the suites' pages): the store keeps every earlier
    # run's results, and rendering all of them at every run would make each run slower than the last.
    built = time.time() - 1.0
    context.build_data_docs(site_names=[SITE], resource_identifiers=[*ours, *suites] or None)
    summary.data_docs_index = Path(warehouse_dir) / "gx" / "data_docs" / "index.html"
    data_docs_static.localize(summary.data_docs_index.parent, since=built)   # CSS and scripts from the repo
    return summary


def _name_asset(context, key, result, name: str) -> None:
    """Name the validated data on its Data Docs page: GX 1.x renders 'Data asset:' from the result's batch spec,
    which a dataframe batch leaves without a name ('Data asset: None'). The stored result is written again."""
    result.meta.setdefault("batch_spec", {})["data_asset_name"] = name
    if not context.validation_results_store.has_key(key):
        raise KeyError(f"validation result not stored where expected: {key}")
    context.validation_results_store.set(key, result)
