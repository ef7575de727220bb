"""The one place where ingestion hands its corrections to the append-only audit events.

Every change to a current record passes through here with its old and new values at hand:
a corrected row (``record_corrections``), a retraction and a key change (rtr.ingest.retractions
calls ``record_corrections`` with their own relations). audit.retractions, audit.key_changes
and core.<table>_history already keep what changed, who sent it and when; an events table
that logs every change in one stream (old value, new value, actor) plugs in here, so that no
merge code changes when it lands.
"""

import duckdb


def record_corrections(
    conn: duckdb.DuckDBPyConnection, *, table: str, staged: str, matched: str
) -> None:
    """Hook: ``matched`` holds (_source_line, core_rowid, is_same, cleared) for rows of ``staged``.

    Rows with ``NOT is_same`` replace the core row at ``core_rowid`` (its old values) with the
    staged row of the same ``_source_line`` (its new values) in ``core.<table>``. Nothing more is
    recorded here today: the history table keeps the old version with the new one's lineage.
    """
    del conn, table, staged, matched
