"""Two small holes: `scripts/corpus` extracts an sdist's members only inside its folder (tarfile's "data"
filter), and `p06 sql` reads the analysts' copy without touching any other file (external access disabled)."""
import io
import re
import subprocess
import sys
import tarfile

import duckdb
import pytest

from p06 import config
from p06.publish import snapshot


def corpus_extractor() -> str:
    """The Python part of scripts/corpus (after the downloads)."""
    text = (config.REPO_DIR / "scripts" / "corpus").read_text(encoding="utf-8")
    return re.search(r"<<'PY'\n(.*?)\nPY\n", text, re.S).group(1)


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def test_corpus_extracts_no_member_outside_its_folder(tmp_path):
    (tmp_path / ".corpus" / "sdists").mkdir(parents=True)
    with tarfile.open(tmp_path / ".corpus" / "sdists" / "evil-1.0.tar.gz", "w:gz") as tar:
        _add(tar, "evil-1.0/tests/data/book.xlsx", b"kept")
        _add(tar, "evil-1.0/../../escaped.csv", b"outside")
        _add(tar, "/tmp/absolute-p06-corpus-test.csv", b"absolute")
    result = subprocess.run([sys.executable, "-c", corpus_extractor(), "evil==1.0"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = tmp_path / ".corpus" / "evil-1.0"
    assert (out / "tests" / "data" / "book.xlsx").read_bytes() == b"kept"
    assert not (tmp_path / "escaped.csv").exists() and not (tmp_path.parent / "escaped.csv").exists()
    assert "escaped.csv not extracted" in result.stderr
    # the absolute name is made relative by the filter: written inside the package's folder, nowhere else
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert written <= {"tests/data/book.xlsx", "tmp/absolute-p06-corpus-test.csv"}, written


@pytest.fixture
def copy(tmp_path):
    path = tmp_path / "p06_published.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts; CREATE TABLE marts.t AS SELECT 42 AS answer")
    con.close()
    return path


def test_sql_on_the_copy_reads_but_writes_no_file(copy, tmp_path):
    assert snapshot.query("SELECT answer FROM marts.t", copy) == (["answer"], [(42,)])
    target = tmp_path / "leak.csv"
    with pytest.raises(duckdb.PermissionException):
        snapshot.query(f"COPY marts.t TO '{target}'", copy)
    assert not target.exists()
    with pytest.raises(duckdb.PermissionException):
        snapshot.query("SELECT * FROM read_csv('/etc/hostname')", copy)
    with pytest.raises(duckdb.Error):
        snapshot.query("SET enable_external_access = true", copy)


def test_p06_sql_says_the_copy_refuses(copy, tmp_path, monkeypatch):
    from pipelines import cli
    monkeypatch.setenv("P06_WAREHOUSE_DIR", str(tmp_path))
    target = tmp_path / "leak.parquet"
    assert cli.main(["sql", f"COPY (SELECT 1) TO '{target}' (FORMAT parquet)"]) == 1
    assert not target.exists()
    assert cli.main(["sql", "SELECT answer FROM marts.t"]) == 0
