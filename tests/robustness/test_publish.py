"""The published copy: complete, replaced atomically, readable by DuckDB 1.4 LTS and as Parquet."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from rtr import publish, warehouse

ROOT = Path(__file__).resolve().parents[2]


def load(path: Path, load_id: str) -> None:
    """One committed 'load' in the working warehouse, then the copy readers see."""
    with warehouse.writer(path) as conn:
        conn.execute(
            "insert into audit.loads (load_id, outcome) values ($id, 'accepted')", {"id": load_id}
        )
        publish.publish(conn, path)


def loads(conn: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in conn.execute("select load_id from audit.loads order by 1").fetchall()]


def test_the_copy_holds_every_table_and_view_and_each_as_parquet(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    load(path, "a")
    copy = publish.published_copy(path)
    assert copy == tmp_path / "warehouse.published" / "current" / "warehouse.duckdb"
    with (
        duckdb.connect(str(path), read_only=True) as working,
        duckdb.connect(str(copy), read_only=True) as published,
    ):
        objects = "select schema_name, table_name from duckdb_tables() union all select schema_name, view_name from duckdb_views() where not internal order by 1, 2"
        assert published.execute(objects).fetchall() == working.execute(objects).fetchall()
        assert loads(published) == ["a"]
        expected = [
            (s, t) for s, t in working.execute(objects).fetchall() if s in publish.PARQUET_SCHEMAS
        ]
    parquet = copy.parent / "parquet"
    assert sorted((p.parent.name, p.stem) for p in parquet.rglob("*.parquet")) == sorted(expected)
    assert pl.read_parquet(parquet / "audit" / "loads.parquet")["load_id"].to_list() == ["a"]


def test_a_reader_keeps_its_complete_state_until_it_reopens(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    load(path, "a")
    # As a notebook does: open what the README says, keep the connection, let loads happen.
    reader = duckdb.connect(str(publish.published_copy(path)), read_only=True)
    load(path, "b")  # the writer is not stopped by the open reader
    load(path, "c")
    assert loads(reader) == ["a"]
    reader.close()
    with duckdb.connect(str(publish.published_copy(path)), read_only=True) as reopened:
        assert loads(reopened) == ["a", "b", "c"]


def test_old_generations_are_pruned_and_a_killed_publisher_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    path = tmp_path / "warehouse.duckdb"
    root = publish.published_root(path)
    for n in range(4):
        load(path, str(n))
    generations = sorted(p.name for p in root.iterdir() if p.name != "current")
    assert len(generations) == publish.KEEP_GENERATIONS
    assert os.readlink(root / "current") == generations[-1]
    half = root / ".20990101T000000.000000Z-1.tmp"  # what a publisher killed mid-copy leaves
    half.mkdir()
    (half / "warehouse.duckdb").write_bytes(b"partial")
    load(path, "4")
    assert not half.exists()


def test_ensure_published_publishes_a_warehouse_that_never_was(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with warehouse.writer(path) as conn:
        conn.execute("insert into audit.loads (load_id) values ('old')")
    copy = publish.ensure_published(path, wait_seconds=5)
    with duckdb.connect(str(copy), read_only=True) as conn:
        assert loads(conn) == ["old"]
    with pytest.raises(FileNotFoundError, match="rtr ingest"):
        publish.ensure_published(tmp_path / "none.duckdb")


@pytest.mark.slow
def test_duckdb_1_4_lts_opens_the_published_copy(tmp_path: Path) -> None:
    """What notebooks and BI tools embed: a throw-away venv with duckdb 1.4.x reads every table."""
    path = tmp_path / "warehouse.duckdb"
    load(path, "a")
    venv = tmp_path / "venv14"
    uv = ROOT / ".uv" / "bin" / "uv"
    subprocess.run([str(uv), "venv", "-q", "-p", sys.executable, str(venv)], check=True)
    subprocess.run(
        [str(uv), "pip", "install", "-q", "-p", str(venv / "bin" / "python"), "duckdb>=1.4,<1.5"],
        check=True,
    )
    script = (
        "import duckdb, sys; print(duckdb.__version__); "
        "c = duckdb.connect(sys.argv[1], read_only=True); "
        "names = c.execute(\"select schema_name || '.' || table_name from duckdb_tables()\").fetchall(); "
        "[c.execute(f'select count(*) from {n}').fetchall() for (n,) in names]; "
        "print(len(names), c.execute('select load_id from audit.loads').fetchall()[0][0], "
        "c.execute('select count(*) from audit.vocabulary_gaps').fetchall()[0][0])"
    )
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", script, str(publish.published_copy(path))],
        check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    assert out[0].startswith("1.4.")
    assert int(out[1]) > 20 and out[2] == "a"


def test_a_publish_that_fails_midway_keeps_the_previous_copy_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "warehouse.duckdb"
    load(path, "a")
    before = os.readlink(publish.published_root(path) / "current")

    def disk_full(_conn: duckdb.DuckDBPyConnection, building: Path) -> None:
        (building / "warehouse.duckdb").write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publish, "_write_copy", disk_full)
    with pytest.raises(OSError, match="No space"):
        load(path, "b")
    root = publish.published_root(path)
    assert os.readlink(root / "current") == before
    assert not list(root.glob(".*.tmp"))
    with duckdb.connect(str(publish.published_copy(path)), read_only=True) as conn:
        assert loads(conn) == ["a"]
