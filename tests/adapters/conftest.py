"""Helpers shared by the adapter tests: read a folder through the adapters, type a mapped frame."""

from pathlib import Path

import polars as pl
import pytest

from rtr.adapters import DERIVED, detect_format, read_standard, readable
from rtr.adapters.interface import REJECT_RULE, SourceTable

EXTERNAL = Path(__file__).resolve().parent.parent / "data" / "external"


def read_folder(folder: Path) -> list[SourceTable]:
    """Every SourceTable the adapters give for the files of one delivery folder."""
    files = sorted(p for p in folder.iterdir() if p.is_file())
    out: list[SourceTable] = []
    for path in files:
        fmt = detect_format(path)
        if not readable(fmt):
            continue
        out.extend(read_standard(path, fmt=fmt, siblings=files))
    return out


def source_rows(table: SourceTable) -> int:
    """Rows of a SourceTable that stand for source records (derived rows excluded)."""
    if DERIVED in table.frame.columns:
        return table.frame.filter(~pl.col(DERIVED)).height
    return table.frame.height


def accepted(tables: list[SourceTable], name: str) -> pl.DataFrame:
    """Concatenated accepted rows of one contract table."""
    frames = [t.frame for t in tables if t.table == name]
    frame = pl.concat(frames, how="diagonal_relaxed")
    return frame.filter(pl.col(REJECT_RULE).is_null()) if REJECT_RULE in frame.columns else frame


def typed_like(frame: pl.DataFrame, like: pl.DataFrame) -> pl.DataFrame:
    """``frame``'s text columns parsed to ``like``'s types (what validation would do)."""
    exprs = []
    for name, dtype in like.schema.items():
        col = pl.col(name)
        if dtype == pl.Date:
            exprs.append(col.str.to_date())
        elif dtype == pl.Boolean:
            exprs.append(col == "true")
        elif dtype.is_integer():
            exprs.append(col.cast(pl.Float64).cast(dtype))
        elif dtype.is_float():
            exprs.append(col.cast(pl.Float64))
        else:
            exprs.append(col.cast(dtype))
    return frame.select(exprs)


@pytest.fixture(scope="session")
def external() -> Path:
    return EXTERNAL
