"""Validate one chunk of a contract table: parse types, check values, split accepted from quarantined."""

from dataclasses import dataclass

import polars as pl

from rtr.adapters.interface import IMPUTED, LINE, REJECT_RULE
from rtr.ingest import measurements, responses
from rtr.ingest.checks import RAW, Check, raw
from rtr.ingest.errors import ERROR_SCHEMA, adapter_rejects, empty_errors
from rtr.ingest.parse import looks_like_non_iso_date, parse
from rtr.ingest.shown import CONTROL_IN_VALUES
from schemas import TABLES, rules
from schemas.columns import Column, Table


@dataclass(frozen=True)
class Checked:
    """A validated chunk: typed accepted rows and the quarantine records of the rest."""

    accepted: pl.DataFrame
    errors: pl.DataFrame
    rows_read: int


def validate_chunk(table: Table, delivered: pl.DataFrame) -> Checked:
    """Parse and check every column against ``table`` in one vectorised pass over the chunk.

    Every mask is evaluated together; quarantine records (with the delivered text) are only
    built for the (usually few) rows that fail, so a clean 10^6-row chunk costs one scan.
    """
    # Rows are told apart by position, not by line: a wide row melted into several measurements
    # shares its line, and one bad cell must not take its neighbours' measurements with it.
    delivered = _with_missing_columns(table, delivered).with_row_index(ROW)
    if table.name == "responses":
        delivered = responses.normalise_criteria(delivered)
    schema = delivered.schema
    frame = delivered.select(
        pl.col(ROW),
        pl.col(LINE),
        *[parse(c.name, c.dtype, schema[c.name]).alias(c.name) for c in table.columns],
        *[
            _given(c, schema[c.name]).alias(GIVEN + c.name)
            for c in table.columns
            if c.dtype != "str"
        ],
        *[
            pl.col(c.name).str.contains_any(CONTROL_IN_VALUES).alias(CONTROL + c.name)
            for c in table.columns
            if c.dtype == "str" and schema[c.name] == pl.String
        ],
        *[
            looks_like_non_iso_date(c.name).alias(NON_ISO + c.name)
            for c in table.columns
            if c.dtype in ("date", "timestamp") and schema[c.name] == pl.String
        ],
        *(
            [pl.col(IMPUTED)]
            if IMPUTED in delivered.columns
            else [pl.lit(None, pl.String).alias(IMPUTED)]
        ),
    )
    checks = [check for c in table.columns for check in column_checks(c, schema[c.name])]
    if table.one_of:
        checks.append(
            Check(
                ~pl.any_horizontal(_is_given(c) for c in table.one_of),
                table.one_of[0],
                rules.MISSING_VALUE,
                f"one of {' or '.join(table.one_of)} must be given",
            )
        )
    frame, domain_checks = _domain_rules(table, frame)
    checks += domain_checks
    masks = frame.select(
        pl.col(ROW), *[c.mask.fill_null(False).alias(f"_m{i}") for i, c in enumerate(checks)]
    )
    failing = masks.filter(pl.any_horizontal(pl.exclude(ROW))) if checks else masks.clear()
    rejected = adapter_rejects(delivered)
    errors = [rejected] if rejected.height else []
    bad_rows = failing.select(ROW)
    if rejected.height:
        mapped_not = delivered.filter(pl.col(REJECT_RULE).is_not_null()).select(ROW)
        bad_rows = pl.concat([bad_rows, mapped_not])
        # A row the adapter could not map carries its real cause already; the blanks it left
        # behind would add records (a "missing" response) that only hide that cause.
        failing = failing.join(mapped_not, on=ROW, how="anti")
    if failing.height:
        sent = delivered.select(
            pl.col(ROW), *[pl.col(c).alias(RAW + c) for c in table.column_names]
        )
        subset = frame.join(failing, on=ROW).join(sent, on=ROW)
        errors += [_records(subset, c, f"_m{i}") for i, c in enumerate(checks)]
    error_frame = pl.concat(errors) if errors else empty_errors()
    accepted = frame.join(bad_rows, on=ROW, how="anti").select(
        pl.col(LINE), *table.column_names, IMPUTED
    )
    return Checked(accepted=accepted, errors=error_frame, rows_read=delivered.height)


ROW = "__row"


GIVEN = "__given__"
NON_ISO = "__non_iso__"
CONTROL = "__control__"
"""Text columns only: in a typed column a control character already fails the parse."""


def _given(col: Column, source: pl.DataType) -> pl.Expr:
    """The sender filled the cell in (text: not blank; typed Parquet/Excel: not null)."""
    if source != pl.String:
        return pl.col(col.name).is_not_null()
    text = pl.col(col.name).str.strip_chars()
    return text.is_not_null() & (text != "")


def _is_given(column: str) -> pl.Expr:
    # Text columns are parsed by trimming: a parsed null is an empty cell.
    return pl.col(column).is_not_null() if column in _TEXT_COLUMNS else pl.col(GIVEN + column)


_TEXT_COLUMNS = {c.name for t in TABLES.values() for c in t.columns if c.dtype == "str"}


def column_checks(col: Column, source: pl.DataType) -> list[Check]:
    """Required, type, date layout, range and category checks of one column."""
    given = pl.col(col.name).is_not_null() if col.dtype == "str" else pl.col(GIVEN + col.name)
    parsed = pl.col(col.name)
    value = raw(col.name).cast(pl.String)
    checks = []
    if col.dtype == "str" and source == pl.String:
        checks.append(
            Check(
                pl.col(CONTROL + col.name),
                col.name,
                rules.CONTROL_CHARACTER,
                f"{col.name} holds a control or text-direction character (shown escaped); "
                "such a value displays as something else than it is",
            )
        )
    if col.required:
        checks.append(
            Check(~given, col.name, rules.MISSING_VALUE, f"required column {col.name} is empty")
        )
    unparsed = given & parsed.is_null()
    if col.dtype in ("date", "timestamp") and source == pl.String:
        non_iso = pl.col(NON_ISO + col.name)
        checks.append(
            Check(
                unparsed & non_iso,
                col.name,
                rules.AMBIGUOUS_DATE,
                pl.format(
                    "{} is not an ISO 8601 date (YYYY-MM-DD); day and month order cannot be told",
                    value,
                ),
            )
        )
        unparsed = unparsed & ~non_iso
    if col.dtype != "str":
        reason = pl.format("{} is not a valid {} for " + col.name, value, pl.lit(col.dtype))
        if col.dtype in ("date", "timestamp"):
            # 9999-12-31 for "ongoing", 1900-01-01 for "unknown": a real date in the wrong place.
            placeholder = value.str.contains(r"^\s*(\d{4})-\d{2}-\d{2}") & ~value.str.contains(
                r"^\s*(19|20|21)\d{2}-"
            )
            reason = (
                pl.when(placeholder)
                .then(
                    pl.format(
                        "{} for " + col.name + " is outside 1900-2199, a placeholder rather than "
                        "a date: leave the cell empty when the date is not known",
                        value,
                    )
                )
                .otherwise(reason)
            )
        checks.append(Check(unparsed, col.name, rules.INVALID_TYPE, reason))
    if col.minimum is not None or col.maximum is not None:
        lo = col.minimum if col.minimum is not None else float("-inf")
        hi = col.maximum if col.maximum is not None else float("inf")
        unit = f" {col.unit}" if col.unit else ""
        checks.append(
            Check(
                ~parsed.is_between(lo, hi),
                col.name,
                rules.OUT_OF_RANGE,
                f"{col.name} must lie between {lo:g} and {hi:g}{unit}",
            )
        )
    if col.allowed is not None:
        lookup = {v.lower(): v for v in col.allowed}
        unknown = (
            parsed.is_not_null()
            & parsed.str.to_lowercase().replace_strict(lookup, default=None).is_null()
        )
        checks.append(
            Check(
                unknown,
                col.name,
                rules.INVALID_CATEGORY,
                f"{col.name} must be one of: {', '.join(col.allowed)}",
            )
        )
    return checks


def _records(subset: pl.DataFrame, check: Check, mask: str) -> pl.DataFrame:
    value = (
        check.value
        if check.value is not None
        else (raw(check.column) if RAW + check.column in subset.columns else pl.col(check.column))
    )
    reason = pl.lit(check.reason) if isinstance(check.reason, str) else check.reason
    return (
        subset.filter(pl.col(mask))
        .select(
            pl.col(LINE).cast(pl.Int64),
            pl.lit(check.column).alias("column"),
            value.cast(pl.String).alias("value"),
            pl.lit(check.rule).alias("rule"),
            reason.cast(pl.String).alias("reason"),
        )
        .cast(ERROR_SCHEMA)
    )  # type: ignore[arg-type]


def _with_missing_columns(table: Table, delivered: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in table.column_names if c not in delivered.columns]
    return delivered.with_columns(pl.lit(None, pl.String).alias(c) for c in missing)


def _domain_rules(table: Table, frame: pl.DataFrame) -> tuple[pl.DataFrame, list[Check]]:
    """Canonicalise categories, then apply the vocabulary (long tables) or response criteria."""
    frame = frame.with_columns(
        pl.col(c.name)
        .str.to_lowercase()
        .replace_strict({v.lower(): v for v in c.allowed}, default=pl.col(c.name))
        .alias(c.name)
        for c in table.columns
        if c.allowed is not None
    )
    if table.measurement is not None:
        return measurements.apply_vocabulary(table, frame)
    if table.name == "responses":
        return responses.map_responses(frame)
    return frame, []
