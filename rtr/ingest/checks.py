"""A row check as data: a boolean mask over the working frame, and how to word its failure."""

from dataclasses import dataclass

import polars as pl

RAW = "__raw__"
"""Prefix of the delivered (unparsed) copy of each column in the working frame."""


def raw(column: str) -> pl.Expr:
    return pl.col(RAW + column)


@dataclass(frozen=True)
class Check:
    """Rows where ``mask`` holds break ``rule`` in ``column``; ``reason`` words it for the sender."""

    mask: pl.Expr
    column: str
    rule: str
    reason: pl.Expr | str
    value: pl.Expr | None = None
