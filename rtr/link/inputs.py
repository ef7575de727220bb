"""Typed views over the core tables that linking reads, tolerant of absent tables and columns.

A delivery may hold only some tables (a registry may send only responses), so linking must
run when a `core.<table>` is missing or lacks a nullable column: each input is exposed as a
temporary view `src_<table>` with every contract column, typed, NULL where absent.
"""

import duckdb
import polars as pl

from rtr.warehouse import META_COLUMNS, core_columns_ddl
from schemas import DUCKDB_TYPES, TABLES

# Contract columns and DuckDB types of every core table, from the contract as code.
CORE_COLUMNS: dict[str, dict[str, str]] = {
    name: {c.name: DUCKDB_TYPES[c.dtype] for c in table.columns} for name, table in TABLES.items()
}

_LINEAGE_VALUES = {
    "_delivery_id": "$delivery",
    "_source_file": "$file",
    "_loaded_at": "current_timestamp",
    "_version": "1",
}


def quote_ident(name: str) -> str:
    """Return `name` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def existing_columns(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    """Return {column: data_type} of `schema.table`, empty when the table does not exist."""
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    return {str(name): str(dtype) for name, dtype in rows}


def create_link_inputs(conn: duckdb.DuckDBPyConnection) -> None:
    """Create temporary views `src_<table>` over `core.<table>` with every contract column typed."""
    for table, columns in CORE_COLUMNS.items():
        present = existing_columns(conn, "core", table)
        select_list = []
        for column, dtype in columns.items():
            if column not in present:
                select_list.append(f"CAST(NULL AS {dtype}) AS {quote_ident(column)}")
            elif present[column].upper() == dtype:
                select_list.append(quote_ident(column))
            else:
                # A column typed otherwise upstream (e.g. all-empty -> VARCHAR) is coerced, not fatal.
                select_list.append(
                    f"TRY_CAST({quote_ident(column)} AS {dtype}) AS {quote_ident(column)}"
                )
        source = (
            f"core.{quote_ident(table)}" if present else "(SELECT 1) AS empty_source WHERE false"
        )
        conn.execute(
            f"CREATE OR REPLACE TEMP VIEW {quote_ident('src_' + table)} AS "
            f"SELECT {', '.join(select_list)} FROM {source}"
        )


def drop_link_inputs(conn: duckdb.DuckDBPyConnection) -> None:
    """Drop the temporary `src_<table>` views."""
    for table in CORE_COLUMNS:
        conn.execute(f"DROP VIEW IF EXISTS temp.{quote_ident('src_' + table)}")


def create_empty_core_table(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    """Create `core.<table>` empty, with the contract and lineage columns, if it does not exist."""
    if table not in CORE_COLUMNS:
        raise ValueError(f"unknown core table {table!r}; expected one of {sorted(CORE_COLUMNS)}")
    conn.execute("CREATE SCHEMA IF NOT EXISTS core")
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS core.{quote_ident(table)} ({core_columns_ddl(TABLES[table])})"
    )


def _naive_utc(frame: pl.DataFrame) -> pl.DataFrame:
    """Turn zone-aware datetimes into naive UTC (the warehouse's TIMESTAMP convention)."""
    return frame.with_columns(
        pl.col(name).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    )


def load_core_frames(
    conn: duckdb.DuckDBPyConnection,
    frames: dict[str, pl.DataFrame],
    *,
    delivery_id: str = "test",
) -> None:
    """Write polars frames as typed `core.<table>` tables (contract + lineage columns); empty others.

    For tests and notebooks that start from canonical frames instead of deliveries: columns
    the frame lacks become NULL, extra columns are ignored, every other core table is created empty.
    """
    conn.execute("CREATE SCHEMA IF NOT EXISTS core")
    for table, columns in CORE_COLUMNS.items():
        conn.execute(f"DROP TABLE IF EXISTS core.{quote_ident(table)}")
        frame = frames.get(table)
        if frame is None:
            create_empty_core_table(conn, table)
            continue
        select_list = [
            (
                f"CAST({quote_ident(c)} AS {t}) AS {quote_ident(c)}"
                if c in frame.columns
                else f"CAST(NULL AS {t}) AS {quote_ident(c)}"
            )
            for c, t in columns.items()
        ]
        select_list += [
            f"CAST({_LINEAGE_VALUES.get(name, 'NULL')} AS {dtype}) AS {quote_ident(name)}"
            for name, dtype in META_COLUMNS
        ]
        view = f"_rtr_link_frame_{table}"
        conn.register(view, _naive_utc(frame))
        try:
            conn.execute(
                f"CREATE TABLE core.{quote_ident(table)} AS SELECT {', '.join(select_list)} "
                f"FROM {quote_ident(view)}",
                {"delivery": delivery_id, "file": f"{table}.parquet"},
            )
        finally:
            conn.unregister(view)
