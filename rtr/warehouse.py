"""The working DuckDB warehouse: connections (one rtr process at a time), layer schemas and DDL."""

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from rtr import locks
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


DEFAULT_WAIT_SECONDS = locks.DEFAULT_WAIT_SECONDS


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


def lock_file(path: Path) -> Path:
    """The lock file beside the warehouse; while held it records the holder (PID, command, since)."""
    return path.with_name(path.name + ".writer.lock")


@contextmanager
def held(path: Path, wait_seconds: float) -> Iterator[None]:
    """Hold the warehouse's lock: one rtr process at a time opens the working file.

    DuckDB lets one process write a file and refuses it to every other process while it does,
    even read-only; queueing on one lock file turns those refusals into bounded waits. Readers
    outside a load or run never take it: they open the published copy (rtr.publish).
    """
    with locks.hold(
        lock_file(path),
        what=f"the warehouse {path}",
        wait_seconds=wait_seconds,
        advice="Let that command finish or stop it (kill PID), then run this one again; "
        "set RTR_LOCK_WAIT_SECONDS to wait longer.",
    ):
        yield


@contextmanager
def writer(
    path: Path, *, wait_seconds: float = DEFAULT_WAIT_SECONDS
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The one writing connection: waits (bounded) for another rtr process instead of failing."""
    with held(path, wait_seconds):
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(path, read_only=False, wait_seconds=wait_seconds)
        try:
            ensure_schema(conn)
            yield conn
        finally:
            conn.close()


@contextmanager
def reading(
    path: Path, *, wait_seconds: float = DEFAULT_WAIT_SECONDS
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the working file, for the steps of a load or run themselves.

    It takes the same lock as the writer (DuckDB refuses a reader while another process writes).
    Everything outside a load or run reads the published copy instead (rtr.publish).
    """
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}; run `rtr ingest` or `rtr run` first")
    with held(path, wait_seconds):
        conn = _connect(path, read_only=True, wait_seconds=wait_seconds)
        try:
            yield conn
        finally:
            conn.close()


# DuckDB's refusal while another program has the file open names it: "... Conflicting lock is
# held in /usr/bin/python3 (PID 4711) by user ana."
_FOREIGN_HOLDER = re.compile(r"held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def _connect(path: Path, *, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    """Open the working file, waiting (bounded) while a program outside rtr has it open.

    rtr's own processes queue on the lock file; a notebook or BI tool that opened the working
    file instead of the published copy holds DuckDB's own lock, which only time releases.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            holder = _FOREIGN_HOLDER.search(str(exc))
            if holder is None:
                raise
            if time.monotonic() >= deadline:
                from rtr.publish import published_copy  # publish builds on this module

                raise locks.LockTimeout(
                    f"the warehouse {path} is open in another program, PID {holder['pid']} "
                    f"({locks.printable(holder['program'])}); waited {wait_seconds:.0f} s. "
                    f"Close that connection: readers open the published copy "
                    f"{published_copy(path)}, never the working file."
                ) from None
            time.sleep(locks.POLL_SECONDS * 5)


def scalar(conn: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> object:
    """First value of a query, with the result drained (DuckDB 2 blocks the connection otherwise)."""
    rows = conn.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None
