"""The DuckDB warehouse: connections (one writer at a time), layer schemas and table DDL."""

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from rtr.ingest.audit_tables import ensure_audit_tables
from schemas import DUCKDB_TYPES, TABLES
from schemas.columns import Table

LAYERS = ("core", "audit", "meta", "linked", "analysis")
META_COLUMNS = (
    ("_delivery_id", "VARCHAR"),
    ("_source_file", "VARCHAR"),
    ("_loaded_at", "TIMESTAMP"),
    ("_version", "INTEGER"),
    ("_source_line", "BIGINT"),
    ("_imputed", "VARCHAR"),
    ("_sender", "VARCHAR"),
    ("_extracted_at", "TIMESTAMP"),
    ("_cleared", "VARCHAR"),
)

AUDIT_DDL = """
CREATE TABLE IF NOT EXISTS audit.loads (
    load_id VARCHAR, delivery_id VARCHAR, file VARCHAR, sha256 VARCHAR, format VARCHAR,
    encoding VARCHAR, tables VARCHAR, rows_read BIGINT, rows_accepted BIGINT,
    rows_quarantined BIGINT, rows_inserted BIGINT, rows_corrected BIGINT, rows_unchanged BIGINT,
    loaded_at TIMESTAMP, outcome VARCHAR, rule VARCHAR, reason VARCHAR, notes VARCHAR,
    archived_as VARCHAR
);
CREATE TABLE IF NOT EXISTS audit.quarantine (
    load_id VARCHAR, delivery_id VARCHAR, file VARCHAR, "table" VARCHAR, line BIGINT,
    "column" VARCHAR, value VARCHAR, rule VARCHAR, reason VARCHAR, quarantined_at TIMESTAMP
);
"""


def core_columns_ddl(table: Table) -> str:
    cols = [f'"{c.name}" {DUCKDB_TYPES[c.dtype]}' for c in table.columns]
    cols += [f"{name} {dtype}" for name, dtype in META_COLUMNS]
    return ", ".join(cols)


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create layer schemas, core tables with history, and audit tables if absent."""
    for layer in LAYERS:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {layer}")
    for table in TABLES.values():
        cols = core_columns_ddl(table)
        conn.execute(f"CREATE TABLE IF NOT EXISTS core.{table.name} ({cols})")
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS core.{table.name}_history ({cols}, _superseded_at TIMESTAMP)"
        )
    conn.execute(AUDIT_DDL)
    _add_lineage_columns(conn)
    ensure_audit_tables(conn)
    if not scalar(
        conn,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'meta' AND table_name = 'vocabulary'",
    ):
        from rtr.vocabulary_gaps import publish_vocabulary

        publish_vocabulary(conn)


def _add_lineage_columns(conn: duckdb.DuckDBPyConnection) -> None:
    """Give core tables of an older warehouse the lineage columns added since it was made."""
    present = set(
        conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'core'"
        ).fetchall()
    )
    for table in TABLES.values():
        for name in (table.name, f"{table.name}_history"):
            for column, dtype in META_COLUMNS:
                if (name, column) not in present:
                    conn.execute(f"ALTER TABLE core.{name} ADD COLUMN {column} {dtype}")


def _lock_file(path: Path) -> Path:
    return path.with_name(path.name + ".writer.lock")


@contextmanager
def _locked(path: Path, mode: int, *, wait_seconds: float) -> Iterator[None]:
    """Hold the warehouse's lock file: exclusive for the writer, shared for readers.

    DuckDB lets one process write a file and refuses it while another process has it open,
    even read-only; waiting on one lock file turns those refusals into queueing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock_file(path).open("a") as lock:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(lock, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{path} has been in use by another rtr process for {wait_seconds:.0f} s; "
                        "wait for the running ingest or pipeline run to finish, or stop it"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def writer(path: Path, *, wait_seconds: float = 600.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """The one writing connection: waits for other rtr writers and readers instead of failing."""
    with _locked(path, fcntl.LOCK_EX, wait_seconds=wait_seconds):
        conn = duckdb.connect(str(path))
        try:
            ensure_schema(conn)
            yield conn
        finally:
            conn.close()


@contextmanager
def reading(path: Path, *, wait_seconds: float = 600.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection that waits while a writer holds the file; readers share."""
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}; run `rtr ingest` or `rtr run` first")
    with _locked(path, fcntl.LOCK_SH, wait_seconds=wait_seconds):
        conn = duckdb.connect(str(path), read_only=True)
        try:
            yield conn
        finally:
            conn.close()


def reader(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection without waiting (notebooks, BI tools): fails while a writer runs."""
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}; run `rtr ingest` or `rtr run` first")
    return duckdb.connect(str(path), read_only=True)


def scalar(conn: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> object:
    """First value of a query, with the result drained (DuckDB 2 blocks the connection otherwise)."""
    rows = conn.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None
