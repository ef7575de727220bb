"""A manifest's key map and retraction list, each applied as one transaction with its audit record.

The entries are judged like rows of a file: audit.loads gets one row for the key map (applied
before the delivery's files, so that they can already use the new ids) and one for the
retraction list (applied after them); each refused entry is an audit.quarantine record whose
line is the entry's position in its list. Problems with other manifest fields (an unreadable
``extracted_at``) are recorded with the key map.
"""

import uuid
from typing import Literal

import duckdb
import polars as pl

from rtr.adapters.interface import LINE
from rtr.ingest.declarations import Declarations, FieldProblem
from rtr.ingest.errors import ERROR_SCHEMA
from rtr.ingest.key_changes import apply_key_changes
from rtr.ingest.load import OK_OUTCOMES, FileResult, now_utc, record_load, write_quarantine
from rtr.ingest.provenance import Provenance
from rtr.ingest.retractions import apply_retractions
from rtr.warehouse import scalar
from schemas import rules

Part = Literal["key_changes", "retractions"]


def apply_declared(
    conn: duckdb.DuckDBPyConnection,
    declared: Declarations,
    part: Part,
    *,
    delivery_id: str,
    manifest_file: str,
    provenance: Provenance,
) -> FileResult | None:
    """Apply one part of the manifest's declarations; None when the manifest declares none."""
    problems = declared.problems if part == "key_changes" else ()
    entries = declared.key_changes if part == "key_changes" else declared.retractions
    if not entries and not problems:
        return None
    base = {
        "delivery_id": delivery_id,
        "file": manifest_file,
        "sha256": declared.manifest_sha256,
        "tables": part,
        "format": "manifest",
        "sender": provenance.sender_id,
        "registry": provenance.registry,
        "extracted_at": declared.extracted_at,
    }
    if _applied_before(conn, declared.manifest_sha256, part):
        return record_load(conn, base | {"outcome": "unchanged", "reason": "already applied"})
    at, load_id = now_utc(), str(uuid.uuid4())
    conn.execute("BEGIN TRANSACTION")
    try:
        if part == "key_changes":
            errors = apply_key_changes(
                conn,
                declared.key_changes,
                delivery_id=delivery_id,
                source_file=manifest_file,
                provenance=provenance,
                extracted_at=declared.extracted_at,
                at=at,
            )
        else:
            errors = apply_retractions(
                conn,
                declared.retractions,
                delivery_id=delivery_id,
                provenance=provenance,
                extracted_at=declared.extracted_at,
                at=at,
            )
        errors = pl.concat([errors, _problem_records(problems, len(entries))])
        write_quarantine(
            conn,
            errors,
            {
                "load_id": load_id,
                "delivery_id": delivery_id,
                "file": manifest_file,
                "table": part,
                "quarantined_at": at,
            },
        )
        read = len(entries) + len(problems)
        result = record_load(
            conn,
            base
            | {
                "load_id": load_id,
                "rows_read": read,
                "rows_accepted": read - errors.height,
                "rows_quarantined": errors.height,
                "loaded_at": at,
                "outcome": "accepted" if errors.height == 0 else "partially_accepted",
            },
        )
        conn.execute("COMMIT")
        return result
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _applied_before(conn: duckdb.DuckDBPyConnection, sha: str | None, part: Part) -> bool:
    if sha is None:
        return False
    return bool(
        scalar(
            conn,
            "SELECT count(*) FROM audit.loads WHERE sha256 = ? AND tables = ? "
            "AND outcome IN (SELECT unnest(?::VARCHAR[]))",
            [sha, part, [o for o in OK_OUTCOMES if o != "unchanged"]],
        )
    )


def _problem_records(problems: tuple[FieldProblem, ...], entries: int) -> pl.DataFrame:
    """Quarantine records of unreadable manifest fields, numbered after the list's entries."""
    return pl.DataFrame(
        {
            LINE: [entries + i for i in range(1, len(problems) + 1)],
            "column": [p.field for p in problems],
            "value": [p.value for p in problems],
            "rule": [rules.INVALID_DECLARATION] * len(problems),
            "reason": [p.reason for p in problems],
        },
        schema=ERROR_SCHEMA,
    )
