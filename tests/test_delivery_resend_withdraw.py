"""Issue 15's reproductions 2 and 3 through `p06 run` on the sample months:
- a corrected re-send of Phụ lục II alone keeps the 10 services of Phụ lục III (sent in the older file) published;
- emptying raw/2023-09/thue/ withdraws its delivery: its figures leave staging and the publication, completeness
  says 'withdrawn', the new vintage's errata say 'delivery_withdrawn', and the sensor sees the removal."""
import duckdb
import pytest
from conftest import copy_sample_run, copy_samples, landing_env, make_newer, sample_file
from deliveries import make_part

from pipelines import cli

PERIOD = "2023-09"


@pytest.fixture(scope="module")
def env(sample_run, tmp_path_factory):
    run = copy_sample_run(sample_run, tmp_path_factory.mktemp("resend_withdraw"))
    with landing_env(run["raw"], run["warehouse"]) as env:
        yield env


def query(env, sql, params=None, copy=False):
    name = "p06_published.duckdb" if copy else "p06.duckdb"
    con = duckdb.connect(str(env["warehouse"] / name), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def services(env, copy=False) -> dict[str, tuple]:
    return {code: rest for code, *rest in query(
        env, "SELECT service_code, appendix, dossiers_total, dossiers_online FROM marts.public_services_monthly "
             "WHERE period = ?", [PERIOD], copy=copy)}


@pytest.fixture(scope="module")
def dvc_resent(env):
    before = services(env)
    original = sample_file(env["raw"], PERIOD, "dvc")
    # a corrected Phụ lục II alone: service 2 (PL2-02) had 11.343 dossiers, now 11.400
    resend = make_part(original, original.with_name("DVC_PL2_gui_lai.xlsx"), sheets=["Phụ lục II"],
                       changes={("Phụ lục II", 2, "D"): 11400})
    make_newer(resend, original)
    code = cli.main(["run", "--period", PERIOD])
    return {"before": before, "after": services(env), "copy": services(env, copy=True), "code": code,
            "original": original, "resend": resend}


def test_a_resend_of_appendix_ii_keeps_appendix_iii(env, dvc_resent):
    before, after = dvc_resent["before"], dvc_resent["after"]
    appendix_iii = {c for c in before if c.startswith("PL3-")}
    assert len(appendix_iii) == 10 and len(before) == 35
    assert dvc_resent["code"] == 0
    assert set(after) == set(before), "every service of both appendices is still published"
    assert {c: after[c] for c in appendix_iii} == {c: before[c] for c in appendix_iii}
    assert before["PL2-02"][1] == 11343 and after["PL2-02"][1] == 11400
    assert {c: v for c, v in after.items() if c != "PL2-02"} == {c: v for c, v in before.items() if c != "PL2-02"}
    assert dvc_resent["copy"] == after                                   # what analysts see
    (parts,) = query(env, """SELECT list(d.file_name || ' ' || p.sheet || ' ' || p.units_supplied ORDER BY d.file_name)
                             FROM raw.delivery_parts p JOIN raw.deliveries d USING (delivery_id)
                             WHERE d.status = 'loaded' AND d.source = 'dvc' AND d.period = ?""", [PERIOD])
    assert set(parts[0]) == {f"{dvc_resent['original'].name} Phụ lục III 10", f"{dvc_resent['resend'].name} Phụ lục II 25"}


@pytest.fixture(scope="module")
def thue_emptied(env, dvc_resent):
    (removed,) = list((env["raw"] / PERIOD / "thue").iterdir())
    removed.unlink()
    vintage_before = query(env, "SELECT max(vintage) FROM marts.publications WHERE period = ?", [PERIOD])[0][0]
    import contextlib
    import io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["run"])
    again = io.StringIO()
    with contextlib.redirect_stdout(again):
        code_again = cli.main(["run"])
    return {"removed": removed, "code": code, "printed": out.getvalue(), "vintage_before": vintage_before,
            "again": again.getvalue(), "code_again": code_again}


def thue_line(printed: str) -> str:
    """The summary's line of thue in September's block."""
    september = printed.split(f"\n{PERIOD}", 1)[1]
    return next(line for line in september.splitlines() if line.strip().startswith("thue"))


def test_emptying_a_folder_withdraws_its_delivery(env, thue_emptied):
    assert thue_emptied["code"] == 0
    line = thue_line(thue_emptied["printed"])
    assert "withdrawn" in line and thue_emptied["removed"].name in line and "unchanged" not in line
    assert query(env, "SELECT count(*) FROM staging.observations WHERE source = 'thue' AND period = ?", [PERIOD]) == [(0,)]
    assert query(env, "SELECT count(*) FROM staging.observations WHERE source = 'thue' AND period = '2023-08'")[0][0] > 0
    for copy in (False, True):
        assert query(env, "SELECT count(*) FROM marts.indicator_monthly WHERE source = 'thue' AND period = ? "
                          "AND value IS NOT NULL", [PERIOD], copy=copy) == [(0,)]
        assert query(env, "SELECT count(*) FROM marts.indicator_monthly WHERE source = 'thue' AND period = '2023-08' "
                          "AND value IS NOT NULL", copy=copy)[0][0] > 0, "the last good load of August stays"
        assert query(env, "SELECT status FROM marts.source_completeness WHERE source = 'thue' AND period = ?",
                     [PERIOD], copy=copy) == [("withdrawn",)]
        assert query(env, "SELECT status FROM marts.source_completeness WHERE source = 'dvc' AND period = ?",
                     [PERIOD], copy=copy) == [("delivered",)]


def test_the_new_vintage_records_delivery_withdrawn_errata(env, thue_emptied):
    (vintage,), = query(env, "SELECT max(vintage) FROM marts.publications WHERE period = ?", [PERIOD])
    assert vintage == thue_emptied["vintage_before"] + 1
    old = dict(query(env, "SELECT unit_level || '/' || unit_code || '/' || indicator_code, value FROM marts.indicator_history "
                          "WHERE period = ? AND vintage = ? AND source = 'thue' AND value IS NOT NULL",
                     [PERIOD, thue_emptied["vintage_before"]]))
    errata = query(env, "SELECT unit_level || '/' || unit_code || '/' || indicator_code, old_value, new_value, cause, file "
                        "FROM marts.errata WHERE period = ? AND vintage = ? AND published_table = 'indicator_monthly' "
                        "AND figure = 'value'", [PERIOD, vintage])
    assert len(old) > 0
    assert {e[0]: e[1] for e in errata} == old                        # every thue figure, with its old value
    assert {(e[2], e[3], e[4]) for e in errata} == {(None, "delivery_withdrawn", f"{PERIOD}/thue/{thue_emptied['removed'].name}")}
    # the source's completeness changed too (delivered -> withdrawn), with the same cause
    (status,), = query(env, "SELECT count(*) FROM marts.errata WHERE period = ? AND vintage = ? AND source = 'thue' "
                            "AND published_table = 'source_completeness' AND cause = 'delivery_withdrawn'", [PERIOD, vintage])
    assert status > 0


def test_a_withdrawn_folder_stays_withdrawn_without_a_new_vintage(env, thue_emptied):
    assert thue_emptied["code_again"] == 0
    assert "nothing changed since the last run" in thue_emptied["again"]
    line = thue_line(thue_emptied["again"])
    assert "withdrawn" in line


def test_the_sensor_sees_a_removal_as_a_change(tmp_path):
    import dagster as dg

    from pipelines.resources import LandingZone
    from pipelines.sensors import landing_zone_sensor
    raw = copy_samples(tmp_path, months=(PERIOD,))

    def evaluate(cursor=None):
        context = dg.build_sensor_context(cursor=cursor, resources={"landing_zone": LandingZone(path=str(raw))})
        return landing_zone_sensor(context)

    first = evaluate()
    (raw / PERIOD / "thue" / next(iter((raw / PERIOD / "thue").iterdir())).name).unlink()
    second = evaluate(first.cursor)
    (request,) = second.run_requests
    assert request.partition_key == PERIOD
    assert {k.path[1] for k in request.asset_selection if k.path[0] == "staging"} == {"thue"}
    assert evaluate(second.cursor).run_requests == []
