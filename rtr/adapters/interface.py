"""The adapters' interface: what a format's reader returns and raises, and how a format is registered.

Every reader (SDTM, FHIR, profiles...) returns :class:`SourceTable` frames in contract column names
with the meta columns below, or raises :class:`RefusedFile`; ``rtr.ingest`` validates, quarantines
and merges them. A format is a :class:`Format` (name, detector, reader) listed once in
``rtr.adapters.registry``. Nothing here imports the rest of rtr: ingest and the adapters both
depend on this module, never on each other's internals.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

__all__ = [
    "DERIVED",
    "IMPUTED",
    "LINE",
    "META_COLUMNS",
    "REJECT_COLUMN",
    "REJECT_COLUMNS",
    "REJECT_REASON",
    "REJECT_RULE",
    "REJECT_VALUE",
    "Format",
    "ReadContext",
    "RefusedFile",
    "Sniff",
    "SourceTable",
]

LINE = "_line"
"""Locator of a row in its source: 1-based line with the header as line 1 (records: index + 2)."""

REJECT_RULE = "_reject_rule"
REJECT_REASON = "_reject_reason"
REJECT_COLUMN = "_reject_column"
REJECT_VALUE = "_reject_value"
"""Optional columns an adapter sets on rows it could not map; ingestion quarantines those rows."""

DERIVED = "_derived"
"""Optional bool column: the row was computed from other rows of the file (an SDTM best overall
response derived with the criteria's confirmation rules) and is not itself a source row.
Ingestion must not count it in ``rows_read``; its ``_line`` names the source row it came from."""

IMPUTED = "_imputed"
"""Optional column naming values an adapter imputed (e.g. 'onset_date: day imputed as 01')."""

REJECT_COLUMNS = (REJECT_RULE, REJECT_REASON, REJECT_COLUMN, REJECT_VALUE)
META_COLUMNS = (LINE, *REJECT_COLUMNS, IMPUTED, DERIVED)
"""Every meta column an adapter may set, in the order frames carry them."""


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


SNIFF_BYTES = 65_536
"""Detectors see a file's name and its first 64 KiB, never more: detection stays cheap."""


@dataclass(frozen=True)
class Sniff:
    """What a detector may look at: the file's path and its first :data:`SNIFF_BYTES` bytes."""

    path: Path
    head: bytes

    @classmethod
    def of(cls, path: Path) -> "Sniff":
        try:
            with path.open("rb") as fh:
                return cls(path, fh.read(SNIFF_BYTES))
        except OSError:
            return cls(path, b"")

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()

    @property
    def stem(self) -> str:
        return self.path.stem.lower()

    @property
    def name(self) -> str:
        return self.path.name.lower()

    @cached_property
    def text(self) -> str:
        """The head as text (undecodable bytes replaced), without a BOM or leading blanks."""
        return self.head.decode("utf-8", errors="replace").lstrip("\ufeff \r\n\t")

    @cached_property
    def first_line(self) -> str:
        return self.text.split("\n", 1)[0]


@dataclass(frozen=True)
class ReadContext:
    """What a reader gets besides its file: the format detected, the delivery's other files, a profile.

    ``siblings`` give context (an SDTM SUPPDM's parent DM, FHIR resources in other files of a
    bulk export), never rows of their own.
    """

    fmt: str
    siblings: tuple[Path, ...] = ()
    profile: Any = None


Reader = Callable[[Path, ReadContext], list[SourceTable]]


@dataclass(frozen=True)
class Format:
    """One format rtr recognises: its name (recorded in ``audit.loads.format``), detector and reader.

    ``reader`` is None for files ingestion reads itself (canonical tables) or cannot load
    (a manifest, metadata, an unknown file). ``kind`` says in words what such a file is, for
    messages to the sender; ``family`` groups formats whose files give each other context.
    """

    name: str
    family: str
    kind: str
    detect: Callable[[Sniff], bool]
    reader: Reader | None = None
