"""The findings register's transitions, on hand-made findings: new -> open, seen again, resolved, reopened,
accepted (and reopened when the confirmed figure changes), and keys as the command line takes them."""
from datetime import datetime, timedelta

import pytest

from p06 import warehouse
from p06.reconcile import register, store

T0 = datetime(2026, 11, 20, 7, 0)


@pytest.fixture
def con(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as c:
        store.ensure_tables(c)
        yield c


def findings(con, period: str, rows: list[tuple]) -> None:
    """The month's stored findings: (source, rule_id, unit_code, measure, actual[, severity])."""
    con.execute("DELETE FROM marts.reconciliation_findings WHERE period = ?", [period])
    for source, rule, unit, measure, actual, *severity in rows:
        con.execute("INSERT INTO marts.reconciliation_findings (period, source, unit_code, rule_id, rule_kind, severity, "
                    "measure, actual, message_vi, message_en, reconciled_at) VALUES (?, ?, ?, ?, 'k', ?, ?, ?, 'vi', ?, ?)",
                    [period, source, unit, rule, (severity or ["warning"])[0], measure, actual, f"{rule} {unit} {actual}", T0])


def state(con, *parts) -> dict:
    cur = con.execute("SELECT * FROM marts.findings_register WHERE finding_key = ?", [register.finding_key(*parts)])
    names = [d[0] for d in cur.description]
    (row,) = cur.fetchall()
    return dict(zip(names, row))


STOCK = ("2023-09", "bhxh", "stock_not_falling", "384", "participants_verified")
TOTAL = ("2023-09", "ho_tich", "stated_total", "38", "civil_entered_total")


def test_key_is_readable_and_stable():
    key = register.finding_key(*STOCK)
    assert key.endswith(":2023-09/bhxh/stock_not_falling/384/participants_verified")
    assert key == register.finding_key(*STOCK) != register.finding_key(*TOTAL)
    assert register.finding_key("2023-09", "dvc", "completeness.source", None, None).endswith("/-/-")


def test_open_seen_again_resolved_reopened(con):
    findings(con, "2023-09", [("bhxh", "stock_not_falling", "384", "participants_verified", 32637),
                              ("ho_tich", "stated_total", "38", "civil_entered_total", 300790)])
    assert register.follow(con, ["2023-09"], T0) == {"new": 2, "seen": 0, "reopened": 0, "resolved": 0}
    t1, t2, t3 = (T0 + timedelta(days=d) for d in (1, 2, 3))
    assert register.follow(con, ["2023-09"], t1) == {"new": 0, "seen": 2, "reopened": 0, "resolved": 0}
    assert (state(con, *STOCK)["first_seen"], state(con, *STOCK)["last_seen"]) == (T0, t1)
    findings(con, "2023-09", [("ho_tich", "stated_total", "38", "civil_entered_total", 300790)])   # stock corrected
    assert register.follow(con, ["2023-09"], t2)["resolved"] == 1
    assert (state(con, *STOCK)["status"], state(con, *STOCK)["resolved_at"]) == ("resolved", t2)
    assert state(con, *TOTAL)["status"] == "open"
    findings(con, "2023-09", [("bhxh", "stock_not_falling", "384", "participants_verified", 32600),
                              ("ho_tich", "stated_total", "38", "civil_entered_total", 300790)])
    assert register.follow(con, ["2023-09"], t3)["reopened"] == 1
    again = state(con, *STOCK)
    assert (again["status"], again["first_seen"], again["resolved_at"], again["actual"]) == ("open", T0, None, 32600)


def test_other_months_are_left_alone(con):
    findings(con, "2023-09", [("bhxh", "stock_not_falling", "384", "participants_verified", 32637)])
    register.follow(con, ["2023-09"], T0)
    findings(con, "2023-10", [])
    register.follow(con, ["2023-10"], T0 + timedelta(days=1))
    assert state(con, *STOCK)["status"] == "open"


def test_accepted_until_the_confirmed_figure_changes(con):
    findings(con, "2023-09", [("ho_tich", "stated_total", "38", "civil_entered_total", 300790)])
    register.follow(con, ["2023-09"], T0)
    key = register.finding_key(*TOTAL)
    row = register.accept(con, key.split(":")[0][:5], "confirmed by phone", by="chị Lan", at=T0 + timedelta(hours=1))
    assert (row["status"], row["note"], row["accepted_by"], row["accepted_actual"]) == ("accepted", "confirmed by phone", "chị Lan", 300790)
    register.follow(con, ["2023-09"], T0 + timedelta(days=1))             # the same figure: still accepted
    assert state(con, *TOTAL)["status"] == "accepted"
    rows = [{"period": "2023-09", "source": "ho_tich", "rule_id": "stated_total", "unit_code": "38",
             "measure": "civil_entered_total"}]
    assert register.outstanding(con, rows) == []
    findings(con, "2023-09", [("ho_tich", "stated_total", "38", "civil_entered_total", 300795)])   # another figure
    assert register.follow(con, ["2023-09"], T0 + timedelta(days=2))["reopened"] == 1
    assert state(con, *TOTAL)["status"] == "open"
    assert [r["status"] for r in register.outstanding(con, rows)] == ["open"]


def test_keys_the_command_line_refuses(con):
    findings(con, "2023-09", [("ho_tich", "stated_total", "38", "civil_entered_total", 300790)])
    register.follow(con, ["2023-09"], T0)
    with pytest.raises(register.UnknownFinding, match="no finding"):
        register.accept(con, "2023-09/ho_tich/stated_total/38/civil_entered_total", "note")   # the parts without the hash
    with pytest.raises(register.UnknownFinding, match="no finding"):
        register.accept(con, "abc", "note")                                                   # too short a prefix
    with pytest.raises(ValueError, match="--note"):
        register.accept(con, register.finding_key(*TOTAL), "  ")
    findings(con, "2023-09", [])
    register.follow(con, ["2023-09"], T0 + timedelta(days=1))
    with pytest.raises(register.UnknownFinding, match="resolved"):
        register.accept(con, register.finding_key(*TOTAL), "too late")
