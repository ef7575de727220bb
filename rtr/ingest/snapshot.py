"""Full-snapshot deliveries: records of the sender's sites that a snapshot no longer contains.

A manifest that says ``"snapshot": "full"`` declares that the delivery holds every current
subject (or lot) of the sites it covers. One that is missing is flagged in audit.snapshot_gaps,
never deleted: an export filter or a lost page is likelier than a silent withdrawal, and a
withdrawal is said with a retraction. A snapshot covers the sites its sender speaks for (under
a registry) or, running open, the sites its own rows name.
"""

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from rtr.ingest.units import file_units
from schemas import TABLES
from schemas.ownership import OWNERSHIP

SNAPSHOT_TABLES = ("subjects", "lots")
"""Entity tables whose rows name their own site: what a snapshot can be complete about."""


def delivered_records(
    files: Iterable[Path], *, siblings: tuple[Path, ...], profile: object
) -> dict[str, pl.DataFrame]:
    """(id, site) of every subjects and lots row the files hold, read again, rows bad or good."""
    found: dict[str, list[pl.DataFrame]] = {t: [] for t in SNAPSHOT_TABLES}
    for path in files:
        for unit in file_units(path, siblings=siblings, profile=profile).units:
            if unit.table is None or unit.table.name not in SNAPSHOT_TABLES:
                continue
            owner = OWNERSHIP[unit.table.name]
            id_col, site_col = unit.table.key[0], owner.site_column or ""
            for chunk in unit.chunks:
                if id_col not in chunk.columns:
                    continue
                site = (
                    pl.col(site_col).cast(pl.String).str.strip_chars()
                    if site_col in chunk.columns
                    else pl.lit(None, pl.String)
                )
                found[unit.table.name].append(
                    chunk.select(
                        pl.col(id_col).cast(pl.String).str.strip_chars().alias("id"),
                        site.alias("site"),
                    )
                )
    return {
        t: pl.concat(frames).unique() if frames else pl.DataFrame(schema={"id": pl.String})
        for t, frames in found.items()
    }


def flag_gaps(
    conn: duckdb.DuckDBPyConnection,
    delivered: dict[str, pl.DataFrame],
    *,
    delivery_id: str,
    sender_id: str | None,
    covered: dict[str, frozenset[str]] | None,
    at: datetime,
) -> int:
    """Record the current records of the covered sites that the snapshot lacks; returns how many.

    ``covered`` maps each table to the sites the sender speaks for; None (open) takes the sites
    the delivered rows name. A table the delivery did not carry is not judged.
    """
    flagged = 0
    for name, rows in delivered.items():
        if rows.height == 0:
            continue
        site_col = OWNERSHIP[name].site_column or ""
        id_col = TABLES[name].key[0]
        sites = (
            sorted(covered[name])
            if covered is not None
            else sorted(rows["site"].drop_nulls().unique().to_list())
        )
        conn.register("_snapshot_ids", rows.select("id").__arrow_c_stream__())
        try:
            before = _count(conn, delivery_id)
            conn.execute(
                f"""
                INSERT INTO audit.snapshot_gaps
                SELECT ?, ?, ?, '{id_col}=' || c.{id_col}, c.{site_col}, c._delivery_id,
                       ?::TIMESTAMP
                FROM core.{name} c
                WHERE c.{site_col} IN (SELECT unnest(?::VARCHAR[]))
                  AND c.{id_col} NOT IN (SELECT id FROM _snapshot_ids WHERE id IS NOT NULL)
                  AND NOT EXISTS (
                      SELECT 1 FROM audit.snapshot_gaps g WHERE g.delivery_id = ?
                      AND g."table" = ? AND g."key" = '{id_col}=' || c.{id_col})
                """,
                [delivery_id, sender_id, name, at, sites, delivery_id, name],
            )
            flagged += _count(conn, delivery_id) - before
        finally:
            conn.unregister("_snapshot_ids")
    return flagged


def _count(conn: duckdb.DuckDBPyConnection, delivery_id: str) -> int:
    rows = conn.execute(
        "SELECT count(*) FROM audit.snapshot_gaps WHERE delivery_id = ?", [delivery_id]
    ).fetchall()
    return int(rows[0][0])
