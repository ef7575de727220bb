"""Shared helpers of the adapters: reject columns, line numbers, contract table names."""

from collections.abc import Iterable
from pathlib import Path

import polars as pl

from rtr.adapters.interface import DERIVED, LINE, META_COLUMNS, REJECT_COLUMNS, SourceTable
from schemas.tables import TABLES

__all__ = ["DERIVED", "META_COLUMNS"]


def no_reject() -> list[pl.Expr]:
    """Reject columns all null (a row that maps cleanly)."""
    return [pl.lit(None, pl.String).alias(c) for c in REJECT_COLUMNS]


def reject_when(
    rules: Iterable[tuple[pl.Expr, str, str | pl.Expr, str, pl.Expr]],
) -> list[pl.Expr]:
    """Reject columns from ordered (condition, rule, reason, column, value) checks; the first hit wins."""
    rules = list(rules)

    def chain(pick: int) -> pl.Expr:
        expr: pl.Expr = pl.lit(None, pl.String)
        for rule in reversed(rules):
            value = rule[pick]
            lit = value if isinstance(value, pl.Expr) else pl.lit(value, pl.String)
            expr = pl.when(rule[0]).then(lit.cast(pl.String)).otherwise(expr)
        return expr

    return [chain(i + 1).alias(c) for i, c in enumerate(REJECT_COLUMNS)]


def join_notes(*exprs: pl.Expr) -> pl.Expr:
    """Join the non-null imputation notes of a row with '; ' (null when there are none)."""
    joined = pl.concat_str(list(exprs), separator="; ", ignore_nulls=True)
    return pl.when(joined == "").then(None).otherwise(joined)


def finish(frame: pl.DataFrame, columns: Iterable[str]) -> pl.DataFrame:
    """The contract columns (null where the source has none) and the meta columns, in stable order.

    Absent columns are added empty so that a missing required value quarantines the row with
    its reason instead of refusing the whole file.
    """
    columns = list(columns)
    frame = frame.with_columns(
        pl.lit(None, pl.String).alias(c) for c in columns if c not in frame.columns
    )
    return frame.select(columns + [c for c in META_COLUMNS if c in frame.columns])


def blank_to_null(frame: pl.DataFrame) -> pl.DataFrame:
    """Empty or whitespace-only strings become null (SAS writes missing character values as blanks)."""
    return frame.with_columns(
        pl.when(pl.col(pl.String).str.strip_chars() == "")
        .then(None)
        .otherwise(pl.col(pl.String).str.strip_chars())
        .name.keep()
    )


def ensure(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """``frame`` with the named SDTM variables present (null text where the sender left them out)."""
    return frame.with_columns(
        pl.lit(None, pl.String).alias(c) for c in columns if c not in frame.columns
    )


def mapped_and_consumed(
    table: str,
    mapped: pl.DataFrame,
    consumed: pl.DataFrame,
    *,
    source: Path,
    encoding: str | None,
    notes: tuple[str, ...],
) -> list[SourceTable]:
    """A dataset's rows for ``table`` (contract columns) and its records consumed by them.

    Every source record is in exactly one of the two frames, so lines read add up.
    """
    return [
        SourceTable(table, finish(mapped, TABLES[table].column_names), source, encoding, notes),
        SourceTable(None, consumed.select(LINE, *REJECT_COLUMNS), source, encoding, notes),
    ]
