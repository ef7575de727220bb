"""Apply the vocabulary to a long table: convert units, check plausible ranges and text values."""

import polars as pl

from rtr.ingest.errors import empty_errors, errors_where
from rtr.ingest.source import LINE
from schemas import rules
from schemas.columns import Table
from schemas.vocabulary import VOCABULARY, canonical_unit_key, conversion_table


def _vocabulary_frames(domain: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    codes = pl.DataFrame(
        [
            {
                "_code": c.code,
                "_canonical_unit": c.unit,
                "_min": c.minimum,
                "_max": c.maximum,
                "_allowed": list(c.allowed_text) if c.allowed_text else None,
                "_is_text": c.is_text,
            }
            for c in VOCABULARY[domain].values()  # type: ignore[index]
        ],
        schema={
            "_code": pl.String,
            "_canonical_unit": pl.String,
            "_min": pl.Float64,
            "_max": pl.Float64,
            "_allowed": pl.List(pl.String),
            "_is_text": pl.Boolean,
        },
    )
    conv = pl.DataFrame(
        conversion_table(domain),  # type: ignore[arg-type]
        schema={
            "code": pl.String,
            "unit_key": pl.String,
            "factor": pl.Float64,
            "offset": pl.Float64,
        },
    ).rename({"code": "_code", "unit_key": "_unit_key", "factor": "_factor", "offset": "_offset"})
    return codes, conv


def _unit_key_expr(unit: pl.Expr) -> pl.Expr:
    """Vectorised twin of schemas.vocabulary.canonical_unit_key over the distinct units."""
    return unit.map_elements(canonical_unit_key, return_dtype=pl.String, skip_nulls=True)


def apply_vocabulary(table: Table, typed: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Known codes: convert to the canonical unit, check range / allowed text. Unknown codes pass."""
    m = table.measurement
    assert m is not None
    codes, conv = _vocabulary_frames(m.domain)
    # Unit spellings are few; normalise the distinct ones, not every row.
    units = typed.select(pl.col(m.unit).unique()).with_columns(
        _unit_key_expr(pl.col(m.unit)).alias("_unit_key")
    )
    df = (
        typed.join(units, on=m.unit, how="left", nulls_equal=True)
        .join(codes, left_on=m.code, right_on="_code", how="left")
        .join(conv, left_on=[m.code, "_unit_key"], right_on=["_code", "_unit_key"], how="left")
    )
    known_numeric = pl.col("_canonical_unit").is_not_null()
    # Contract codes name their unit (viability_pct, culture_duration_days): a value sent
    # without a unit is read in the code's canonical unit, and the range check still guards it.
    df = df.with_columns(
        (
            known_numeric
            & pl.col(m.value).is_not_null()
            & pl.col(m.unit).is_not_null()
            & pl.col("_factor").is_null()
        ).alias("_unit_unknown"),
        (known_numeric & pl.col("_factor").is_not_null()).alias("_convertible"),
        (known_numeric & pl.col(m.unit).is_null()).alias("_unit_implied"),
    )
    unit_unknown = pl.col("_unit_unknown")
    convertible = pl.col("_convertible")
    # Specification limits travel in the result's unit: they convert with it.
    limits = [c for c in ("spec_lower", "spec_upper", m.value) if c in typed.columns]
    df = df.with_columns(
        pl.when(convertible)
        .then(pl.col(c) * pl.col("_factor") + pl.col("_offset"))
        .otherwise(pl.col(c))
        .alias(c)
        for c in limits
    ).with_columns(
        pl.when(convertible | pl.col("_unit_implied"))
        .then(pl.col("_canonical_unit"))
        .otherwise(pl.col(m.unit))
        .alias(m.unit),
    )
    found = [
        errors_where(
            df,
            unit_unknown,
            column=m.unit,
            rule=rules.UNKNOWN_UNIT,
            reason=pl.format(
                "unit '{}' cannot be converted to {} for {}",
                pl.col(m.unit),
                pl.col("_canonical_unit"),
                pl.col(m.code),
            ),
        ),
        errors_where(
            df,
            known_numeric
            & ~unit_unknown
            & ~pl.col(m.value).is_between(pl.col("_min"), pl.col("_max")),
            column=m.value,
            rule=rules.OUT_OF_RANGE,
            reason=pl.format(
                "{} = {} {} is outside the plausible range {}-{} {}",
                pl.col(m.code),
                pl.col(m.value),
                pl.col(m.unit),
                pl.col("_min"),
                pl.col("_max"),
                pl.col("_canonical_unit"),
            ),
        ),
    ]
    if m.text_value is not None:
        text = pl.col(m.text_value).str.to_lowercase()
        bad_text = (
            pl.col("_is_text").fill_null(False)
            & pl.col(m.text_value).is_not_null()
            & ~(text.is_in(pl.col("_allowed")).fill_null(False))
        )
        found.append(
            errors_where(
                df,
                bad_text,
                column=m.text_value,
                rule=rules.INVALID_CATEGORY,
                reason=pl.format(
                    "{} must be one of: {}", pl.col(m.code), pl.col("_allowed").list.join(", ")
                ),
            )
        )
        df = df.with_columns(
            pl.when(pl.col("_is_text").fill_null(False))
            .then(text)
            .otherwise(pl.col(m.text_value))
            .alias(m.text_value)
        )
        text_code_given_number = (
            pl.col("_is_text").fill_null(False) & pl.col(m.value).is_not_null() & pl.col(m.text_value).is_null()
        )
        found.append(
            errors_where(
                df,
                text_code_given_number,
                column=m.value,
                rule=rules.INVALID_TYPE,
                reason=pl.format(
                    "{} is a text result ({}); send it in {}",
                    pl.col(m.code),
                    pl.col("_allowed").list.join(", "),
                    pl.lit(m.text_value),
                ),
            )
        )
    errors = (
        pl.concat([e for e in found if e.height])
        if any(e.height for e in found)
        else empty_errors()
    )
    return df.select(typed.columns), errors.sort(LINE)
