"""Audit tables of senders and corrections: the registry's versions, retractions, key changes, gaps.

Grain of each: audit.senders one row per sender per registry version; audit.retractions one row
per record retracted (a retracted subject also retracts its rows keyed by it); audit.key_changes
one row per record re-keyed; audit.snapshot_gaps one row per record a full-snapshot delivery no
longer contained (flagged, never deleted).
"""

import duckdb

AUDIT_TABLES = ("senders", "retractions", "key_changes", "snapshot_gaps")

DDL = """
CREATE TABLE IF NOT EXISTS audit.senders (
    registry_sha256 VARCHAR, registry_version VARCHAR, sender_id VARCHAR, name VARCHAR,
    sites VARCHAR, manufacturing_sites VARCHAR, folders VARCHAR, registry_file VARCHAR,
    recorded_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS audit.retractions (
    delivery_id VARCHAR, sender VARCHAR, "table" VARCHAR, "key" VARCHAR, listed_key VARCHAR,
    reason VARCHAR, retracted_version INTEGER, extracted_at TIMESTAMP, retracted_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS audit.key_changes (
    delivery_id VARCHAR, sender VARCHAR, "table" VARCHAR, "column" VARCHAR, old_value VARCHAR,
    new_value VARCHAR, old_key VARCHAR, new_key VARCHAR, reason VARCHAR, new_version INTEGER,
    extracted_at TIMESTAMP, changed_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS audit.snapshot_gaps (
    delivery_id VARCHAR, sender VARCHAR, "table" VARCHAR, "key" VARCHAR, site VARCHAR,
    last_delivery_id VARCHAR, flagged_at TIMESTAMP
);
"""

LOADS_COLUMNS = (("sender", "VARCHAR"), ("registry", "VARCHAR"), ("extracted_at", "TIMESTAMP"))
"""Columns audit.loads gained with senders: who sent the file, under which registry, as of when."""


def ensure_audit_tables(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(DDL)
    for name, dtype in LOADS_COLUMNS:
        conn.execute(f"ALTER TABLE audit.loads ADD COLUMN IF NOT EXISTS {name} {dtype}")
