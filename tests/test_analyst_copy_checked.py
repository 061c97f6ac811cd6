"""Nothing unchecked reaches the analysts' copy (issue 15, reproduction 1).

A re-send of August whose publication fails its checks (a tax office's matched IDs above those to review: a
share above 100%) fails `p06 run`; a later `p06 run --period 2023-09` passes and makes a new analysts' copy. The
copy must still serve August's checked figures (its last checked vintage), and August must stay to be done
(`raw.publication_state` does not record it). Materialising `exports/analyst_copy` alone (the UI) does the same.
"""
from __future__ import annotations

import duckdb
import pytest
from conftest import copy_sample_run, landing_env, make_newer, sample_file

from p06.landing import landing_periods
from pipelines import cli

TAX = "SELECT unit_code, indicator_code, numerator, denominator, value FROM marts.indicator_monthly " \
      "WHERE period = '2023-08' AND source = 'thue' ORDER BY ALL"


def rows(path, sql, params=None):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def failed_august(sample_run, tmp_path_factory):
    """Both months published; then August's tax file re-sent with CCT01's matched IDs above those to review,
    whose publication fails its checks."""
    run = copy_sample_run(sample_run, tmp_path_factory.mktemp("copy_checked"))
    raw = run["raw"]
    with landing_env(raw, run["warehouse"]) as env:
        copy, db = env["warehouse"] / "p06_published.duckdb", env["warehouse"] / "p06.duckdb"
        checked = rows(copy, TAX)
        original = sample_file(raw, "2023-08", "thue")
        text = original.read_text(encoding="utf-8-sig")
        assert "CCT01;Chi cục Thuế thành phố Thanh Hóa;300278;218254;82024" in text
        resent = original.with_name("rasoat_mst_canhan_202308_gui_lai.csv")
        resent.write_text(text.replace(";300278;218254;", ";300278;410000;"), encoding="utf-8-sig")
        make_newer(resent, original)
        failed = cli.main(["run", "--period", "2023-08"])
        yield {**env, "copy": copy, "db": db, "checked": checked, "failed": failed}


def test_the_failed_resend_fails_its_run_and_is_in_the_warehouse_only(failed_august):
    env = failed_august
    assert env["failed"] != 0
    published = rows(env["db"], TAX)
    assert ("CCT01", "TAX_IDS_MATCHED_SHARE", 410000.0, 300278.0, pytest.approx(100 * 410000 / 300278)) in published
    assert rows(env["copy"], TAX) == env["checked"]


def test_a_later_month_run_keeps_augusts_checked_figures_in_the_copy(failed_august):
    env = failed_august
    assert cli.main(["run", "--period", "2023-09"]) == 0          # September passes, a new copy is made
    assert rows(env["copy"], "SELECT count(*) FROM marts.indicator_monthly WHERE period = '2023-09'")[0][0] > 0
    assert rows(env["copy"], TAX) == env["checked"]
    cct01 = [r for r in rows(env["copy"], TAX) if r[:2] == ("CCT01", "TAX_IDS_MATCHED_SHARE")]
    assert cct01 and cct01[0][2] == 218254
    # the copy holds only checked vintages, and August's staging rows of the re-send are not in it
    assert rows(env["copy"], "SELECT count(*) FROM marts.publications WHERE NOT checked") == [(0,)]
    assert rows(env["copy"], "SELECT count(*) FROM staging.observations WHERE period = '2023-08' AND source = 'thue' "
                             "AND value = 410000") == [(0,)]
    # the quarter is added up from the checked August
    (quarter,), = rows(env["copy"], "SELECT numerator FROM marts.indicator_period WHERE period = '2023-Q3' "
                                    "AND unit_code = 'CCT01' AND indicator_code = 'TAX_IDS_MATCHED_SHARE'")
    assert quarter != 410000
    # August is not recorded as done: the next `p06 run` plans it again
    stale, _ = cli.stale_months(env["raw"], landing_periods(env["raw"]), landing_periods(env["raw"]))
    assert "2023-08" in stale


def test_the_analyst_copy_asset_alone_serves_the_checked_vintage(failed_august):
    import dagster as dg

    from assets.publish import analyst_copy
    from p06.publish import state
    from pipelines.resources import default_resources
    env = failed_august
    with duckdb.connect(str(env["db"])) as con:
        before = state.stored(con, "inputs_sha").get("2023-08")
    result = dg.materialize([analyst_copy], partition_key="2023-08", resources=default_resources())
    assert result.success
    assert rows(env["copy"], TAX) == env["checked"]
    with duckdb.connect(str(env["db"])) as con:
        assert state.stored(con, "inputs_sha").get("2023-08") == before      # not recorded as done


def test_running_august_again_fails_again_and_says_what_the_copy_serves(failed_august, capsys):
    env = failed_august
    capsys.readouterr()
    assert cli.main(["run", "--period", "2023-08"]) != 0
    out = capsys.readouterr()
    assert "check failed: values_within_bounds:" in out.err and "CCT01" in out.err
    assert "NOT CHECKED: the month's last publication did not pass its checks; the analysts' copy serves vintage 1" \
        in out.out
    assert rows(env["copy"], TAX) == env["checked"]
