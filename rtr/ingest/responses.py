"""Map response categories onto CR/PR/SD/PD/NE under their criteria; refuse foreign categories."""

import polars as pl

from rtr.ingest.errors import empty_errors, errors_where
from schemas import rules
from schemas.responses import CRITERIA_SYNONYMS, RESPONSE_MAP, mapping_rows


def normalise_criteria(raw: pl.DataFrame) -> pl.DataFrame:
    """Spellings such as 'Lugano 2014' or 'RECIST 1.1' become the contract's codes."""
    if "criteria" not in raw.columns or raw.schema["criteria"] != pl.String:
        return raw
    key = pl.col("criteria").str.strip_chars().str.to_uppercase()
    return raw.with_columns(
        key.replace_strict(CRITERIA_SYNONYMS, default=pl.col("criteria")).alias("criteria")
    )


def map_responses(typed: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    mapping = pl.DataFrame(mapping_rows()).rename({"response": "_mapped"})
    df = typed.with_columns(pl.col("response").str.to_uppercase().alias("_category")).join(
        mapping, left_on=["criteria", "_category"], right_on=["criteria", "category"], how="left"
    )
    invalid = (
        pl.col("response").is_not_null()
        & pl.col("criteria").is_in(list(RESPONSE_MAP))
        & pl.col("_mapped").is_null()
    )
    allowed = {c: ", ".join(sorted(v)) for c, v in RESPONSE_MAP.items()}
    errors = errors_where(
        df,
        invalid,
        column="response",
        rule=rules.INVALID_CATEGORY,
        reason=pl.format(
            "response '{}' is not a category of {} (allowed: {})",
            pl.col("response"),
            pl.col("criteria"),
            pl.col("criteria").replace_strict(allowed, default=""),
        ),
    )
    df = df.with_columns(pl.coalesce("_mapped", "response").alias("response"))
    return df.select(typed.columns), errors if errors.height else empty_errors()
