"""Readers for canonical files (<table>.csv / .parquet / .xlsx): header first, then rows in chunks."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from rtr.ingest.source import LINE, RefusedFile
from schemas import rules

CHUNK_ROWS = 1_000_000
"""Rows validated at a time: bounds memory for 10^8-row time series."""

CANONICAL_SUFFIXES = (".csv", ".parquet", ".xlsx")


@dataclass(frozen=True)
class CanonicalFile:
    """A canonical file opened lazily: its header is known, its rows come in chunks."""

    path: Path
    columns: tuple[str, ...]
    frame: pl.LazyFrame
    encoding: str | None

    def chunks(self, rows: int = CHUNK_ROWS) -> Iterator[pl.DataFrame]:
        """Rows with ``_line`` (1-based, header = 1), renamed to normalised column names."""
        try:
            yield from self.frame.collect_batches(chunk_size=rows)
        except pl.exceptions.ComputeError as exc:
            if "utf-8" in str(exc).lower():
                raise RefusedFile(
                    rules.UNDECODABLE, f"{self.path.name} is not valid UTF-8: {exc}"
                ) from exc
            raise RefusedFile(
                rules.UNREADABLE, f"{self.path.name} could not be parsed: {exc}"
            ) from exc


def normalise_column(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower()


def open_canonical(path: Path) -> CanonicalFile:
    """Open a canonical file; refuse it (empty, undecodable, unreadable) before any row is read."""
    if path.stat().st_size == 0:
        raise RefusedFile(rules.EMPTY_FILE, f"{path.name} is empty (0 bytes)")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            lf = pl.scan_csv(path, infer_schema=False, encoding="utf8", truncate_ragged_lines=False)
            encoding: str | None = "utf-8"
        elif suffix == ".parquet":
            lf = pl.scan_parquet(path)
            encoding = None
        elif suffix == ".xlsx":
            # Excel deliveries are small (lot records, QC results); read every cell as text so
            # validation sees what the sender typed, not what a type guess made of it.
            lf = pl.read_excel(path.read_bytes(), sheet_id=1, infer_schema_length=0).lazy()
            encoding = None
        else:
            raise RefusedFile(rules.UNKNOWN_TABLE, f"{path.name}: unsupported file type {suffix}")
        header = lf.collect_schema().names()
    except RefusedFile:
        raise
    except pl.exceptions.ComputeError as exc:
        rule = rules.UNDECODABLE if "utf-8" in str(exc).lower() else rules.UNREADABLE
        raise RefusedFile(rule, f"{path.name} could not be read: {exc}") from exc
    except (
        Exception
    ) as exc:  # corrupt Parquet/Excel raise many types; all mean the same to a sender
        raise RefusedFile(rules.UNREADABLE, f"{path.name} could not be read: {exc}") from exc
    names = [normalise_column(c) for c in header]
    lf = lf.rename(dict(zip(header, names, strict=True))).with_row_index(LINE, offset=2)
    lf = lf.with_columns(pl.col(LINE).cast(pl.Int64))
    return CanonicalFile(path=path, columns=tuple(names), frame=lf, encoding=encoding)
