"""Map response categories onto CR/PR/SD/PD/NE under their criteria; refuse foreign categories."""

import polars as pl

from rtr.adapters.response_terms import foreign_category_reason
from rtr.ingest.checks import Check
from schemas import rules
from schemas.responses import CRITERIA_SYNONYMS, RESPONSE_MAP, mapping_rows


def normalise_criteria(delivered: pl.DataFrame) -> pl.DataFrame:
    """Spellings such as 'Lugano 2014' or 'RECIST 1.1' become the contract's codes."""
    if "criteria" not in delivered.columns or delivered.schema["criteria"] != pl.String:
        return delivered
    key = pl.col("criteria").str.strip_chars().str.to_uppercase()
    return delivered.with_columns(
        key.replace_strict(CRITERIA_SYNONYMS, default=pl.col("criteria")).alias("criteria")
    )


def map_responses(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[Check]]:
    mapping = pl.DataFrame(mapping_rows()).rename({"response": "_mapped", "category": "_category"})
    frame = frame.with_columns(pl.col("response").str.to_uppercase().alias("_category")).join(
        mapping, on=["criteria", "_category"], how="left"
    )
    invalid = (
        pl.col("response").is_not_null()
        & pl.col("criteria").is_in(list(RESPONSE_MAP))
        & pl.col("_mapped").is_null()
    )
    allowed = {c: ", ".join(sorted(v)) for c, v in RESPONSE_MAP.items()}
    check = Check(
        invalid,
        "response",
        rules.INVALID_CATEGORY,
        pl.format(
            "response '{}' is not a category of {} (allowed: {}){}",
            pl.col("response"),
            pl.col("criteria"),
            pl.col("criteria").replace_strict(allowed, default=""),
            foreign_category_reason(pl.col("_category")),
        ),
    )
    # The mapped value is kept apart until checks ran, so that a rejected row shows what was sent.
    frame = frame.with_columns(
        pl.when(invalid)
        .then(pl.col("response"))
        .otherwise(pl.coalesce("_mapped", "response"))
        .alias("response")
    )
    return frame, [check]
