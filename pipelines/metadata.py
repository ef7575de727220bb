"""Materialisation metadata read from the warehouse: row count and column schema of a table."""

from typing import Any

import dagster as dg
import duckdb

_COLUMNS_SQL = """
SELECT column_name, data_type FROM information_schema.columns
WHERE table_schema = $schema AND table_name = $table
ORDER BY ordinal_position
"""


def table_exists(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """True when ``schema.table`` exists in the warehouse."""
    rows = conn.execute(_COLUMNS_SQL, {"schema": schema, "table": table}).fetchall()
    return bool(rows)


def table_metadata(
    conn: duckdb.DuckDBPyConnection, schema: str, table: str, *, grain: str | None = None
) -> dict[str, Any]:
    """Row count, column schema and grain of ``schema.table`` as Dagster metadata."""
    columns = conn.execute(_COLUMNS_SQL, {"schema": schema, "table": table}).fetchall()
    if not columns:
        return {"dagster/row_count": 0, "table": f"{schema}.{table}", "exists": False}
    # Identifiers cannot be bound parameters; both come from information_schema above.
    n = conn.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchall()[0][0]
    meta: dict[str, Any] = {
        "dagster/row_count": int(n),
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(name=name, type=dtype) for name, dtype in columns]
        ),
        "dagster/table_name": f"{schema}.{table}",
    }
    if grain:
        meta["grain"] = grain
    return meta
