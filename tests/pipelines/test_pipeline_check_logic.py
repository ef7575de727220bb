"""The plain check queries, on a literal core table with planted defects."""

import duckdb

from pipelines.checks_logic import duplicate_keys, link_issues_by_kind, missing_required
from rtr.warehouse import ensure_schema
from schemas import TABLES


def _warehouse() -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    ensure_schema(conn)
    return conn


def test_duplicate_current_keys_and_missing_required_values_are_counted():
    conn = _warehouse()
    conn.execute(
        "INSERT INTO core.lots (lot_id, product_code, modality, disposition) VALUES "
        "('L1', 'P', 'msc', 'released'),"  # L1 twice: a duplicate current version
        "('L1', 'P', 'msc', 'released'),"
        "('L2', NULL, 'msc', 'released'),"  # required product_code missing
        "('L3', 'P', 'msc', 'released')"
    )

    assert duplicate_keys(conn, TABLES["lots"]) == (1, ["L1"])
    assert missing_required(conn, TABLES["lots"]) == {"product_code": 1}


def test_clean_and_empty_tables_pass():
    conn = _warehouse()
    conn.execute(
        "INSERT INTO core.lots (lot_id, product_code, modality, disposition) VALUES "
        "('L1', 'P', 'msc', 'released'), ('L2', 'P', 'msc', 'released')"
    )

    assert duplicate_keys(conn, TABLES["lots"]) == (0, [])
    assert missing_required(conn, TABLES["lots"]) == {}
    assert missing_required(conn, TABLES["subjects"]) == {}
    assert link_issues_by_kind(conn) == {}  # linking has not run yet
