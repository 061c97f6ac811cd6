"""'Newest file wins' by when the pipeline first saw a file, not by its modification time."""
import os
import shutil

from conftest import sample_file

from p06 import catalog, warehouse
from p06.ingest.load import ingest_source_month


def test_a_resend_copied_with_an_old_modification_time_still_wins(sample_raw, tmp_path):
    source = catalog.sources()["bhxh"]
    first = sample_file(sample_raw, "2023-09", "bhxh")
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        assert ingest_source_month(con, sample_raw, source, "2023-09").status == "loaded"
        (seen,) = con.execute("SELECT first_seen_at FROM raw.deliveries WHERE file_name = ?", [first.name]).fetchone()
        resend = first.with_name("BHXH_gui_lai.xlsx")
        shutil.copyfile(first, resend)                       # a copy that kept an older e-mail's date
        old = first.stat().st_mtime - 86400
        os.utime(resend, (old, old))
        result = ingest_source_month(con, sample_raw, source, "2023-09")
        assert result.status == "loaded" and result.files == [resend.name] and result.superseded == [first.name]
        rows = con.execute("SELECT file_name, status, first_seen_at FROM raw.deliveries ORDER BY delivery_id").fetchall()
    assert rows[0] == (first.name, "loaded", seen) or rows[0][:2] == (first.name, "superseded")
    again = [r for r in rows[1:] if r[0] == first.name]
    assert again and all(r[2] == seen for r in again)        # kept across re-processing of the same file
    (new,) = [r for r in rows if r[0] == resend.name]
    assert new[1] == "loaded" and new[2] > seen
