"""A table read from one delivered file, in contract column names, before validation."""

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

LINE = "_line"
"""Locator of a row in its source: 1-based line with the header as line 1 (records: index + 2)."""

REJECT_RULE = "_reject_rule"
REJECT_REASON = "_reject_reason"
REJECT_COLUMN = "_reject_column"
REJECT_VALUE = "_reject_value"
"""Optional columns an adapter sets on rows it could not map; ingestion quarantines those rows."""

DERIVED = "_derived"
"""Optional boolean column marking rows an adapter derived (e.g. a best overall response the
sender did not give); they are written but not counted as lines read."""

IMPUTED = "_imputed"
"""Optional column naming values an adapter imputed (e.g. 'onset_date: day imputed as 01')."""


@dataclass(frozen=True)
class SourceTable:
    """Rows of one contract table as read from one file, not yet validated.

    ``frame`` uses contract column names. Values may be strings (validation parses them)
    or already typed (Parquet). It always carries ``_line``. ``table`` is ``None`` for a
    file whose rows were merged into another table (an SDTM SUPPQUAL file): its rows are
    counted and may be rejected, but nothing is written for it.
    """

    table: str | None
    frame: pl.DataFrame
    source_file: Path
    encoding: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


class RefusedFile(Exception):
    """A whole file cannot be loaded; ``rule`` names the contract rule it breaks."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(f"{rule}: {reason}")
        self.rule = rule
        self.reason = reason
