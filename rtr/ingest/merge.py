"""Merge validated rows of one file into core tables: new keys inserted, changed rows versioned."""

from dataclasses import dataclass
from datetime import datetime

import duckdb

from rtr.warehouse import scalar
from schemas.columns import Table

STAGE = "_stage"


@dataclass(frozen=True)
class MergeCounts:
    inserted: int
    corrected: int
    unchanged: int


def _key_match(table: Table, left: str, right: str) -> str:
    # The contract counts an empty key part as a value of its own.
    return " AND ".join(f'{left}."{k}" IS NOT DISTINCT FROM {right}."{k}"' for k in table.key)


def duplicate_key_lines(
    conn: duckdb.DuckDBPyConnection, table: Table
) -> list[tuple[int, str, int]]:
    """(line, key text, count) for every staged row whose key occurs more than once in the file."""
    keys = ", ".join(f'"{k}"' for k in table.key)
    key_text = " || ', ' || ".join(
        f"'{k}=' || coalesce(CAST(\"{k}\" AS VARCHAR), '')" for k in table.key
    )
    rows = conn.execute(
        f"""
        SELECT _line, {key_text} AS key_text, n FROM (
            SELECT *, count(*) OVER (PARTITION BY {keys}) AS n FROM {STAGE}
        ) WHERE n > 1 ORDER BY _line
        """
    ).fetchall()
    return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]


def drop_lines(conn: duckdb.DuckDBPyConnection, lines: list[int]) -> None:
    if lines:
        conn.execute(f"DELETE FROM {STAGE} WHERE _line IN (SELECT unnest(?::BIGINT[]))", [lines])


def merge_stage(
    conn: duckdb.DuckDBPyConnection,
    table: Table,
    *,
    delivery_id: str,
    source_file: str,
    loaded_at: datetime,
) -> MergeCounts:
    """Apply the staged rows to core.<table>; superseded versions move to core.<table>_history."""
    cols = ", ".join(f'"{c}"' for c in table.column_names)
    core = f"core.{table.name}"
    conn.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _incoming AS
        SELECT {cols}, _imputed, hash({cols}) AS _row_hash FROM {STAGE}
        """
    )
    match = _key_match(table, "c", "i")
    conn.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _matched AS
        SELECT i._row_hash AS new_hash, c._row_hash AS old_hash, c._version AS old_version,
               {", ".join(f'i."{k}"' for k in table.key)}
        FROM _incoming i JOIN {core} c ON {match}
        """
    )
    unchanged = int(scalar(conn, "SELECT count(*) FROM _matched WHERE new_hash = old_hash") or 0)
    changed_match = _key_match(table, "c", "m")
    conn.execute(
        f"""
        INSERT INTO {core}_history
        SELECT c.*, ?::TIMESTAMP FROM {core} c JOIN _matched m ON {changed_match}
        WHERE m.new_hash <> m.old_hash
        """,
        [loaded_at],
    )
    conn.execute(
        f"""
        DELETE FROM {core} c USING _matched m
        WHERE {changed_match} AND m.new_hash <> m.old_hash
        """
    )
    incoming_match = _key_match(table, "m", "i")
    written = scalar(
        conn,
        f"""
        INSERT INTO {core}
        SELECT {", ".join(f'i."{c}"' for c in table.column_names)},
               ?, ?, ?::TIMESTAMP, coalesce(m.old_version, 0) + 1, i._row_hash, i._imputed
        FROM _incoming i LEFT JOIN _matched m ON {incoming_match}
        WHERE m.new_hash IS NULL OR m.new_hash <> m.old_hash
        """,
        [delivery_id, source_file, loaded_at],
    )
    corrected = int(scalar(conn, "SELECT count(*) FROM _matched WHERE new_hash <> old_hash") or 0)
    return MergeCounts(
        inserted=int(written or 0) - corrected, corrected=corrected, unchanged=unchanged
    )
