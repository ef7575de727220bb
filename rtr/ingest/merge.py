"""Write validated rows of one file into a core table: new keys inserted, changed rows versioned.

Two paths, same result. A table's first load (the bulk case: a year of in-process time
series) writes chunks straight into the empty core table and removes in-file duplicate keys
afterwards. Later loads stage the file, then compare each row with the current version of
its key: identical rows are left alone, changed rows move the old version to history.

A correction is column-wise: a canonical file updates only the columns its header carries (an
empty cell in a carried column clears that value, and the new version names it in
``_cleared``); a standard file (SDTM, FHIR), which has no notion of an explicit empty, never
clears a value by leaving it out.
"""

from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import polars as pl

from rtr.adapters.interface import IMPUTED, LINE
from rtr.ingest.correction_events import record_corrections
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
    sender: str | None = None
    """The sender recorded in ``_sender`` (a registered id; in open mode what the manifest says)."""
    extracted_at: datetime | None = None
    """When the file's data were extracted, as the delivery states it (None: not stated)."""
    carried: tuple[str, ...] | None = None
    """Contract columns the file carries (its header); None: a standard format, where a missing
    value is absent rather than empty."""

    @property
    def relation(self) -> str:
        return f"core.{self.table.name}" if self.direct else STAGE

    def file_rows(self) -> tuple[str, list[object]]:
        """SQL for this file's rows written so far (with ``_source_line``), and its parameters."""
        if not self.direct:
            return STAGE, []
        return (
            f"(SELECT * FROM core.{self.table.name} WHERE _loaded_at = ?::TIMESTAMP "
            "AND _source_file = ?)",
            [self.loaded_at, self.source_file],
        )


@dataclass(frozen=True)
class MergeCounts:
    inserted: int
    corrected: int
    unchanged: int


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def key_match(table: Table, left: str, right: str) -> str:
    # The contract counts an empty key part as a value of its own.
    return " AND ".join(f"{left}.{q(k)} IS NOT DISTINCT FROM {right}.{q(k)}" for k in table.key)


def key_text(table: Table, alias: str) -> str:
    """SQL for a row's key as people read it: 'subject_id=S-2' (parts joined by ', ')."""
    return " || ', ' || ".join(
        f"'{k}=' || coalesce(CAST({alias}.{q(k)} AS VARCHAR), '')" for k in table.key
    )


def begin(
    conn: duckdb.DuckDBPyConnection,
    table: Table,
    *,
    delivery_id: str,
    source_file: str,
    loaded_at: datetime,
    sender: str | None = None,
    extracted_at: datetime | None = None,
    carried: tuple[str, ...] | None = None,
) -> Target:
    """Choose the path for this file and prepare the stage if needed."""
    empty = not scalar(conn, f"SELECT count(*) FROM (SELECT 1 FROM core.{table.name} LIMIT 1)")
    # A table emptied by retractions still has retired keys to judge rows against: stage it.
    direct = empty and not scalar(
        conn,
        'SELECT count(*) FROM (SELECT 1 FROM audit.retractions WHERE "table" = ? UNION ALL '
        'SELECT 1 FROM audit.key_changes WHERE "table" = ? LIMIT 1)',
        [table.name, table.name],
    )
    target = Target(
        table,
        direct,
        delivery_id,
        source_file,
        loaded_at,
        sender=sender,
        extracted_at=extracted_at,
        carried=carried,
    )
    if not direct:
        cols = ", ".join(q(c) for c in table.column_names)
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
            names = ", ".join(q(c) for c in cols)
            # DuckDB's write cost is per column: lineage a file does not state stays default NULL.
            stated = [
                c
                for c, v in (("_sender", target.sender), ("_extracted_at", target.extracted_at))
                if v is not None
            ]
            extra = "".join(f", {c}" for c in stated)
            conn.execute(
                f"INSERT INTO core.{target.table.name} ({names}, _delivery_id, _source_file, _loaded_at, "
                f"_version, _source_line, _imputed{extra}) SELECT {names}, l._delivery_id, "
                f"l._source_file, l._loaded_at, 1, c._source_line, c._imputed"
                f"{''.join(f', l.{c}' for c in stated)} FROM _chunk c CROSS JOIN _lineage l"
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
            "_sender": [target.sender],
            "_extracted_at": [target.extracted_at],
        },
        schema={
            "_delivery_id": pl.String,
            "_source_file": pl.String,
            "_loaded_at": pl.Datetime("us"),
            "_sender": pl.String,
            "_extracted_at": pl.Datetime("us"),
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
    rows_of_file, params = target.file_rows()
    keys = ", ".join(q(k) for k in table.key)
    # A hash aggregate finds the (rare) duplicated keys cheaply; only those are joined back.
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE _dup_keys AS "
        f"SELECT {keys}, count(*) AS n FROM {rows_of_file} GROUP BY ALL HAVING count(*) > 1",
        params,
    )
    if not scalar(conn, "SELECT count(*) FROM _dup_keys"):
        return []
    rows = conn.execute(
        f"SELECT s._source_line, {key_text(table, 's')}, d.n FROM {rows_of_file} s "
        f"JOIN _dup_keys d ON {key_match(table, 's', 'd')} ORDER BY s._source_line",
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
    _fill_absent_columns(conn, target)
    same = " AND ".join(f"i.{q(c)} IS NOT DISTINCT FROM c.{q(c)}" for c in table.column_names)
    conn.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _matched AS
        SELECT i._source_line, c.rowid AS core_rowid, c._version AS old_version,
               c._extracted_at AS old_extracted_at, ({same}) AS is_same,
               {_cleared(target)} AS cleared
        FROM {STAGE} i JOIN {core} c ON {key_match(table, "c", "i")}
        """
    )
    record_corrections(conn, kind="correction", table=table.name, relation="_matched")
    conn.execute(
        f"INSERT INTO {core}_history BY NAME SELECT c.*, ?::TIMESTAMP AS _superseded_at "
        f"FROM {core} c WHERE c.rowid IN (SELECT core_rowid FROM _matched WHERE NOT is_same)",
        [target.loaded_at],
    )
    conn.execute(
        f"DELETE FROM {core} WHERE rowid IN (SELECT core_rowid FROM _matched WHERE NOT is_same)"
    )
    names = ", ".join(q(c) for c in table.column_names)
    conn.execute(
        f"""
        INSERT INTO {core} ({names}, _delivery_id, _source_file, _loaded_at, _version, _source_line,
                            _imputed, _sender, _extracted_at, _cleared)
        SELECT {", ".join(f"i.{q(c)}" for c in table.column_names)}, ?, ?, ?::TIMESTAMP,
               coalesce(m.old_version, 0) + 1, i._source_line, i._imputed, ?,
               coalesce(?::TIMESTAMP, m.old_extracted_at), nullif(m.cleared, '')
        FROM {STAGE} i LEFT JOIN _matched m ON i._source_line = m._source_line
        WHERE m._source_line IS NULL OR NOT m.is_same
        """,
        [
            target.delivery_id,
            target.source_file,
            target.loaded_at,
            target.sender,
            target.extracted_at,
        ],
    )
    counts = conn.execute(
        "SELECT count(*) FILTER (WHERE is_same), count(*) FILTER (WHERE NOT is_same) FROM _matched"
    ).fetchall()[0]
    staged = int(scalar(conn, f"SELECT count(*) FROM {STAGE}") or 0)
    unchanged, corrected = int(counts[0]), int(counts[1])
    return MergeCounts(
        inserted=staged - unchanged - corrected, corrected=corrected, unchanged=unchanged
    )


def _fill_absent_columns(conn: duckdb.DuckDBPyConnection, target: Target) -> None:
    """Give staged rows of known keys the current values of the columns the file did not carry."""
    table = target.table
    values = [c for c in table.column_names if c not in table.key]
    if target.carried is None:
        sets = [f"{q(c)} = coalesce(s.{q(c)}, c.{q(c)})" for c in values]
    else:
        sets = [f"{q(c)} = c.{q(c)}" for c in values if c not in target.carried]
    if not sets:
        return
    conn.execute(
        f"UPDATE {STAGE} AS s SET {', '.join(sets)} FROM core.{table.name} AS c "
        f"WHERE {key_match(table, 's', 'c')}"
    )


def _cleared(target: Target) -> str:
    """SQL naming the carried columns whose value an empty cell clears ('' when none)."""
    if target.carried is None:
        return "''"
    table = target.table
    carried = [c for c in table.column_names if c in target.carried and c not in table.key]
    if not carried:
        return "''"
    parts = ", ".join(
        f"CASE WHEN i.{q(c)} IS NULL AND c.{q(c)} IS NOT NULL THEN '{c}' END" for c in carried
    )
    return f"concat_ws(',', {parts})"
