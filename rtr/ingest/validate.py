"""Validate one chunk of a contract table: parse types, check values, split accepted from quarantined."""

from dataclasses import dataclass

import polars as pl

from rtr.ingest import measurements, responses
from rtr.ingest.errors import adapter_rejects, empty_errors, errors_where
from rtr.ingest.parse import clean_text, looks_like_non_iso_date, parse
from rtr.ingest.source import IMPUTED, LINE
from schemas import rules
from schemas.columns import Column, Table


@dataclass(frozen=True)
class Checked:
    """A validated chunk: typed accepted rows and the quarantine records of the rest."""

    accepted: pl.DataFrame
    errors: pl.DataFrame
    rows_read: int


def validate_chunk(table: Table, raw: pl.DataFrame) -> Checked:
    """Parse and check every column of ``raw`` against ``table``; vectorised over the chunk."""
    raw = _with_missing_columns(table, raw)
    if table.name == "responses":
        raw = responses.normalise_criteria(raw)
    typed = raw.select(
        pl.col(LINE),
        *[parse(c.name, c.dtype, raw.schema[c.name]).alias(c.name) for c in table.columns],
        *([pl.col(IMPUTED)] if IMPUTED in raw.columns else []),
    )
    found = [adapter_rejects(raw)]
    found += [_column_errors(c, raw, typed) for c in table.columns]
    if table.one_of:
        found.append(_one_of_errors(table, raw))
    typed, vocab_errors = _domain_rules(table, typed)
    found.append(vocab_errors)
    errors = (
        pl.concat([e for e in found if e.height], how="vertical")
        if any(e.height for e in found)
        else empty_errors()
    )
    accepted = typed.join(errors.select(LINE).unique(), on=LINE, how="anti")
    return Checked(accepted=accepted, errors=errors, rows_read=raw.height)


def _with_missing_columns(table: Table, raw: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in table.column_names if c not in raw.columns]
    return raw.with_columns(pl.lit(None, pl.String).alias(c) for c in missing)


def _column_errors(col: Column, raw: pl.DataFrame, typed: pl.DataFrame) -> pl.DataFrame:
    given = clean_text(col.name).is_not_null()
    parsed = typed[col.name]
    frame = raw.with_columns(parsed.alias("_parsed"))
    found = []
    if col.required:
        found.append(
            errors_where(
                frame,
                ~given,
                column=col.name,
                rule=rules.MISSING_VALUE,
                reason=f"required column {col.name} is empty",
            )
        )
    bad = given & pl.col("_parsed").is_null()
    if col.dtype in ("date", "timestamp") and raw.schema[col.name] == pl.String:
        ambiguous = bad & looks_like_non_iso_date(col.name)
        found.append(
            errors_where(
                frame,
                ambiguous,
                column=col.name,
                rule=rules.AMBIGUOUS_DATE,
                reason=pl.format(
                    "{} is not an ISO 8601 date (YYYY-MM-DD); day and month order cannot be told",
                    pl.col(col.name),
                ),
            )
        )
        bad = bad & ~looks_like_non_iso_date(col.name)
    found.append(
        errors_where(
            frame,
            bad,
            column=col.name,
            rule=rules.INVALID_TYPE,
            reason=pl.format(
                "{} is not a valid {} for " + col.name, pl.col(col.name), pl.lit(col.dtype)
            ),
        )
    )
    if col.minimum is not None or col.maximum is not None:
        lo = col.minimum if col.minimum is not None else float("-inf")
        hi = col.maximum if col.maximum is not None else float("inf")
        outside = ~pl.col("_parsed").is_between(lo, hi)
        found.append(
            errors_where(
                frame,
                outside,
                column=col.name,
                rule=rules.OUT_OF_RANGE,
                reason=f"{col.name} must lie between {_num(lo)} and {_num(hi)}"
                + (f" {col.unit}" if col.unit else ""),
            )
        )
    if col.allowed is not None:
        canonical = _canonical_category(col)
        outside = pl.col("_parsed").is_not_null() & canonical.is_null()
        found.append(
            errors_where(
                frame,
                outside,
                column=col.name,
                rule=rules.INVALID_CATEGORY,
                reason=f"{col.name} must be one of: {', '.join(col.allowed)}",
            )
        )
    return pl.concat(found)


def _canonical_category(col: Column) -> pl.Expr:
    """The allowed value a cell matches case-insensitively (F for 'f'), else null."""
    assert col.allowed is not None
    lookup = {v.lower(): v for v in col.allowed}
    return pl.col("_parsed").str.to_lowercase().replace_strict(lookup, default=None)


def _one_of_errors(table: Table, raw: pl.DataFrame) -> pl.DataFrame:
    both_missing = pl.all_horizontal(clean_text(c).is_null() for c in table.one_of)
    return errors_where(
        raw,
        both_missing,
        column=table.one_of[0],
        rule=rules.MISSING_VALUE,
        reason=f"one of {' or '.join(table.one_of)} must be given",
    )


def _domain_rules(table: Table, typed: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Canonicalise categories, then apply the vocabulary (long tables) or response criteria."""
    typed = typed.with_columns(
        pl.col(c.name)
        .str.to_lowercase()
        .replace_strict({v.lower(): v for v in c.allowed}, default=pl.col(c.name))
        .alias(c.name)
        for c in table.columns
        if c.allowed is not None
    )
    if table.measurement is not None:
        return measurements.apply_vocabulary(table, typed)
    if table.name == "responses":
        return responses.map_responses(typed)
    return typed, empty_errors()


def _num(x: float) -> str:
    return f"{x:g}"
