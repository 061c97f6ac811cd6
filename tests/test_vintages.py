"""Vintages and the findings register, as `p06 run` and `p06 findings` use them on the sample months:
a corrected re-send makes a new vintage with errata naming the re-sent file, a re-run without changes
makes none, the documented "as published on" query returns the figure of the day, and a finding goes
from open to resolved (the re-send fixes it), to accepted (the CLI) and back to open."""
import hashlib
import re
from datetime import datetime
from pathlib import Path

import duckdb
import openpyxl
import pytest
from conftest import copy_sample_run, landing_env, make_newer, sample_file

from p06 import warehouse
from p06.publish import marts, vintages
from p06.reconcile import register
from pipelines import cli

REPO = Path(__file__).resolve().parent.parent
PROVINCE_BHXH = ("province", "38", "BHXH_VERIFIED_SHARE")
MUONG_LAT_BHXH = ("district", "384", "BHXH_VERIFIED_SHARE")
STOCK_FELL = ("2023-09", "bhxh", "stock_not_falling", "384", "participants_verified")


@pytest.fixture(scope="module")
def env(sample_run, tmp_path_factory):
    run = copy_sample_run(sample_run, tmp_path_factory.mktemp("vintages"))
    with landing_env(run["raw"], run["warehouse"]) as env:
        yield env


def query(env, sql, params=None, copy=False):
    name = "p06_published.duckdb" if copy else "p06.duckdb"
    con = duckdb.connect(str(env["warehouse"] / name), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def number(text) -> int:
    """A count as the sample sheets write it: '32.637'."""
    return int(str(text).replace(".", ""))


def errata(env, vintage):
    rows = query(env, "SELECT unit_level, unit_code, indicator_code, old_value, new_value, cause, file, sha256 "
                      "FROM marts.errata WHERE period = '2023-09' AND vintage = ? AND figure = 'value'", [vintage])
    return {r[:3]: r[3:] for r in rows}


def register_row(env, parts, copy=False):
    (row,) = query(env, "SELECT status, first_seen, last_seen, resolved_at, note, accepted_by FROM marts.findings_register "
                        "WHERE finding_key = ?", [register.finding_key(*parts)], copy=copy)
    return dict(zip(("status", "first_seen", "last_seen", "resolved_at", "note", "accepted_by"), row))


@pytest.fixture(scope="module")
def first_run(env):
    """What the first `p06 run` over both months (the session's, copied to `env`) published."""
    return query(env, "SELECT period, vintage, published_at FROM marts.publications ORDER BY period, vintage")


@pytest.fixture(scope="module")
def resent(env, first_run):
    """Mường Lát's verified participants of 2023-09 re-sent as 32.700 instead of 32.637 (which fell below August's)."""
    original = sample_file(env["raw"], "2023-09", "bhxh")
    corrected = original.with_name("BHXH_bao_cao_DA06_T9.2023_sua.xlsx")
    wb = openpyxl.load_workbook(original)
    sheet = wb["Xác thực CSDL"]
    assert sheet["B9"].value == "Mường Lát"
    before, participants = number(sheet["D9"].value), number(sheet["C9"].value)
    sheet["D9"] = "32.700"
    wb.save(corrected)
    make_newer(corrected, original)
    assert cli.main(["run", "--period", "2023-09"]) == 0
    return {"original": original, "corrected": corrected, "before": before, "after": 32700, "participants": participants,
            "sha256": hashlib.sha256(corrected.read_bytes()).hexdigest()}


def test_first_publication_is_vintage_one_with_its_deliveries(env, first_run):
    assert [(p, v) for p, v, _ in first_run] == [("2023-08", 1), ("2023-09", 1)]
    (deliveries, catalog_sha, code_sha, rows), = query(
        env, "SELECT deliveries, catalog_sha, code_sha, indicator_rows FROM marts.publications WHERE period = '2023-09'")
    on_disk = {(f"{p.parent.parent.name}/{p.parent.name}/{p.name}", hashlib.sha256(p.read_bytes()).hexdigest())
               for p in env["raw"].glob("2023-0[89]/*/*")}
    assert {(d["file"], d["sha256"]) for d in deliveries} == on_disk          # its month's and August's (history rules)
    assert {d["period"] for d in deliveries} == {"2023-08", "2023-09"}
    assert (catalog_sha, code_sha) == tuple(vintages.release_parts().values())
    (monthly,), = query(env, "SELECT count(*) FROM marts.indicator_monthly WHERE period = '2023-09'")
    (history,), = query(env, "SELECT count(*) FROM marts.indicator_history WHERE period = '2023-09' AND vintage = 1")
    assert rows == monthly == history > 0
    assert query(env, "SELECT count(*) FROM marts.errata") == [(0,)]


def test_rerun_without_changes_makes_no_vintage(env, first_run):
    before = query(env, "SELECT period, vintage FROM marts.publications ORDER BY ALL")
    assert cli.main(["run"]) == 0                              # the fast path: nothing changed
    with warehouse.connect(env["warehouse"] / "p06.duckdb") as con:
        marts.publish_periods(con, ["2023-08", "2023-09"])    # republished all the same (a run from the UI)
    assert query(env, "SELECT period, vintage FROM marts.publications ORDER BY ALL") == before


def test_corrected_resend_makes_a_vintage_with_errata_naming_the_file(env, resent):
    assert query(env, "SELECT period, vintage, previous_vintage, errata FROM marts.publications ORDER BY ALL") == [
        ("2023-08", 1, None, 0), ("2023-09", 1, None, 0), ("2023-09", 2, 1, 4)]     # values and numerators
    # the findings it changed are listed too, not counted as corrected figures: the fall in Mường Lát's verified
    # participants is gone (the rule's finding), the sheet's stated ratio and total now disagree with the count
    assert query(env, "SELECT unit_code, indicator_code, figure, old_text, new_text, cause, file FROM marts.errata "
                      "WHERE period = '2023-09' AND vintage = 2 AND published_table = 'reconciliation_findings' "
                      "ORDER BY ALL") == [
        ("38", "stated_total", "severity", None, "warning", "delivery", "2023-09/bhxh/BHXH_bao_cao_DA06_T9.2023_sua.xlsx"),
        ("384", "stated_ratio", "severity", None, "warning", "delivery", "2023-09/bhxh/BHXH_bao_cao_DA06_T9.2023_sua.xlsx"),
        ("384", "stock_not_falling", "severity", "warning", None, "delivery",
         "2023-09/bhxh/BHXH_bao_cao_DA06_T9.2023_sua.xlsx")]
    assert query(env, "SELECT count(*) FROM marts.reconciliation_findings WHERE period = '2023-09' AND source = 'bhxh' "
                      "AND unit_code = '384' AND rule_id = 'stock_not_falling'") == [(0,)]
    found = errata(env, 2)
    assert set(found) == {PROVINCE_BHXH, MUONG_LAT_BHXH}
    old, new, cause, file, sha = found[MUONG_LAT_BHXH]
    assert old == pytest.approx(100 * resent["before"] / resent["participants"])
    assert new == pytest.approx(100 * resent["after"] / resent["participants"])
    assert (cause, file, sha) == ("delivery", "2023-09/bhxh/BHXH_bao_cao_DA06_T9.2023_sua.xlsx", resent["sha256"])
    old, new, *_ = found[PROVINCE_BHXH]
    assert old == pytest.approx(100 * 3079271 / 3200783)             # the September report's figure
    assert new == pytest.approx(100 * (3079271 + resent["after"] - resent["before"]) / 3200783)
    counts = query(env, "SELECT unit_code, new_value - old_value, cause FROM marts.errata WHERE period = '2023-09' "
                        "AND vintage = 2 AND figure = 'numerator' ORDER BY unit_code")
    change = resent["after"] - resent["before"]                      # people, not only the ratio
    assert counts == [("38", change, "delivery"), ("384", change, "delivery")]
    (value,), = query(env, "SELECT value FROM marts.indicator_monthly WHERE period = '2023-09' AND unit_level = 'province' "
                           "AND indicator_code = 'BHXH_VERIFIED_SHARE'")
    assert value == new                                               # indicator_monthly is the latest vintage


def test_workbook_and_draft_state_the_vintage_and_list_the_errata(env, resent):
    out = env["warehouse"] / "exports" / "2023-09"
    wb = openpyxl.load_workbook(out / "DA06_2023-09.xlsx")
    headline = [c for row in wb["Chỉ tiêu chính"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert any(c.startswith("Số liệu công bố lần 2, ngày ") and "thay thế lần 1" in c for c in headline)
    sheet = wb["Đính chính"]
    header = [c.value for c in sheet[1]]
    everything = [dict(zip(header, r)) for r in sheet.iter_rows(min_row=2, values_only=True)]
    findings = [r for r in everything if r["Bảng số liệu"].startswith("Phát hiện đối chiếu")]
    rows = [r for r in everything if r not in findings]
    assert {(r["Mã đơn vị"], r["Mã chỉ tiêu, dịch vụ, nguồn"], r["Số liệu"]) for r in rows} == {
        (unit, "BHXH_VERIFIED_SHARE", figure) for unit in ("38", "384") for figure in ("Giá trị", "Tử số")}
    assert {r["Tệp gửi lại"] for r in everything} == {"2023-09/bhxh/BHXH_bao_cao_DA06_T9.2023_sua.xlsx"}
    # the findings it changed, listed after the figures: Mường Lát's stock no longer falls, but the re-sent sheet's
    # stated ratio (Mường Lát's) and total (the province's) were not corrected with the count
    assert everything[-len(findings):] == findings
    assert {(r["Mã đơn vị"], r["Mã chỉ tiêu, dịch vụ, nguồn"], r["Số đã công bố lần trước"], r["Số đính chính"])
            for r in findings} == {("384", "stock_not_falling", "Cảnh báo", None), ("384", "stated_ratio", None, "Cảnh báo"),
                                   ("38", "stated_total", None, "Cảnh báo")}
    assert any(c.endswith("số liệu được đính chính: 4; phát hiện đối chiếu thay đổi: 3.") for c in headline)
    muong_lat = next(r for r in rows if r["Mã đơn vị"] == "384" and r["Số liệu"] == "Giá trị")
    assert muong_lat["Số đã công bố lần trước"] == pytest.approx(100 * resent["before"] / resent["participants"])
    draft = (out / "bao_cao_DA06_2023-09.md").read_text(encoding="utf-8")
    assert re.search(r"Số liệu công bố lần 2, ngày \d\d/\d\d/\d{4} \d\d:\d\d \(thay thế lần 1", draft)
    august = openpyxl.load_workbook(env["warehouse"] / "exports" / "2023-08" / "DA06_2023-08.xlsx")
    assert [r for r in august["Đính chính"].iter_rows(values_only=True) if r[0]][-1][0].startswith("Đây là lần công bố đầu tiên")


def _documented_query(at: datetime) -> str:
    text = (REPO / "docs" / "analysts.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- as-published-on.*?```sql\n(.*?)```", text, re.S).group(1)
    assert "TIMESTAMP '2023-11-20 23:59:59'" in block
    return block.replace("TIMESTAMP '2023-11-20 23:59:59'", f"TIMESTAMP '{at.isoformat(sep=' ')}'")


def test_as_published_on_a_date_returns_the_figure_of_that_day(env, resent):
    (first,), (second,) = query(env, "SELECT published_at FROM marts.publications WHERE period = '2023-09' ORDER BY vintage")
    between = first + (second - first) / 2

    def september_bhxh(at):
        rows = query(env, _documented_query(at), copy=True)                  # on the analysts' copy, as documented
        return {(r[1], r[5]) for r in rows if r[0] == "2023-09" and r[4] == "BHXH_VERIFIED_SHARE"}

    old, new, *_ = errata(env, 2)[PROVINCE_BHXH]
    assert september_bhxh(between) == {(1, old)}
    assert september_bhxh(second) == {(2, new)}
    assert september_bhxh(datetime(2023, 11, 20)) == set()              # nothing was published then


def test_register_follows_a_finding_to_resolved(env, resent):
    stock = register_row(env, STOCK_FELL)
    assert stock["status"] == "resolved"              # 32.700 no longer falls below August's 32.674
    assert stock["first_seen"] < stock["resolved_at"] and stock["last_seen"] == stock["first_seen"]
    # the re-send's own new inconsistencies (its total row and stated ratio were not corrected) are open
    opened = query(env, "SELECT rule_id FROM marts.findings_register WHERE period = '2023-09' AND source = 'bhxh' "
                        "AND status = 'open' ORDER BY 1")
    assert opened == [("stated_ratio",), ("stated_total",)]


@pytest.fixture(scope="module")
def accepted(env, resent):
    (key,), = query(env, "SELECT finding_key FROM marts.findings_register WHERE period = '2023-09' "
                         "AND source = 'nguoi_co_cong' AND rule_id = 'stated_total'")
    code = cli.main(["findings", "accept", key.split(":")[0], "--note", "Sở LĐTBXH xác nhận 5.123 (CV 12/LĐTBXH)",
                     "--by", "Nguyễn Văn A"])
    return {"code": code, "key": key}


def test_accepted_finding_stays_in_the_register_but_is_not_sent_back(env, accepted, capsys):
    assert accepted["code"] == 0
    key = accepted["key"]
    for copy in (False, True):                      # the warehouse, and the analysts' copy published after it
        (status, note, by), = query(env, "SELECT status, note, accepted_by FROM marts.findings_register "
                                         "WHERE finding_key = ?", [key], copy=copy)
        assert (status, note, by) == ("accepted", "Sở LĐTBXH xác nhận 5.123 (CV 12/LĐTBXH)", "Nguyễn Văn A")
    out = env["warehouse"] / "exports" / "2023-09"
    sheet = openpyxl.load_workbook(out / "DA06_2023-09.xlsx")["Sai lệch cần phản hồi"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, r)) for r in sheet.iter_rows(min_row=2, values_only=True)]
    keys = {r["Mã sai lệch"] for r in rows}
    assert key not in keys
    (remaining,), = query(env, "SELECT count(*) FROM marts.reconciliation_findings WHERE period = '2023-09'")
    assert len(rows) == remaining - 1
    remainder = next(r for r in rows if r["Mã quy tắc"] == "nguoi_co_cong.remaining")   # same cell, another rule: still sent
    assert remainder["Tình trạng"] == "Chưa xử lý" and isinstance(remainder["Phát hiện lần đầu"], datetime)
    draft = (out / "bao_cao_DA06_2023-09.md").read_text(encoding="utf-8")
    (message,), = query(env, "SELECT message_vi FROM marts.reconciliation_findings WHERE period = '2023-09' "
                             "AND source = 'nguoi_co_cong' AND rule_id = 'stated_total'")
    assert message not in draft
    capsys.readouterr()
    assert cli.main(["findings", "--period", "2023-09"]) == 0
    listed = capsys.readouterr().out
    assert key not in listed and register.finding_key(*STOCK_FELL) not in listed
    assert cli.main(["findings", "--all"]) == 0
    assert key in capsys.readouterr().out


def test_unknown_key_is_refused(env, accepted, capsys):
    assert cli.main(["findings", "accept", "ffffffff", "--note", "x"]) == 2
    assert "no finding with the key 'ffffffff'" in capsys.readouterr().err


def test_withdrawing_the_resend_reopens_the_finding_and_corrects_back(env, resent, accepted):
    resent["corrected"].unlink()
    assert cli.main(["run", "--period", "2023-09"]) == 0
    assert query(env, "SELECT vintage, previous_vintage FROM marts.publications WHERE period = '2023-09' "
                      "ORDER BY vintage DESC LIMIT 1") == [(3, 2)]
    found = errata(env, 3)
    assert set(found) == {PROVINCE_BHXH, MUONG_LAT_BHXH}
    old, new, cause, file, sha = found[MUONG_LAT_BHXH]
    assert new == pytest.approx(100 * resent["before"] / resent["participants"])
    # the correction withdrawn: the file it replaced is in use again (vintage 1 used it), not "re-sent"
    assert (cause, file) == ("delivery_restored", "2023-09/bhxh/BHXH_bao_cao_DA06_T9.2023.xlsx")
    draft = (env["warehouse"] / "exports" / "2023-09" / "bao_cao_DA06_2023-09.md").read_text(encoding="utf-8")
    assert "do tệp đính chính Bảo hiểm xã hội tỉnh đã gửi được rút lại, dùng lại số liệu gửi trước đó" in draft, \
        [line for line in draft.splitlines() if "→" in line]
    assert sha == hashlib.sha256(resent["original"].read_bytes()).hexdigest()
    assert register_row(env, STOCK_FELL)["status"] == "open"            # it fell again
    (status,), = query(env, "SELECT status FROM marts.findings_register WHERE finding_key = ?", [accepted["key"]])
    assert status == "accepted"                                          # same figure as confirmed: still accepted
    resolved = query(env, "SELECT rule_id FROM marts.findings_register WHERE period = '2023-09' AND source = 'bhxh' "
                          "AND status = 'resolved' ORDER BY 1")
    assert resolved == [("stated_ratio",), ("stated_total",)]


def test_a_declaration_change_is_named_as_the_cause(samples_db, monkeypatch):
    """Same deliveries, a figure read differently (as after a declaration change): the cause is the declarations."""
    with warehouse.connect(samples_db) as con:
        marts.publish_periods(con, ["2023-09"])
        con.execute("UPDATE staging.observations SET value = value + 100 WHERE period = '2023-09' AND source = 'bhxh' "
                    "AND unit_code = '384' AND measure = 'participants_verified'")
        parts = vintages.release_parts()
        monkeypatch.setattr(vintages, "release_parts", lambda: {**parts, "catalog_sha": "changed"})
        marts.publish_periods(con, ["2023-09"])
        rows = con.execute("SELECT unit_code, cause, file, sha256, new_value - old_value FROM marts.errata "
                           "WHERE period = '2023-09' AND vintage = 2 AND figure = 'value' ORDER BY unit_code").fetchall()
        (participants,), = con.execute("SELECT value FROM staging.observations WHERE period = '2023-09' AND source = 'bhxh' "
                                       "AND unit_code = '384' AND measure = 'participants'").fetchall()
    assert [r[:4] for r in rows] == [("38", "declarations", None, None), ("384", "declarations", None, None)]
    assert rows[1][4] == pytest.approx(100 * 100 / participants)


def test_a_month_recorded_with_the_old_digest_keeps_its_vintage(first_run, env, tmp_path):
    """Vintages recorded before content digests were row hashes (md5 of the rows as text): the same rows published
    again make no new vintage; the recorded digest takes today's form. Changed rows make one."""
    from p06.publish import state
    db = tmp_path / "p06.duckdb"
    db.write_bytes((env["warehouse"] / "p06.duckdb").read_bytes())
    con = duckdb.connect(str(db))
    try:
        for (period,) in con.execute("SELECT DISTINCT period FROM marts.publications").fetchall():
            con.execute("UPDATE marts.publications SET content_sha = ? WHERE period = ?",
                        [state.legacy_content_sha(con, period), period])
        before = con.execute("SELECT period, max(vintage) FROM marts.publications GROUP BY ALL ORDER BY ALL").fetchall()
        assert all(state.is_legacy(d) for (d,) in con.execute("SELECT content_sha FROM marts.publications").fetchall())
        marts.publish_periods(con, ["2023-08"])
        con.execute("UPDATE staging.observations SET value = value + 1 WHERE period = '2023-09' AND source = 'bhxh' "
                    "AND unit_code = '384' AND measure = 'participants_verified'")
        marts.publish_periods(con, ["2023-09"])
        after = dict(con.execute("SELECT period, max(vintage) FROM marts.publications GROUP BY ALL").fetchall())
        (august,) = con.execute("SELECT content_sha FROM marts.publications WHERE period = '2023-08' "
                                "ORDER BY vintage DESC LIMIT 1").fetchone()
    finally:
        con.close()
    assert after["2023-08"] == dict(before)["2023-08"] and not state.is_legacy(august)
    assert after["2023-09"] == dict(before)["2023-09"] + 1


def test_a_vintage_that_changed_only_findings_lists_them_and_corrects_no_figure(samples_db, tmp_path):
    """The labour department re-states September's remaining people with merit as 5.078, the difference of its own
    figures (the seed report's "5.123 remaining"): no published figure changes (they are computed from the
    units' rows), the two findings on it go (the stated total, the remaining = total - cleaned rule). The new
    vintage says so: 0 figures corrected, 2 findings changed, listed on the workbook's errata sheet with the cause."""
    from p06.documents import dashboard, excel
    from p06.reconcile.store import reconcile_period
    where = ("period = '2023-09' AND source = 'nguoi_co_cong' AND unit_kind = 'province' AND "
             "measure = 'merit_remaining'")
    with warehouse.connect(samples_db) as con:
        for month in ("2023-08", "2023-09"):
            reconcile_period(con, month)
        marts.publish_periods(con, ["2023-09"])
        (stated,), = con.execute(f"SELECT actual FROM marts.reconciliation_findings WHERE {where} "
                                 "AND rule_id = 'stated_total'").fetchall()
        (computed,), = con.execute(f"SELECT expected FROM marts.reconciliation_findings WHERE {where} "
                                   "AND rule_id = 'stated_total'").fetchall()
        assert (stated, computed) == (5123, 5078)
        con.execute(f"UPDATE staging.observations SET value = {computed} WHERE {where}")
        parts = vintages.release_parts()
        vintages_release = vintages.release_parts
        try:
            vintages.release_parts = lambda: {**parts, "catalog_sha": "changed"}
            reconcile_period(con, "2023-09")
            marts.publish_periods(con, ["2023-09"])
        finally:
            vintages.release_parts = vintages_release
        publications = con.execute("SELECT vintage, errata FROM marts.publications WHERE period = '2023-09' "
                                   "ORDER BY vintage").fetchall()
        changed = con.execute("SELECT published_table, unit_code, indicator_code, figure, old_text, new_text, cause "
                              "FROM marts.errata WHERE period = '2023-09' AND vintage = 2 ORDER BY ALL").fetchall()
        info = vintages.current(con, "2023-09")
        line = vintages.summary_line(con, "2023-09")
        workbook = excel.write_workbook(con, "2023-09", tmp_path / "DA06_2023-09.xlsx")
        page = dashboard.write_dashboard(con, "2023-09", tmp_path / "dashboard.html").read_text(encoding="utf-8")
    assert publications[-2:] == [(1, 0), (2, 0)]
    assert changed == [("reconciliation_findings", "38", rule, "severity", "warning", None, "declarations")
                       for rule in ("nguoi_co_cong.remaining", "stated_total")]
    assert (info["errata"], info["findings"]) == (0, 2)
    assert "2 finding(s) changed" in line or "2 phát hiện đối chiếu thay đổi" in line
    wb = openpyxl.load_workbook(workbook)
    sheet = wb["Đính chính"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, r)) for r in sheet.iter_rows(min_row=2, values_only=True) if r[0]]
    assert [(r["Mã chỉ tiêu, dịch vụ, nguồn"], r["Số đã công bố lần trước"], r["Số đính chính"]) for r in rows] == [
        ("nguoi_co_cong.remaining", "Cảnh báo", None), ("stated_total", "Cảnh báo", None)]
    assert all("5.123" in r["Chỉ tiêu, dịch vụ, đơn vị gửi"] for r in rows)         # what the findings said
    headline = [c for r in wb["Chỉ tiêu chính"].iter_rows(values_only=True) for c in r if isinstance(c, str)]
    assert any("số liệu được đính chính: 0; phát hiện đối chiếu thay đổi: 2." in c for c in headline)
    assert "Lần công bố thứ <b>2</b>" in page and "(2 phát hiện đối chiếu thay đổi so với lần trước)" in page
