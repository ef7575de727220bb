"""The DuckDB warehouse: connections (one writer at a time), layer schemas and table DDL."""

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

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
    if not scalar(
        conn,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'meta' AND table_name = 'vocabulary'",
    ):
        from rtr.vocabulary_gaps import publish_vocabulary

        publish_vocabulary(conn)


@contextmanager
def writer(path: Path, *, wait_seconds: float = 600.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """The one writing connection: waits for other rtr writers instead of failing on DuckDB's lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".writer.lock")
    with lock_path.open("a") as lock:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"another rtr process has been writing {path} for {wait_seconds:.0f} s; "
                        "wait for it to finish or stop it"
                    ) from None
                time.sleep(0.2)
        try:
            conn = duckdb.connect(str(path))
            try:
                ensure_schema(conn)
                yield conn
            finally:
                conn.close()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def reader(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection for reports and notebooks."""
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}; run `rtr ingest` or `rtr run` first")
    return duckdb.connect(str(path), read_only=True)


def scalar(conn: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> object:
    """First value of a query, with the result drained (DuckDB 2 blocks the connection otherwise)."""
    rows = conn.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None
