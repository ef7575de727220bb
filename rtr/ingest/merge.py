"""Write validated rows of one file into a core table: new keys inserted, changed rows versioned.

Two paths, same result. A table's first load (the bulk case: a year of in-process time
series) writes chunks straight into the empty core table and removes in-file duplicate keys
afterwards. Later loads stage the file, then compare each row with the current version of
its key: identical rows are left alone, changed rows move the old version to history.
"""

from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import polars as pl

from rtr.adapters.interface import IMPUTED, LINE
from rtr.warehouse import scalar
from schemas.columns import Table

STAGE = "_stage"


@dataclass(frozen=True)
class Target:
    """Where a file's rows are written while its transaction is open."""

    table: Table
    direct: bool
    delivery_id: str
    source_file: str
    loaded_at: datetime
    key_hashes: list[pl.Series] = field(default_factory=list)
    """A hash of the key of every row written so far: proves most files free of duplicate keys."""

    @property
    def relation(self) -> str:
        return f"core.{self.table.name}" if self.direct else STAGE


@dataclass(frozen=True)
class MergeCounts:
    inserted: int
    corrected: int
    unchanged: int


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _key_match(table: Table, left: str, right: str) -> str:
    # The contract counts an empty key part as a value of its own.
    return " AND ".join(f"{left}.{_q(k)} IS NOT DISTINCT FROM {right}.{_q(k)}" for k in table.key)


def begin(
    conn: duckdb.DuckDBPyConnection,
    table: Table,
    *,
    delivery_id: str,
    source_file: str,
    loaded_at: datetime,
) -> Target:
    """Choose the path for this file and prepare the stage if needed."""
    empty = not scalar(conn, f"SELECT count(*) FROM (SELECT 1 FROM core.{table.name} LIMIT 1)")
    target = Target(table, empty, delivery_id, source_file, loaded_at)
    if not empty:
        cols = ", ".join(_q(c) for c in table.column_names)
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE {STAGE} AS SELECT {cols}, "
            f"0::BIGINT AS _source_line, NULL::VARCHAR AS _imputed FROM core.{table.name} LIMIT 0"
        )
    return target


def write_chunk(conn: duckdb.DuckDBPyConnection, target: Target, accepted: pl.DataFrame) -> None:
    cols = [*target.table.column_names]
    frame = accepted.select(*cols, pl.col(LINE).alias("_source_line"), IMPUTED)
    target.key_hashes.append(frame.select(target.table.key).hash_rows())
    # Handed over as Arrow C streams: DuckDB reads polars' buffers without a pyarrow copy.
    conn.register("_chunk", frame.__arrow_c_stream__())
    # The lineage values are the same for every row of the file: one row, joined on.
    conn.register("_lineage", _lineage(target).__arrow_c_stream__())
    try:
        if target.direct:
            names = ", ".join(_q(c) for c in cols)
            conn.execute(
                f"INSERT INTO core.{target.table.name} ({names}, _delivery_id, _source_file, _loaded_at, "
                f"_version, _source_line, _imputed) SELECT {names}, l._delivery_id, l._source_file, "
                "l._loaded_at, 1, c._source_line, c._imputed FROM _chunk c CROSS JOIN _lineage l"
            )
        else:
            conn.execute(f"INSERT INTO {STAGE} SELECT * FROM _chunk")
    finally:
        conn.unregister("_chunk")
        conn.unregister("_lineage")


def _lineage(target: Target) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_delivery_id": [target.delivery_id],
            "_source_file": [target.source_file],
            "_loaded_at": [target.loaded_at],
        },
        schema={
            "_delivery_id": pl.String,
            "_source_file": pl.String,
            "_loaded_at": pl.Datetime("us"),
        },
    )


def keys_may_repeat(target: Target) -> bool:
    """Whether two rows written for this file may share a key.

    Equal keys hash equally, so as many distinct hashes as rows proves every key unique; only
    a file with a repeated hash (a real duplicate, or rarely a collision) needs the exact check.
    """
    if not target.key_hashes:
        return False
    if any(c.dtype == "float" for c in target.table.columns if c.name in target.table.key):
        return True  # 0.0 and -0.0 are one key to SQL but may hash apart: always check exactly
    hashes = pl.concat(target.key_hashes)
    return hashes.n_unique() < hashes.len()


def duplicate_key_lines(
    conn: duckdb.DuckDBPyConnection, target: Target
) -> list[tuple[int, str, int]]:
    """(line, key text, count) for every row of this file whose key occurs more than once in it."""
    if not keys_may_repeat(target):
        return []
    table = target.table
    rows_of_file = (
        f"(SELECT * FROM core.{table.name} WHERE _loaded_at = ?::TIMESTAMP AND _source_file = ?)"
        if target.direct
        else STAGE
    )
    params: list[object] = [target.loaded_at, target.source_file] if target.direct else []
    keys = ", ".join(_q(k) for k in table.key)
    # A hash aggregate finds the (rare) duplicated keys cheaply; only those are joined back.
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE _dup_keys AS "
        f"SELECT {keys}, count(*) AS n FROM {rows_of_file} GROUP BY ALL HAVING count(*) > 1",
        params,
    )
    if not scalar(conn, "SELECT count(*) FROM _dup_keys"):
        return []
    key_text = " || ', ' || ".join(
        f"'{k}=' || coalesce(CAST(s.{_q(k)} AS VARCHAR), '')" for k in table.key
    )
    rows = conn.execute(
        f"SELECT s._source_line, {key_text}, d.n FROM {rows_of_file} s "
        f"JOIN _dup_keys d ON {_key_match(table, 's', 'd')} ORDER BY s._source_line",
        params,
    ).fetchall()
    return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]


def drop_lines(conn: duckdb.DuckDBPyConnection, target: Target, lines: list[int]) -> None:
    if not lines:
        return
    if target.direct:
        conn.execute(
            f"DELETE FROM core.{target.table.name} WHERE _loaded_at = ?::TIMESTAMP AND _source_file = ? "
            "AND _source_line IN (SELECT unnest(?::BIGINT[]))",
            [target.loaded_at, target.source_file, lines],
        )
    else:
        conn.execute(
            f"DELETE FROM {STAGE} WHERE _source_line IN (SELECT unnest(?::BIGINT[]))", [lines]
        )


def finish(conn: duckdb.DuckDBPyConnection, target: Target) -> MergeCounts:
    """Apply the staged rows (staged path); count what the direct path wrote."""
    table = target.table
    core = f"core.{table.name}"
    if target.direct:
        n = scalar(
            conn,
            f"SELECT count(*) FROM {core} WHERE _loaded_at = ?::TIMESTAMP AND _source_file = ?",
            [target.loaded_at, target.source_file],
        )
        return MergeCounts(inserted=int(n or 0), corrected=0, unchanged=0)
    same = " AND ".join(f"i.{_q(c)} IS NOT DISTINCT FROM c.{_q(c)}" for c in table.column_names)
    conn.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _matched AS
        SELECT i._source_line, c.rowid AS core_rowid, c._version AS old_version, ({same}) AS is_same
        FROM {STAGE} i JOIN {core} c ON {_key_match(table, "c", "i")}
        """
    )
    conn.execute(
        f"INSERT INTO {core}_history SELECT c.*, ?::TIMESTAMP FROM {core} c "
        "WHERE c.rowid IN (SELECT core_rowid FROM _matched WHERE NOT is_same)",
        [target.loaded_at],
    )
    conn.execute(
        f"DELETE FROM {core} WHERE rowid IN (SELECT core_rowid FROM _matched WHERE NOT is_same)"
    )
    names = ", ".join(_q(c) for c in table.column_names)
    conn.execute(
        f"""
        INSERT INTO {core} ({names}, _delivery_id, _source_file, _loaded_at, _version, _source_line, _imputed)
        SELECT {", ".join(f"i.{_q(c)}" for c in table.column_names)}, ?, ?, ?::TIMESTAMP,
               coalesce(m.old_version, 0) + 1, i._source_line, i._imputed
        FROM {STAGE} i LEFT JOIN _matched m ON i._source_line = m._source_line
        WHERE m._source_line IS NULL OR NOT m.is_same
        """,
        [target.delivery_id, target.source_file, target.loaded_at],
    )
    counts = conn.execute(
        "SELECT count(*) FILTER (WHERE is_same), count(*) FILTER (WHERE NOT is_same) FROM _matched"
    ).fetchall()[0]
    staged = int(scalar(conn, f"SELECT count(*) FROM {STAGE}") or 0)
    unchanged, corrected = int(counts[0]), int(counts[1])
    return MergeCounts(
        inserted=staged - unchanged - corrected, corrected=corrected, unchanged=unchanged
    )
