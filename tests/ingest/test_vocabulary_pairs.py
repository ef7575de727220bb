"""Unit conversion attaches each row's own (code, unit) pair, even when two pairs' hashes collide."""

from datetime import datetime

import polars as pl
import pytest

from rtr.ingest.measurements import apply_vocabulary
from schemas import TABLES

ROWS = pl.DataFrame(
    {
        "_line": [2, 3, 4, 5],
        "lot_id": ["L1"] * 4,
        "observed_at": [datetime(2025, 1, 1, h) for h in range(4)],
        "measure_code": ["glucose_g_l", "lactate_g_l", "temperature_c", "temperature_c"],
        "value": [10.0, 10.0, 98.6, 310.15],
        "unit": ["mmol/L", "mmol/L", "degF", "K"],
    }
)


def _converted(frame: pl.DataFrame) -> list[tuple[float, str]]:
    out, _ = apply_vocabulary(TABLES["in_process_timeseries"], frame)
    return [(round(v, 4), u) for v, u in out.sort("_line").select("value", "unit").rows()]


EXPECTED = [(1.8016, "g/L"), (0.9008, "g/L"), (37.0, "degC"), (37.0, "degC")]


def test_each_row_is_converted_with_its_own_code_and_unit() -> None:
    assert _converted(ROWS) == EXPECTED


def test_pairs_whose_hashes_collide_still_convert_each_row_by_its_own_pair(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = pl.DataFrame.hash_rows

    def colliding(self: pl.DataFrame, seed: int = 0, *args: int | None) -> pl.Series:
        # Seed 0 gives every pair the same hash, as a (vanishingly rare) collision would.
        if seed == 0:
            return pl.Series([1] * self.height, dtype=pl.UInt64)
        return real(self, seed, *args)

    monkeypatch.setattr(pl.DataFrame, "hash_rows", colliding)

    assert _converted(ROWS) == EXPECTED
