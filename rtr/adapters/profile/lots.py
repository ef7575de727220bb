"""Lot start dates from the delivery's own lots file, for profiles that give elapsed culture time."""

from collections.abc import Sequence
from pathlib import Path

import polars as pl

_READERS = {
    ".csv": lambda p: pl.read_csv(p, infer_schema=False),
    ".parquet": pl.read_parquet,
    ".xlsx": lambda p: pl.read_excel(p.read_bytes(), infer_schema_length=0),
}


def lot_start_dates(siblings: Sequence[Path]) -> dict[str, str]:
    """{lot_id: start_date} from a canonical ``lots`` file among ``siblings`` (empty when none or unreadable)."""
    out: dict[str, str] = {}
    for path in siblings:
        read = _READERS.get(path.suffix.lower())
        if path.stem.lower() != "lots" or read is None:
            continue
        try:
            frame = read(path).rename(lambda c: c.strip().lower())
        except (OSError, pl.exceptions.PolarsError, ValueError):
            continue  # ingestion judges that file on its own; here it only gives no dates
        if {"lot_id", "start_date"} <= set(frame.columns):
            pairs = frame.select(pl.col("lot_id", "start_date").cast(pl.String)).drop_nulls()
            out |= {str(k).strip(): str(v).strip() for k, v in pairs.iter_rows()}
    return out
