"""Apply a delivery's key map: an entity id (subject, lot, collection) corrected everywhere it is used.

``S-2 -> S-2X`` renames subject S-2: its subjects row and every row that carries subject_id=S-2
(its responses, adverse events, infusions, and a CDMO's collections of it) become new versions
under S-2X; the old versions stay in history and audit.key_changes records each. A key map
that would merge two records (the new id is already in use) is refused entry by entry.
"""

from datetime import datetime

import duckdb
import polars as pl

from rtr.adapters.interface import LINE
from rtr.ingest.authority import may_change, record_owners
from rtr.ingest.correction_events import record_corrections
from rtr.ingest.declarations import KeyChange
from rtr.ingest.errors import ERROR_SCHEMA
from rtr.ingest.merge import key_text, q
from rtr.ingest.provenance import Provenance
from rtr.warehouse import scalar
from schemas import TABLES, rules
from schemas.ownership import ENTITY_TABLES, referencing_tables


def apply_key_changes(
    conn: duckdb.DuckDBPyConnection,
    changes: tuple[KeyChange, ...],
    *,
    delivery_id: str,
    source_file: str,
    provenance: Provenance,
    extracted_at: datetime | None,
    at: datetime,
) -> pl.DataFrame:
    """Apply every valid entry; quarantine records (ERROR_SCHEMA) for the others."""
    errors: list[tuple[int, str, str, str]] = []
    olds: set[tuple[str, str]] = set()
    news: set[tuple[str, str]] = set()
    for change in changes:
        refused = _judge(conn, change, olds, news, provenance)
        olds.add((change.column, change.old))
        news.add((change.column, change.new))
        if refused is not None:
            errors.append((change.entry, _describe(change), *refused))
            continue
        _rename(
            conn,
            change,
            delivery_id=delivery_id,
            source_file=source_file,
            sender=provenance.sender_id,
            extracted_at=extracted_at,
            at=at,
        )
    return pl.DataFrame(
        {
            LINE: [e[0] for e in errors],
            "column": ["key_changes"] * len(errors),
            "value": [e[1] for e in errors],
            "rule": [e[2] for e in errors],
            "reason": [e[3] for e in errors],
        },
        schema=ERROR_SCHEMA,
    )


def _describe(change: KeyChange) -> str:
    return f"{change.column} {change.old} -> {change.new}"


def _judge(
    conn: duckdb.DuckDBPyConnection,
    change: KeyChange,
    olds: set[tuple[str, str]],
    news: set[tuple[str, str]],
    provenance: Provenance,
) -> tuple[str, str] | None:
    if change.problem is not None:
        return rules.INVALID_DECLARATION, change.problem
    column, entity = change.column, ENTITY_TABLES.get(change.column, "")
    if (column, change.old) in olds | news or (column, change.new) in olds | news:
        return (
            rules.INVALID_DECLARATION,
            f"{column} {change.old} or {change.new} already appears in an earlier entry of this "
            "key map; give each id once (a chain A -> B -> C is written A -> C)",
        )
    found = conn.execute(
        f"SELECT rowid FROM core.{entity} WHERE {q(column)} = ?", [change.old]
    ).fetchall()
    if not found:
        return rules.UNKNOWN_KEY, f"{column} {change.old} is not in {entity}: nothing to re-key"
    for table in referencing_tables(column):
        if column not in TABLES[table].key:
            continue
        if scalar(conn, f"SELECT count(*) FROM core.{table} WHERE {q(column)} = ?", [change.new]):
            return (
                rules.KEY_MERGE,
                f"{column} {change.new} already names rows of {table}: re-keying {change.old} "
                "would merge two records",
            )
    if provenance.sender is None:
        return None
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _hits AS SELECT 1 AS entry, ?::BIGINT AS rid", [found[0][0]]
    )
    owners = record_owners(conn, entity, "_hits").row(0, named=True)
    return may_change(entity, owners["sites"], owners["writer"], provenance.sender)


def _rename(
    conn: duckdb.DuckDBPyConnection,
    change: KeyChange,
    *,
    delivery_id: str,
    source_file: str,
    sender: str | None,
    extracted_at: datetime | None,
    at: datetime,
) -> None:
    column = q(change.column)
    for table_name in referencing_tables(change.column):
        table, core = TABLES[table_name], f"core.{table_name}"
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE _rekey AS SELECT rowid AS _rid, * FROM {core} "
            f"WHERE {column} = ?",
            [change.old],
        )
        if not scalar(conn, "SELECT count(*) FROM _rekey"):
            continue
        record_corrections(conn, kind="key_change", table=table_name, relation="_rekey")
        renamed = f"(SELECT * REPLACE (?::VARCHAR AS {column}) FROM _rekey)"
        conn.execute(
            f"""
            INSERT INTO audit.key_changes
            SELECT ?, ?, ?, ?, ?, ?, {key_text(table, "o")}, {key_text(table, "n")}, ?,
                   o._version + 1, ?::TIMESTAMP, ?::TIMESTAMP
            FROM _rekey o JOIN {renamed} n ON o._rid = n._rid
            """,
            [
                delivery_id,
                sender,
                table_name,
                change.column,
                change.old,
                change.new,
                change.reason,
                extracted_at,
                at,
                change.new,
            ],
        )
        conn.execute(
            f"INSERT INTO {core}_history BY NAME SELECT * EXCLUDE (_rid), ?::TIMESTAMP AS "
            "_superseded_at FROM _rekey",
            [at],
        )
        conn.execute(f"DELETE FROM {core} WHERE rowid IN (SELECT _rid FROM _rekey)")
        conn.execute(
            f"""
            INSERT INTO {core} BY NAME
            SELECT * EXCLUDE (_rid) REPLACE (
                ?::VARCHAR AS {column}, _version + 1 AS _version, ? AS _delivery_id,
                ? AS _source_file, ?::TIMESTAMP AS _loaded_at, ? AS _sender,
                coalesce(?::TIMESTAMP, _extracted_at) AS _extracted_at, NULL AS _cleared,
                NULL::BIGINT AS _source_line
            ) FROM _rekey
            """,
            [change.new, delivery_id, source_file, at, sender, extracted_at],
        )
