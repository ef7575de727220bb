"""The in-file duplicate-key check: a hash proves most files clean, the exact aggregate decides the rest."""

from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from rtr import warehouse
from rtr.ingest import merge
from rtr.ingest.validate import validate_chunk
from schemas import TABLES
from schemas.columns import Column, Table
from tests.ingest.conftest import LOT


def _write_lots(conn: duckdb.DuckDBPyConnection, lot_ids: list[str]) -> merge.Target:
    """Write lots with these ids into an empty core.lots, as a first load does."""
    table = TABLES["lots"]
    target = merge.begin(
        conn,
        table,
        delivery_id="D1",
        source_file="manufacturing/D1/lots.csv",
        loaded_at=datetime(2026, 11, 28, 12),
    )
    delivered = pl.DataFrame([LOT | {"lot_id": i} for i in lot_ids]).with_row_index(
        "_line", offset=2
    )
    checked = validate_chunk(table, delivered.with_columns(pl.col("_line").cast(pl.Int64)))
    assert checked.errors.height == 0
    merge.write_chunk(conn, target, checked.accepted)
    return target


def test_a_file_of_distinct_keys_is_proven_clean_by_the_key_hashes(tmp_path: Path) -> None:
    with warehouse.writer(tmp_path / "w.duckdb") as conn:
        target = _write_lots(conn, ["L1", "L2", "L3"])

        assert not merge.keys_may_repeat(target)
        assert merge.duplicate_key_lines(conn, target) == []


def test_repeated_keys_are_listed_line_by_line_with_their_count(tmp_path: Path) -> None:
    with warehouse.writer(tmp_path / "w.duckdb") as conn:
        target = _write_lots(conn, ["L1", "L2", "L1"])

        assert merge.keys_may_repeat(target)
        assert merge.duplicate_key_lines(conn, target) == [(2, "lot_id=L1", 2), (4, "lot_id=L1", 2)]


def test_a_hash_collision_between_different_keys_quarantines_nothing(tmp_path: Path) -> None:
    with warehouse.writer(tmp_path / "w.duckdb") as conn:
        target = _write_lots(conn, ["L1", "L2"])
        # Two different keys whose hashes collide: the exact aggregate must clear them.
        target.key_hashes[:] = [pl.Series([7, 7], dtype=pl.UInt64)]

        assert merge.keys_may_repeat(target)
        assert merge.duplicate_key_lines(conn, target) == []


def test_a_key_with_a_number_is_always_checked_exactly() -> None:
    # 0.0 and -0.0 are one key to SQL, so distinct hashes prove nothing for a float key part.
    table = Table(
        name="doses",
        sender="clinical",
        grain="one row per dose level",
        columns=(Column("dose", "float", "Dose level"),),
        key=("dose",),
    )
    target = merge.Target(table, True, "D1", "clinical/D1/doses.csv", datetime(2026, 11, 28))
    target.key_hashes.append(pl.Series([1, 2], dtype=pl.UInt64))

    assert merge.keys_may_repeat(target)
