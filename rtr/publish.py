"""The published copy of the warehouse: what every reader opens, replaced atomically after each load.

rtr writes one working DuckDB file; DuckDB refuses any other process, even a read-only one, while
it writes. So readers (the report, notebooks, BI tools) never open the working file: after each
successful load or run, rtr writes a complete copy into a new generation folder and flips the
``current`` symlink to it in one ``rename``. A reader that opened the previous copy keeps reading
it undisturbed (its file stays on disk while open); the next open finds the new one.

    <warehouse stem>.published/
        current -> 20250601T020304.123456Z-4711     (the symlink readers go through)
        20250601T020304.123456Z-4711/warehouse.duckdb          DuckDB 1.4 LTS storage
        20250601T020304.123456Z-4711/parquet/<schema>/<table>.parquet
"""

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import duckdb

from rtr import warehouse as working

# DuckDB 2 writes storage that 1.x cannot open; 1.4 is the long-term-support line that notebooks
# and BI tools embed, and it reads this version (checked by tests/publish, with duckdb 1.4).
STORAGE_VERSION = "v1.4.0"
PUBLISHED_FILE = "warehouse.duckdb"
CURRENT = "current"
# The Parquet files: every table and view of the published schemas (meta is rtr's own vocabulary).
PARQUET_SCHEMAS = ("core", "audit", "linked", "analysis")
# Generations kept: the current one and the one before it, which a reader may still be listing.
KEEP_GENERATIONS = 2
_GENERATION = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-\d+$")

_OBJECTS_SQL = """
select schema_name, table_name from duckdb_tables()
where database_name = $db and list_contains($schemas, schema_name)
union all
select schema_name, view_name from duckdb_views()
where database_name = $db and list_contains($schemas, schema_name) and not internal
order by 1, 2
"""


def published_root(warehouse: Path) -> Path:
    """The folder of ``warehouse``'s published generations, beside the working file."""
    return warehouse.with_name(warehouse.stem + ".published")


def published_copy(warehouse: Path) -> Path:
    """The DuckDB file readers open (through the ``current`` symlink); it may not exist yet."""
    return published_root(warehouse) / CURRENT / PUBLISHED_FILE


def publish(conn: duckdb.DuckDBPyConnection, warehouse: Path) -> Path:
    """Write the complete published copy of the database ``conn`` holds, and make it current.

    ``conn`` is a connection to the working warehouse held under its lock (the writer's own, or
    one opened by ensure_published), so nothing changes while it is copied. Returns the new
    generation's DuckDB file. The one place where the copy is written: storage version, Parquet
    and any future at-rest protection belong here.
    """
    root = published_root(warehouse)
    root.mkdir(parents=True, exist_ok=True)
    _remove_unfinished(root)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    generation = root / f"{stamp}-{os.getpid()}"
    building = root / f".{generation.name}.tmp"
    building.mkdir()
    try:
        _write_copy(conn, building)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)  # the previous copy stays current
        raise
    fsync_tree(building)
    building.rename(generation)
    _make_current(root, generation.name)
    _prune(root, keep=generation.name)
    return generation / PUBLISHED_FILE


def _write_copy(conn: duckdb.DuckDBPyConnection, building: Path) -> None:
    """The DuckDB copy in a storage version 1.4 LTS reads, and every published table as Parquet."""
    source = str(conn.execute("select current_database()").fetchall()[0][0])
    conn.execute(
        f"ATTACH $path AS rtr_published (STORAGE_VERSION '{STORAGE_VERSION}')",
        {"path": str(building / PUBLISHED_FILE)},
    )
    try:
        # Identifiers cannot be bound; ``source`` is the connection's own database name.
        conn.execute(f'COPY FROM DATABASE "{source}" TO rtr_published')
    finally:
        conn.execute("DETACH rtr_published")
    objects = conn.execute(_OBJECTS_SQL, {"db": source, "schemas": list(PARQUET_SCHEMAS)})
    for schema, table in objects.fetchall():
        folder = building / "parquet" / schema
        folder.mkdir(parents=True, exist_ok=True)
        # Names come from DuckDB's own catalogue, quoted; the path is a bound parameter.
        conn.execute(
            f'COPY (SELECT * FROM "{source}"."{schema}"."{table}") TO $path '
            "(FORMAT parquet, COMPRESSION zstd)",
            {"path": str(folder / f"{table}.parquet")},
        )


def ensure_published(
    warehouse: Path, *, wait_seconds: float = working.DEFAULT_WAIT_SECONDS
) -> Path:
    """The published copy of ``warehouse``, publishing it first if it never was (older homes)."""
    copy = published_copy(warehouse)
    if copy.exists():
        return copy
    if not warehouse.exists():
        raise FileNotFoundError(
            f"no warehouse at {warehouse}: run `rtr ingest` (or `rtr demo`) first, "
            "or pass --warehouse FILE"
        )
    with working.held(warehouse, wait_seconds), duckdb.connect() as memory:
        # A read-only connection cannot create the copy: an in-memory database can attach the
        # working file read-only and create the copy beside it.
        memory.execute("ATTACH $path AS rtr_working (READ_ONLY)", {"path": str(warehouse)})
        memory.execute("USE rtr_working")
        return publish(memory, warehouse)


def _make_current(root: Path, name: str) -> None:
    """Point ``current`` at generation ``name`` in one atomic rename of a fresh symlink."""
    link = root / f".{CURRENT}.{os.getpid()}.tmp"
    link.unlink(missing_ok=True)
    link.symlink_to(name, target_is_directory=True)
    os.replace(link, root / CURRENT)
    fsync_dir(root)


def _remove_unfinished(root: Path) -> None:
    """Delete copies a killed publisher left half-written (only one process publishes at a time)."""
    for entry in root.glob(".*.tmp"):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink(missing_ok=True)


def _prune(root: Path, *, keep: str) -> None:
    """Remove generations older than the last KEEP_GENERATIONS (open files stay readable)."""
    generations = sorted(p.name for p in root.iterdir() if _GENERATION.match(p.name))
    for name in generations[:-KEEP_GENERATIONS]:
        if name != keep:
            shutil.rmtree(root / name)


def fsync_tree(folder: Path) -> None:
    """Flush every file and folder under ``folder`` to disk before it becomes visible."""
    for directory, _, files in os.walk(folder):
        for name in files:
            fd = os.open(Path(directory) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(directory))


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (names created, renamed or removed) to disk."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
