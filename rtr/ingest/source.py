"""The adapters' interface under its older ingest name; it lives in :mod:`rtr.adapters.interface`."""

from rtr.adapters.interface import (
    DERIVED,
    IMPUTED,
    LINE,
    REJECT_COLUMN,
    REJECT_REASON,
    REJECT_RULE,
    REJECT_VALUE,
    RefusedFile,
    SourceTable,
)

__all__ = [
    "DERIVED",
    "IMPUTED",
    "LINE",
    "REJECT_COLUMN",
    "REJECT_REASON",
    "REJECT_RULE",
    "REJECT_VALUE",
    "RefusedFile",
    "SourceTable",
]
