"""Apply a delivery's retraction list: records withdrawn by their sender, never deleted.

A retracted record leaves the current table; its last version stays in history and
audit.retractions says who retracted it, when and why. Retracting an entity retracts the rows
of the same sender kind keyed by it (a subject's responses, adverse events, infusions...;
a lot's process parameters, QC results and time series), which cannot stand without it.
"""

from datetime import datetime

import duckdb
import polars as pl

from rtr.adapters.interface import LINE
from rtr.ingest.authority import may_change, record_owners
from rtr.ingest.correction_events import record_corrections
from rtr.ingest.declarations import Retraction
from rtr.ingest.errors import ERROR_SCHEMA
from rtr.ingest.merge import key_match, key_text, q
from rtr.ingest.parse import parse
from rtr.ingest.provenance import Provenance
from rtr.warehouse import scalar
from schemas import TABLES, rules
from schemas.ownership import ENTITY_TABLES, cascade_tables


def apply_retractions(
    conn: duckdb.DuckDBPyConnection,
    retractions: tuple[Retraction, ...],
    *,
    delivery_id: str,
    provenance: Provenance,
    extracted_at: datetime | None,
    at: datetime,
) -> pl.DataFrame:
    """Apply every valid entry; quarantine records (ERROR_SCHEMA) for the others."""
    errors: list[tuple[int, str, str, str]] = []
    for entry in retractions:
        shown = f"{entry.table} " + ", ".join(f"{k}={v}" for k, v in entry.key.items())
        refused = _judge(conn, entry, provenance)
        if refused is not None:
            errors.append((entry.entry, shown, *refused))
            continue
        _retract(
            conn,
            entry,
            delivery_id=delivery_id,
            sender=provenance.sender_id,
            extracted_at=extracted_at,
            at=at,
        )
    return pl.DataFrame(
        {
            LINE: [e[0] for e in errors],
            "column": ["retractions"] * len(errors),
            "value": [e[1] for e in errors],
            "rule": [e[2] for e in errors],
            "reason": [e[3] for e in errors],
        },
        schema=ERROR_SCHEMA,
    )


def _typed_key(entry: Retraction) -> tuple[pl.DataFrame, str | None]:
    """The entry's key as a one-row frame of the table's types, or why it cannot be read."""
    table = TABLES[entry.table]
    text = pl.DataFrame(
        {k: ["" if entry.key[k] is None else str(entry.key[k])] for k in table.key},
        schema=dict.fromkeys(table.key, pl.String),
    )
    typed = text.select(parse(k, table.column(k).dtype, pl.String).alias(k) for k in table.key)
    for k in table.key:
        if typed[k][0] is None and text[k][0].strip():
            return typed, f"{text[k][0]} is not a valid {table.column(k).dtype} for {k}"
    return typed, None


def _judge(
    conn: duckdb.DuckDBPyConnection, entry: Retraction, provenance: Provenance
) -> tuple[str, str] | None:
    if entry.problem is not None:
        return rules.INVALID_DECLARATION, entry.problem
    key, problem = _typed_key(entry)
    if problem is not None:
        return rules.INVALID_DECLARATION, problem
    table = TABLES[entry.table]
    conn.register("_retract_key", key.__arrow_c_stream__())
    try:
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE _hits AS SELECT 1 AS entry, c.rowid AS rid "
            f"FROM core.{table.name} c JOIN _retract_key k ON {key_match(table, 'c', 'k')}"
        )
    finally:
        conn.unregister("_retract_key")
    if not scalar(conn, "SELECT count(*) FROM _hits"):
        return (
            rules.UNKNOWN_KEY,
            f"no current {table.name} record has this key (never sent, or already retracted)",
        )
    if provenance.sender is None:
        return None
    owners = record_owners(conn, table.name, "_hits").row(0, named=True)
    return may_change(table.name, owners["sites"], owners["writer"], provenance.sender)


def _retract(
    conn: duckdb.DuckDBPyConnection,
    entry: Retraction,
    *,
    delivery_id: str,
    sender: str | None,
    extracted_at: datetime | None,
    at: datetime,
) -> None:
    """Retract the record found by _judge (in _hits), and what hangs from an entity record."""
    table = TABLES[entry.table]
    listed = scalar(
        conn,
        f"SELECT {key_text(table, 'c')} FROM core.{table.name} c "
        "WHERE c.rowid = (SELECT rid FROM _hits)",
    )
    targets: list[tuple[str, str, list[object]]] = [
        (table.name, "rowid = (SELECT rid FROM _hits)", [])
    ]
    column = next((c for c, t in ENTITY_TABLES.items() if t == table.name), None)
    if column is not None:
        entity_id = entry.key[column]
        targets += [(t, f"{q(column)} = ?", [str(entity_id)]) for t in cascade_tables(table.name)]
    for name, where, params in targets:
        core = f"core.{name}"
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE _gone AS SELECT rowid AS _rid, * FROM {core} "
            f"WHERE {where}",
            params,
        )
        record_corrections(conn, kind="retraction", table=name, relation="_gone")
        conn.execute(
            f"INSERT INTO audit.retractions SELECT ?, ?, ?, {key_text(TABLES[name], 'g')}, ?, ?, "
            "g._version, ?::TIMESTAMP, ?::TIMESTAMP FROM _gone g",
            [delivery_id, sender, name, listed, entry.reason, extracted_at, at],
        )
        conn.execute(
            f"INSERT INTO {core}_history BY NAME SELECT * EXCLUDE (_rid), ?::TIMESTAMP AS "
            "_superseded_at FROM _gone",
            [at],
        )
        conn.execute(f"DELETE FROM {core} WHERE rowid IN (SELECT _rid FROM _gone)")
