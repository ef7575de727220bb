"""Partial ISO 8601 dates (SDTM --DTC, FHIR dateTime) made explicit: imputed by one rule, flagged.

Imputation rule (documented, never silent): a missing day becomes the 1st of the month, a
missing month and day become 1 January. Taking the earliest possible date is the conservative
choice for survival analysis of events (an earlier progression or death never flatters the
product) and matches the default of pharmaverse admiral's ``derive_vars_dt`` for start dates.
Every imputed value is named in the row's ``_imputed`` column with what was sent.
A value that is not ISO 8601 at all (``2014---15``, ``03/14/2014``) is not guessed: the row is
quarantined as ``ambiguous_date``.
"""

from dataclasses import dataclass

import polars as pl

_FULL = r"^\d{4}-\d{2}-\d{2}(T.*)?$"
_MONTH = r"^\d{4}-\d{2}$"
_YEAR = r"^\d{4}$"


@dataclass(frozen=True)
class DateParts:
    """Expressions for one date column: the ISO date, its imputation note and whether it is unusable."""

    value: pl.Expr
    note: pl.Expr
    bad: pl.Expr


def iso_date(column: str, *, target: str) -> DateParts:
    """Date part of an ISO 8601 (possibly partial) string column, with the imputation rule applied."""
    raw = pl.col(column).cast(pl.String).str.strip_chars()
    full = raw.str.contains(_FULL)
    month = raw.str.contains(_MONTH)
    year = raw.str.contains(_YEAR)
    value = (
        pl.when(full)
        .then(raw.str.slice(0, 10))
        .when(month)
        .then(raw + "-01")
        .when(year)
        .then(raw + "-01-01")
        .otherwise(None)
    )
    note = (
        pl.when(month)
        .then(pl.lit(f"{target}: day imputed as 01 (sent ") + raw + ")")
        .when(year)
        .then(pl.lit(f"{target}: month and day imputed as 01-01 (sent ") + raw + ")")
        .otherwise(None)
    )
    bad = raw.is_not_null() & ~(full | month | year)
    return DateParts(value, note, bad)


def iso_timestamp(column: str) -> pl.Expr:
    """A full ISO 8601 date-time string kept as sent (validation parses it); date-only stays a date."""
    return pl.col(column).cast(pl.String).str.strip_chars()
