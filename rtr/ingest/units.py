"""Turn one delivered file into the table units that validation consumes."""

import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from rtr.adapters.interface import LINE, RefusedFile, SourceTable
from rtr.ingest import sandbox
from rtr.ingest.limits import Limits, limits_from_env
from rtr.ingest.readers import (
    CANONICAL_SUFFIXES,
    check_unique,
    normalise_column,
    open_canonical,
)
from schemas import TABLES, rules
from schemas.columns import Table
from schemas.privacy import identifier_kind


@dataclass
class Unit:
    """Rows bound for one contract table (or, with ``table`` None, merged elsewhere)."""

    table: Table | None
    columns: tuple[str, ...]
    chunks: Iterator[pl.DataFrame]
    encoding: str | None
    notes: list[str] = field(default_factory=list)


@dataclass
class FileUnits:
    fmt: str
    units: list[Unit]
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """What the sender should fix although the file loaded (a misspelt contract column)."""


def is_canonical(path: Path) -> bool:
    return path.stem.lower() in TABLES and path.suffix.lower() in CANONICAL_SUFFIXES


def file_units(
    path: Path,
    *,
    siblings: Sequence[Path],
    profile: Any = None,
    limits: Limits | None = None,
    strict: bool = False,
) -> FileUnits:
    """Open ``path`` as canonical, through a source profile, or through a standard adapter.

    Canonical CSV and Parquet stream in this process; every other reader runs in the
    sandbox under ``limits`` (:mod:`rtr.ingest.sandbox`). ``strict`` refuses a canonical file
    with a column spelled close to a contract column it lacks (``relase_date``) instead of
    loading it without that column.
    """
    limits = limits or limits_from_env()
    if is_canonical(path) and not (profile is not None and profile.matches(path)):
        f = open_canonical(path, limits)
        table = TABLES[path.stem.lower()]
        check_columns(path, table, f.columns)
        unknown = [c for c in f.columns if c not in table.column_names]
        notes = [f"ignored columns not in the contract: {', '.join(unknown)}"] if unknown else []
        warnings = [
            f"column '{sent}' is not in the contract, likely '{meant}': its values were not "
            f"loaded; rename it to {meant} and re-send"
            for sent, meant in misspelt_columns(unknown, table, f.columns).items()
        ]
        if warnings and strict:
            raise RefusedFile(rules.MISSPELT_COLUMN, f"{path.name}: " + "; ".join(warnings))
        chunks = (c.drop([u for u in unknown if u in c.columns]) for c in f.chunks())
        unit = Unit(table, f.columns, chunks, f.encoding, notes + warnings)
        return FileUnits("canonical", [unit], warnings=warnings)
    fmt, tables = sandbox.read_standard(path, siblings=siblings, profile=profile, limits=limits)
    return FileUnits(fmt, _units(path, tables))


def _units(path: Path, tables: list[SourceTable]) -> list[Unit]:
    return [_unit_from_source(path, t) for t in tables]


def _unit_from_source(path: Path, source: SourceTable) -> Unit:
    table = TABLES[source.table] if source.table is not None else None
    check_unique(path, [c for c in source.frame.columns if not c.startswith("_")])
    frame = source.frame.rename(
        {c: normalise_column(c) for c in source.frame.columns if not c.startswith("_")}
    )
    columns = tuple(frame.columns)
    if table is not None:
        check_columns(path, table, tuple(c for c in columns if not c.startswith("_")))
    if LINE not in frame.columns:
        frame = frame.with_row_index(LINE, offset=2)
    frame = frame.with_columns(pl.col(LINE).cast(pl.Int64))
    return Unit(table, columns, iter([frame]), source.encoding, list(source.notes))


def check_columns(path: Path, table: Table, columns: Sequence[str]) -> None:
    """Refuse a file that carries a direct identifier or lacks a required column."""
    for c in columns:
        what = identifier_kind(c)
        if what is not None:
            raise RefusedFile(
                rules.DIRECT_IDENTIFIER,
                f"{path.name}: column '{c}' looks like {what}; pseudonymise before sending "
                "(no value of this file was stored)",
            )
    missing = [c for c in table.required if c not in columns]
    one_of_missing = bool(table.one_of) and not any(c in columns for c in table.one_of)
    if missing or one_of_missing:
        need = missing + ([" or ".join(table.one_of)] if one_of_missing else [])
        raise RefusedFile(
            rules.MISSING_REQUIRED_COLUMN,
            f"{path.name}: required column(s) {', '.join(need)} missing for table {table.name}",
        )


def misspelt_columns(
    unknown: Sequence[str], table: Table, present: Sequence[str]
) -> dict[str, str]:
    """{sent column: the contract column of ``table`` it is most likely meant to be}.

    Only contract columns the file lacks are candidates, and only close spellings (a typo, a
    dropped letter): ``relase_date`` -> ``release_date``, never ``comment`` -> ``coi_id``.
    """
    absent = [c for c in table.column_names if c not in present]
    out = {}
    for sent in unknown:
        close = difflib.get_close_matches(sent, absent, n=1, cutoff=0.85)
        if close:
            out[sent] = close[0]
    return out
