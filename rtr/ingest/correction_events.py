"""The one place where ingestion hands every change of a current record to the audit events.

Each change passes through ``record_corrections`` with its old values at hand: a corrected row
(rtr.ingest.merge), a retracted record (rtr.ingest.retractions) and a re-keyed one
(rtr.ingest.key_changes). core.<table>_history, audit.retractions and audit.key_changes already
keep what changed, who sent it and when; an append-only events table that logs every change in
one stream (old value, new value, sender) plugs in here, without touching the merge code.
"""

from typing import Literal

import duckdb

Kind = Literal["correction", "retraction", "key_change"]


def record_corrections(
    conn: duckdb.DuckDBPyConnection, *, kind: Kind, table: str, relation: str
) -> None:
    """Hook, called inside the change's transaction before core.<table> is changed.

    ``relation`` names a temporary table: for a correction, (_source_line, core_rowid, is_same,
    cleared) joining staged new rows to the core rows they replace where ``NOT is_same``; for a
    retraction, the retracted core rows (``_rid`` = their rowid); for a key change, the core rows
    about to be re-keyed (``_rid``), whose new id audit.key_changes holds. Nothing more is written
    here yet: history and the audit tables above carry every value.
    """
    del conn, kind, table, relation
