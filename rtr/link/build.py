"""Build the linked layer: link issues, the wide per-infusion table, lot features, catalog."""

from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from rtr.link.catalog import build_feature_catalog
from rtr.link.columns import fixed_column_names
from rtr.link.in_process import create_in_process_features, in_process_feature_columns
from rtr.link.inputs import create_link_inputs, drop_link_inputs
from rtr.link.pivots import create_all_lot_pivots
from rtr.link.wide import (
    create_event_measures,
    create_lot_measures,
    infusion_product_outcome_sql,
    lot_features_sql,
)
from schemas.link_rules import LINK_RULES
from schemas.published import LINKED_TABLES as PUBLISHED_LINKED_TABLES

_HERE = Path(__file__).parent
_EVENTS_SQL = (_HERE / "events.sql").read_text()
_OUTCOMES_SQL = (_HERE / "outcomes.sql").read_text()
_ISSUES_SQL = (_HERE / "issues.sql").read_text()

LINKED_TABLES = PUBLISHED_LINKED_TABLES

_TEMP_TABLES = (
    "lk_infusion_lots", "lk_lots", "lk_subjects", "lk_collections", "lk_follow", "lk_events",
    "lk_outcomes", "lk_operating_ranges", "lk_in_process", "lk_latest_cqa", "lk_latest_pp",
    "lk_latest_sm", "lk_latest_ip", "lk_wide_cqa", "lk_wide_pp", "lk_wide_sm", "lk_wide_ip",
    "lk_oos", "lk_lot_wide", "lk_lot_measures", "lk_event_measures",
)  # fmt: skip


def _write(conn: duckdb.DuckDBPyConnection, table: str, select: str, params: object = None) -> int:
    conn.execute(f"CREATE OR REPLACE TABLE linked.{table} AS {select}", params)
    # fetchall, not fetchone: an unfinished result blocks the connection in DuckDB 2.0.
    return int(conn.execute(f"SELECT count(*) FROM linked.{table}").fetchall()[0][0])


def build_linked_tables(
    conn: duckdb.DuckDBPyConnection,
    *,
    follow_up_window_days: int = 120,
    as_of: date | None = None,
) -> dict[str, int]:
    """(Re)create the linked.* tables from core.* in one transaction; return rows per table.

    `as_of` (default: today) is the day against which "infusion without outcome" is judged:
    an infusion more than `follow_up_window_days` before it with no response or follow-up
    record is reported. Missing core tables are treated as empty.
    """
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute("CREATE SCHEMA IF NOT EXISTS linked")
        create_link_inputs(conn)
        conn.execute(_EVENTS_SQL)
        create_in_process_features(conn)
        in_process = in_process_feature_columns()
        pivots = create_all_lot_pivots(conn, taken=fixed_column_names() | set(in_process))
        create_lot_measures(conn, pivots)
        pivot_columns = [c for _, cols in pivots.values() for c in cols]
        create_event_measures(
            conn,
            numeric=in_process + [c.column for c in pivot_columns if c.dtype == "numeric"],
            text=[c.column for c in pivot_columns if c.dtype != "numeric"],
        )
        conn.execute(_OUTCOMES_SQL)
        # "Overdue" is judged against the calendar: outcomes not yet delivered are overdue
        # whether or not any newer clinical delivery arrived.
        as_of_date = date.today() if as_of is None else as_of
        if isinstance(as_of_date, datetime):
            as_of_date = as_of_date.date()
        counts = {
            "link_issues": _write(
                conn, "link_issues", _ISSUES_SQL,
                {"as_of": as_of_date, "window_days": follow_up_window_days},
            ),
            "infusion_product_outcome": _write(
                conn, "infusion_product_outcome",
                infusion_product_outcome_sql(
                    sm=[c.column for c in pivots["sm"][1]],
                    process=[c.column for c in pivots["pp"][1] + pivots["ip"][1]],
                    cqa=[c.column for c in pivots["cqa"][1]],
                    in_process=in_process,
                ),
            ),
            "lot_features": _write(
                conn, "lot_features",
                lot_features_sql(
                    cqa=[c.column for c in pivots["cqa"][1]], in_process=in_process,
                    process=[c.column for c in pivots["pp"][1] + pivots["ip"][1]],
                    sm=[c.column for c in pivots["sm"][1]],
                ),
            ),
        }  # fmt: skip
        _apply_link_rules(conn)
        catalog = build_feature_catalog(
            sm=pivots["sm"][1], process=pivots["pp"][1] + pivots["ip"][1], cqa=pivots["cqa"][1]
        )
        conn.register("lk_feature_catalog_frame", catalog)
        try:
            counts["feature_catalog"] = _write(
                conn, "feature_catalog", "SELECT * FROM lk_feature_catalog_frame"
            )
        finally:
            conn.unregister("lk_feature_catalog_frame")
        for table in _TEMP_TABLES:
            conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
        drop_link_inputs(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return counts


def _apply_link_rules(conn: duckdb.DuckDBPyConnection) -> None:
    """Severity and blocking come from schemas.link_rules, the one place the checks read them too."""
    rules = pl.DataFrame(
        [
            {"kind": r.kind, "severity": r.severity, "blocks_analysis": r.blocks_analysis}
            for r in LINK_RULES
        ]
    )
    conn.register("lk_link_rules", rules)
    try:
        conn.execute(
            "UPDATE linked.link_issues AS i SET severity = r.severity, blocks_analysis = r.blocks_analysis "
            "FROM lk_link_rules AS r WHERE i.kind = r.kind"
        )
    finally:
        conn.unregister("lk_link_rules")


ISSUE_SUMMARY_SCHEMA = {"kind": pl.String, "severity": pl.String, "n": pl.Int64}


def summarise_link_issues(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Return the number of link issues per kind and severity (empty before linking ran)."""
    exists = conn.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'linked' AND table_name = 'link_issues'"
    ).fetchall()[0][0]
    if not exists:
        return pl.DataFrame(schema=ISSUE_SUMMARY_SCHEMA)
    summary: pl.DataFrame = conn.sql(
        "SELECT kind, severity, count(*)::BIGINT AS n FROM linked.link_issues "
        "GROUP BY kind, severity ORDER BY severity, kind"
    ).pl()
    return summary
