"""Limits and fail-closed rules, each broken alone, in every format it applies to."""

from pathlib import Path

import polars as pl
import pytest

from rtr.ingest.limits import Limits, limits_from_env
from rtr.ingest.prechecks import json_depth
from rtr.ingest.run import ingest_path
from tests.ingest.conftest import LOT, Warehouse, write_csv


def _write(frame: pl.DataFrame, path: Path) -> None:
    if path.suffix == ".csv":
        frame.write_csv(path)
    elif path.suffix == ".parquet":
        frame.write_parquet(path)
    else:
        from openpyxl import Workbook

        wb = Workbook()
        wb.active.append(frame.columns)
        for row in frame.iter_rows():
            wb.active.append(list(row))
        wb.save(path)


def _ingest(wh: Warehouse, limits: Limits | None = None) -> dict[str, object]:
    results = ingest_path(wh.landing, warehouse_path=wh.path, archive_dir=wh.archive, limits=limits)
    return {r.file.rsplit("/", 1)[-1]: r for r in results}


def test_limits_come_from_the_environment_with_documented_defaults() -> None:
    limits = limits_from_env({"RTR_LIMIT_MAX_COLUMNS": "12", "RTR_LIMIT_MEMORY_MIB": "300"})
    assert (limits.max_columns, limits.memory_mib) == (12, 300)
    assert limits.max_json_depth == Limits().max_json_depth == 100
    with pytest.raises(ValueError, match="RTR_LIMIT_WALL_SECONDS"):
        limits_from_env({"RTR_LIMIT_WALL_SECONDS": "soon"})
    with pytest.raises(ValueError, match="positive"):
        limits_from_env({"RTR_LIMIT_MAX_COLUMNS": "0"})


def test_json_depth_ignores_brackets_inside_strings() -> None:
    assert json_depth(b'{"a": "[[[[{{{{", "b": [1, {"c": "\\"]]]"}]}') == 3
    assert json_depth(b'{"a": 1}\n{"b": [[2]]}\n') == 3


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_a_repeated_header_refuses_the_file_in_every_format(wh: Warehouse, fmt: str) -> None:
    folder = wh.delivery("manufacturing", "D1")
    frame = pl.DataFrame({**{k: [v] for k, v in LOT.items()}, "LOT_ID ": ["L2"]})
    _write(frame, folder / f"lots.{fmt}")
    result = _ingest(wh)[f"lots.{fmt}"]
    assert (result.outcome, result.rule) == ("refused", "duplicate_column")
    assert "'lot_id'" in result.reason and "'LOT_ID '" in result.reason


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_control_characters_in_text_are_quarantined_in_every_format(
    wh: Warehouse, fmt: str
) -> None:
    folder = wh.delivery("manufacturing", "D1")
    rows = [LOT | {"lot_id": "L\x00NUL"}, LOT | {"lot_id": "L2", "product_code": "P\u202eX"}, LOT]
    frame = pl.DataFrame(rows)
    if fmt == "xlsx":  # a cell cannot hold C0 controls; DEL and C1 it can
        frame = frame.with_columns(pl.col("lot_id").str.replace("\x00", "\x7f"))
    _write(frame, folder / f"lots.{fmt}")
    result = _ingest(wh)[f"lots.{fmt}"]
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (3, 1, 2)
    bad = wh.query('SELECT line, "column", value, rule FROM audit.quarantine ORDER BY line')
    assert bad["rule"].to_list() == ["control_character"] * 2
    assert bad["column"].to_list() == ["lot_id", "product_code"]
    assert bad["value"][1] == "P\\u202eX" and "\\x" in bad["value"][0]
    assert wh.query("SELECT lot_id FROM core.lots")["lot_id"].to_list() == ["L1"]


def test_a_parquet_row_group_over_the_limit_is_refused_from_its_footer(wh: Warehouse) -> None:
    folder = wh.delivery("manufacturing", "D1")
    big = pl.DataFrame({**{k: [v] * 200_000 for k, v in LOT.items()}})
    big.with_columns(pl.format("L{}", pl.int_range(pl.len())).alias("lot_id")).write_parquet(
        folder / "lots.parquet", row_group_size=200_000
    )
    result = _ingest(wh, Limits(max_row_group_mib=1))["lots.parquet"]
    assert (result.outcome, result.rule) == ("refused", "resource_limit")
    assert "RTR_LIMIT_MAX_ROW_GROUP_MIB" in result.reason
    assert _ingest(wh)["lots.parquet"].outcome == "accepted"


def test_a_symlinked_file_given_by_path_is_refused_not_followed(
    wh: Warehouse, tmp_path: Path
) -> None:
    outside = write_csv(tmp_path / "outside" / "lots.csv", [LOT])
    link = wh.delivery("manufacturing", "D1") / "lots.csv"
    link.symlink_to(outside)
    results = ingest_path(link, warehouse_path=wh.path, archive_dir=wh.archive)
    assert [(r.outcome, r.rule, r.sha256) for r in results] == [("refused", "symlink", None)]
    assert not wh.archive.exists() or not any(p.is_file() for p in wh.archive.rglob("*"))
