"""Plain check queries over the warehouse: key uniqueness, required values, link issues by kind."""

import duckdb

from pipelines.metadata import table_exists
from schemas.columns import Table


def duplicate_keys(
    conn: duckdb.DuckDBPyConnection, table: Table, *, limit: int = 5
) -> tuple[int, list[str]]:
    """Number of key values held by more than one current row of core.<table>, with examples."""
    if not table_exists(conn, "core", table.name):
        return 0, []
    keys = ", ".join(f'"{k}"' for k in table.key)  # column names from the contract, not data
    rows = conn.execute(
        f"SELECT concat_ws(' | ', {keys}) AS key, count(*) AS n FROM core.{table.name} "
        f"GROUP BY ALL HAVING count(*) > 1 ORDER BY n DESC, key"
    ).fetchall()
    return len(rows), [str(r[0]) for r in rows[:limit]]


def missing_required(conn: duckdb.DuckDBPyConnection, table: Table) -> dict[str, int]:
    """Rows of core.<table> with a null in each required column (only columns with any)."""
    if not table_exists(conn, "core", table.name) or not table.required:
        return {}
    counts = ", ".join(f'count(*) FILTER (WHERE "{c}" IS NULL)' for c in table.required)
    row = conn.execute(f"SELECT {counts} FROM core.{table.name}").fetchall()[0]
    return {c: int(n) for c, n in zip(table.required, row, strict=True) if n}


def link_issues_by_kind(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, list[str]]]:
    """Number of link issues per kind, with the first few details of each."""
    if not table_exists(conn, "linked", "link_issues"):
        return {}
    rows = conn.execute(
        "SELECT kind, count(*), list(detail ORDER BY subject_id NULLS LAST, lot_id NULLS LAST)[1:3] "
        "FROM linked.link_issues GROUP BY kind"
    ).fetchall()
    return {str(kind): (int(n), [str(d) for d in details]) for kind, n, details in rows}
