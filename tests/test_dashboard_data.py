"""The dashboard's judgements that need no browser: delivery status (late, withdrawn), ranks, the digest."""
from datetime import date, datetime

import duckdb

from p06.documents import dashboard
from p06.documents.dashboard import data
from p06.documents.dashboard.config import texts

ROW = {"period": "2025-08", "status": "delivered", "received_at": datetime(2025, 8, 20, 9), "as_of_date": date(2025, 8, 15)}


def test_late_is_after_the_first_publication_when_no_deadline_is_declared():
    assert texts().late_days_after_cutoff is None
    assert data._status(ROW, first_published=datetime(2025, 8, 25)) == "received"
    assert data._status(ROW, first_published=datetime(2025, 8, 19)) == "late"
    assert data._status(ROW, first_published=None) == "received"
    assert data._status({**ROW, "status": "missing", "received_at": None}, None) == "missing"
    assert data._status({**ROW, "status": "withdrawn"}, datetime(2025, 8, 19)) == "withdrawn"


def test_late_is_after_a_declared_deadline(monkeypatch):
    declared = texts().model_copy(update={"late_days_after_cutoff": 3})
    monkeypatch.setattr(data, "texts", lambda: declared)
    assert data._status(ROW, first_published=datetime(2025, 9, 30)) == "late"             # 20/8 > 15/8 + 3 days
    assert data._status({**ROW, "received_at": datetime(2025, 8, 18, 23)}, None) == "received"
    assert data._status({**ROW, "as_of_date": None, "received_at": datetime(2025, 9, 4)}, None) == "late"  # 31/8 + 3


def test_ranks_are_competition_ranks_best_first():
    values = [("a", 90.0), ("b", 95.0), ("c", 95.0), ("d", None), ("e", 80.0)]
    assert data._rank(values, lower_better=False) == {"b": 1, "c": 1, "a": 3, "e": 4}
    assert data._rank(values, lower_better=True) == {"e": 1, "a": 2, "b": 3, "c": 3}


def test_the_digest_follows_the_months_the_page_shows():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.indicator_monthly (period VARCHAR, unit_code VARCHAR, value DOUBLE)")
    con.execute("INSERT INTO marts.indicator_monthly VALUES ('2024-09', '38', 1), ('2025-07', '38', 2), ('2025-08', '38', 3)")
    before = dashboard.digest(con, "2025-08")
    con.execute("UPDATE marts.indicator_monthly SET value = 9 WHERE period = '2024-09'")      # the month a year before
    assert dashboard.digest(con, "2025-08") != before
    before = dashboard.digest(con, "2025-08")
    con.execute("INSERT INTO marts.indicator_monthly VALUES ('2024-07', '38', 5), ('2025-09', '38', 5)")  # not shown
    assert dashboard.digest(con, "2025-08") == before


def test_a_source_whose_only_file_was_refused_counts_as_without_figures():
    """Shown 'rejected' in the deliveries table, it is still a source with no figure this month for the counter of
    sources not delivered; a refused re-send over figures already loaded is not."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.source_completeness (period VARCHAR, source VARCHAR, status VARCHAR, "
                "rejected_deliveries INTEGER, received_at TIMESTAMP, as_of_date DATE, file VARCHAR, "
                "units_present INTEGER, units_expected INTEGER, rejection_messages VARCHAR)")
    con.execute("""INSERT INTO marts.source_completeness VALUES
        ('2025-08', 'thue', 'missing', 1, NULL, NULL, NULL, 0, 10, 'a.csv: bad'),
        ('2025-08', 'vneid', 'delivered', 1, '2025-08-20 09:00', '2025-08-15', 'b.xlsx', 27, 27, 'c.xlsx: bad'),
        ('2025-08', 'bhxh', 'delivered', 0, '2025-08-20 09:00', '2025-08-15', 'd.xlsx', 27, 27, NULL)""")
    sources = {s["source"]: s for s in data._completeness(con, ["2025-07", "2025-08"])["sources"]}
    assert (sources["thue"]["current"], sources["thue"]["without_figures"]) == ("rejected", True)
    assert (sources["vneid"]["current"], sources["vneid"]["without_figures"]) == ("rejected", False)
    assert sources["bhxh"]["without_figures"] is False
