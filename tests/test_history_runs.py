"""A generated history of a few months, run as `p06 run` runs it: one Dagster run over the months, the
unchanged fast path, a corrected re-send that republishes only what depends on it."""
import json
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import landing_env

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import history  # noqa: E402

from p06 import warehouse  # noqa: E402
from p06.publish import state  # noqa: E402
from pipelines import cli  # noqa: E402

MONTHS = history.months("2023-08", "2023-10")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("history")
    raw = base / "raw"
    history.write_history(raw, MONTHS[0], MONTHS[-1])
    with landing_env(raw, base / "warehouse") as env:
        yield env


@pytest.fixture(scope="module")
def worker_months(env):
    """The months the export worker process claimed in the first run (filled by `first_run`)."""
    return []


@pytest.fixture(scope="module")
def first_run(env, worker_months):
    """The first run, with the export worker taking the last month: after the first month the run's process
    waits for the validation process's answer (then the worker starts), after the second until the worker has
    claimed the last one."""
    from p06.documents import export_worker
    folders, mine = [], []

    class Recorded(export_worker.Claims):
        def __init__(self, folder):
            super().__init__(folder)
            folders.append(self.folder)

        def claim(self, month):
            taken = super().claim(month)
            mine.extend([month] if taken else [])
            return taken
    write_months = export_worker.write_months

    def write_months_waiting(con, months, warehouse_dir, write, before_writing, ready):
        def write_then_wait(c, month):
            write(c, month)
            until = {MONTHS[0]: ready, MONTHS[1]: lambda: (folders[0] / MONTHS[2]).exists()}.get(month, lambda: True)
            deadline = time.monotonic() + 120
            while not until() and time.monotonic() < deadline:
                time.sleep(0.05)
        write_months(con, months, warehouse_dir, write_then_wait, before_writing, ready)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(export_worker, "MIN_MONTHS", len(MONTHS))
        mp.setattr(export_worker, "MIN_LEFT", 1)
        mp.setattr(export_worker, "Claims", Recorded)
        mp.setattr(export_worker, "write_months", write_months_waiting)
        code = cli.main(["run"])
    worker_months.extend(m for m in MONTHS if m not in mine)
    return code


def query(env, sql, params=None):
    con = duckdb.connect(str(env["warehouse"] / "p06.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_generated_history_is_consistent(env):
    """Totals are the sums of the unit rows, parts add up, stocks do not fall (the generator's promise)."""
    with warehouse.connect(env["warehouse"] / "gen.duckdb") as con:
        from p06.ingest.load import ingest_period
        results = [r for m in MONTHS for r in ingest_period(con, env["raw"], m)]
        from p06.reconcile.store import reconcile_periods
        findings = reconcile_periods(con, MONTHS)
    assert all(r.status == "loaded" for r in results), [r.line() for r in results if r.status != "loaded"]
    rules = {row["rule_id"] for f in findings.values() for row in f.findings.iter_rows(named=True)}
    assert not any(r.endswith(("total", "parts", "stated_ratio")) for r in rules), rules
    assert "stock_not_falling" not in rules
    (env["warehouse"] / "gen.duckdb").unlink()


def test_one_run_publishes_every_month(env, first_run, worker_months, capsys):
    assert first_run == 0
    assert worker_months == [MONTHS[-1]]             # written by the export worker, settled by the run
    for month in MONTHS:
        quality = json.loads((env["warehouse"] / "exports" / month / "quality.json").read_text())
        assert quality["success"] and quality["periods_validated_together"] == MONTHS
        assert (env["warehouse"] / "exports" / month / f"bao_cao_DA06_{month}.docx").is_file()
        assert not (env["warehouse"] / "exports" / f".pending-{month}").exists()
    assert [p for (p,) in query(env, "SELECT DISTINCT period FROM marts.indicator_monthly ORDER BY 1")] == MONTHS
    for month in MONTHS:
        assert (env["warehouse"] / "exports" / month / f"DA06_{month}.xlsx").is_file()
    inputs = dict(query(env, "SELECT period, inputs_sha FROM raw.publication_state"))
    assert sorted(inputs) == MONTHS and all(inputs.values())
    assert (env["warehouse"] / "p06_published.duckdb").is_file()


def test_unchanged_run_skips_dagster_and_prints_the_same_summary(env, first_run, capsys, monkeypatch):
    capsys.readouterr()
    # Through Dagster, nothing new: every month is run again because its recorded inputs are gone.
    with warehouse.connect(env["warehouse"] / "p06.duckdb") as con:
        con.execute("DELETE FROM raw.publication_state")
    assert cli.main(["run"]) == 0
    through_dagster = capsys.readouterr().out
    assert f"ran {MONTHS[0]} to {MONTHS[-1]}" in through_dagster
    # Now the fast path: it must not start a run, and must say the same thing.
    monkeypatch.setattr(cli, "_run_dagster", lambda *a, **k: pytest.fail("an unchanged run started Dagster"))
    before = query(env, "SELECT count(*) FROM raw.deliveries")
    assert cli.main(["run"]) == 0
    fast = capsys.readouterr().out
    assert "nothing changed since the last run" in fast
    assert query(env, "SELECT count(*) FROM raw.deliveries") == before

    def body(text):
        return text.rsplit("\n\n", 1)[0]            # the last line says how the run went and its times
    assert body(fast) == body(through_dagster)
    assert fast.count(" unchanged ") == 9 * len(MONTHS)          # tiem_chung is expected in 2023


def test_a_corrected_resend_republishes_that_month_and_what_depends_on_it(env, first_run, capsys):
    exports = {m: env["warehouse"] / "exports" / m / f"DA06_{m}.xlsx" for m in MONTHS}
    written = {m: p.stat().st_mtime_ns for m, p in exports.items()}
    with warehouse.connect(env["warehouse"] / "p06.duckdb") as con:
        digests = {m: state.content_sha(con, m) for m in MONTHS}
    resent = history.resend(env["raw"], MONTHS[1], "vneid", bump=0.05)
    capsys.readouterr()
    assert cli.main(["run"]) == 0
    out = capsys.readouterr().out
    assert f"ran {MONTHS[1]} to {MONTHS[-1]}" in out                  # not the month before it
    assert "vneid          loaded" in out.split(f"\n{MONTHS[1]}")[1].split(f"\n{MONTHS[2]}")[0]
    assert f"{MONTHS[2]}  republished: it compares with {MONTHS[1]}, which changed" in out
    with warehouse.connect(env["warehouse"] / "p06.duckdb") as con:
        after = {m: state.content_sha(con, m) for m in MONTHS}
    rewritten = {m for m in MONTHS if exports[m].stat().st_mtime_ns != written[m]}
    assert after[MONTHS[0]] == digests[MONTHS[0]] and MONTHS[0] not in rewritten
    assert after[MONTHS[1]] != digests[MONTHS[1]] and after[MONTHS[2]] != digests[MONTHS[2]]   # its last month's value
    assert rewritten == {m for m in MONTHS if after[m] != digests[m]}
    (previous,), = query(env, "SELECT previous_value FROM marts.indicator_monthly WHERE period = ? AND unit_level = "
                              "'province' AND indicator_code = 'EID_ACTIVATED_VS_TARGET'", [MONTHS[2]])
    (value,), = query(env, "SELECT value FROM marts.indicator_monthly WHERE period = ? AND unit_level = "
                           "'province' AND indicator_code = 'EID_ACTIVATED_VS_TARGET'", [MONTHS[1]])
    assert previous == pytest.approx(value)
    # The month after says why it is a new vintage: its "last month" figures changed, because the month before was
    # corrected by the re-sent file (not "unexplained", not "0 figures corrected")
    errata = query(env, "SELECT figure, cause, file, count(*) FROM marts.errata WHERE period = ? AND vintage = 2 "
                        "AND source = 'vneid' AND published_table <> 'reconciliation_findings' GROUP BY ALL ORDER BY ALL",
                   [MONTHS[2]])
    assert {(figure, cause) for figure, cause, _, _ in errata} >= {("previous_value", "earlier_month")}, errata
    assert {cause for _, cause, _, _ in errata} == {"earlier_month"}, errata
    assert {Path(file).name for _, _, file, _ in errata} == {resent[0].name}, errata
    (stated,), = query(env, "SELECT errata FROM marts.publications WHERE period = ? AND vintage = 2", [MONTHS[2]])
    assert stated == sum(n for *_, n in errata) + query(env, "SELECT count(*) FROM marts.errata WHERE period = ? "
                                                               "AND vintage = 2 AND source <> 'vneid' AND published_table "
                                                               "<> 'reconciliation_findings'", [MONTHS[2]])[0][0]


def test_sensor_asks_for_one_run_over_a_history(env):
    import dagster as dg

    from pipelines.resources import LandingZone
    from pipelines.sensors import landing_zone_sensor
    context = dg.build_sensor_context(resources={"landing_zone": LandingZone(path=str(env["raw"]))})
    (request,) = landing_zone_sensor(context).run_requests
    assert request.partition_key is None
    assert (request.tags["dagster/asset_partition_range_start"], request.tags["dagster/asset_partition_range_end"]) \
        == (MONTHS[0], MONTHS[-1])


def test_validation_in_its_own_process_gives_the_same_result(env, first_run, tmp_path):
    """`p06 run` validates in a process started ahead (Great Expectations imports meanwhile), from the checks' rows
    written to Parquet files: same verdict as from the frames here."""
    from p06.publish import gx_worker, quality
    (tmp_path / "rows").mkdir()
    with warehouse.connect(env["warehouse"] / "p06.duckdb") as con:
        collected = quality.collect(con, MONTHS)
        as_files = quality.collect(con, MONTHS, tmp_path / "rows")    # what the run hands over: Parquet files
    assert as_files.tables == collected.tables and not as_files.frames
    here = quality.validate_collected(collected, tmp_path / "here")
    gx_worker.start()
    assert gx_worker.running()
    there = gx_worker.validate(as_files, tmp_path / "there")
    assert not gx_worker.running()                      # one validation, then it ends
    assert (there.success, there.statistics, there.tables) == (here.success, here.statistics, here.tables)
    assert here.statistics["evaluated_expectations"] > 0
    assert (tmp_path / "there" / "gx" / "data_docs" / "index.html").is_file()


def test_months_the_cli_accepts_without_dagster_are_the_partitions():
    from p06.landing import first_month
    from p06.periods import next_period, previous_period
    from pipelines.partitions import monthly_partitions
    keys = monthly_partitions.get_partition_keys()
    assert first_month() == keys[0] and all(cli._valid_month(k) for k in keys)
    assert not cli._valid_month(next_period(keys[-1])) and not cli._valid_month(previous_period(keys[0]))


def test_a_file_dropped_during_a_run_is_not_counted_as_published(env, first_run):
    """The publication records the fingerprints the warehouse processed, not the landing zone's: a file that
    arrives while a run publishes (here: a run that does not load its source) is found by the next p06 run."""
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.jobs import DOWNSTREAM_KEYS
    assert cli.main(["run"]) in (0, 1) and cli.stale_months(env["raw"], MONTHS, MONTHS) == ([], set())
    history.resend(env["raw"], MONTHS[-1], "tre_em", bump=0.01)
    result = defs.resolve_job_def("monthly_job").execute_in_process(
        partition_key=MONTHS[-1], asset_selection=DOWNSTREAM_KEYS, instance=dg.DagsterInstance.ephemeral(),
        run_config=cli.QUIET)
    assert result.success
    assert cli.stale_months(env["raw"], MONTHS, MONTHS) == ([MONTHS[-1]], {"tre_em"})
