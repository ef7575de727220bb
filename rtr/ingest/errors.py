"""The quarantine record: one row per broken rule per delivered row."""

import polars as pl

from rtr.adapters.interface import LINE, REJECT_COLUMN, REJECT_REASON, REJECT_RULE, REJECT_VALUE

ERROR_SCHEMA = {
    LINE: pl.Int64,
    "column": pl.String,
    "value": pl.String,
    "rule": pl.String,
    "reason": pl.String,
}


def errors_where(
    frame: pl.DataFrame, mask: pl.Expr, *, column: str, rule: str, reason: pl.Expr | str
) -> pl.DataFrame:
    """Quarantine records for the rows of ``frame`` where ``mask`` holds."""
    value = pl.col(column).cast(pl.String) if column in frame.columns else pl.lit(None, pl.String)
    reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
    return frame.filter(mask.fill_null(False)).select(
        pl.col(LINE).cast(pl.Int64),
        pl.lit(column).alias("column"),
        value.alias("value"),
        pl.lit(rule).alias("rule"),
        reason_expr.cast(pl.String).alias("reason"),
    )


def empty_errors() -> pl.DataFrame:
    return pl.DataFrame(schema=ERROR_SCHEMA)


def adapter_rejects(raw: pl.DataFrame) -> pl.DataFrame:
    """Quarantine records for rows an adapter could not map (``_reject_*`` columns)."""
    if REJECT_RULE not in raw.columns:
        return empty_errors()
    return raw.filter(pl.col(REJECT_RULE).is_not_null()).select(
        pl.col(LINE).cast(pl.Int64),
        pl.col(REJECT_COLUMN).cast(pl.String).alias("column")
        if REJECT_COLUMN in raw.columns
        else pl.lit(None, pl.String).alias("column"),
        pl.col(REJECT_VALUE).cast(pl.String).alias("value")
        if REJECT_VALUE in raw.columns
        else pl.lit(None, pl.String).alias("value"),
        pl.col(REJECT_RULE).cast(pl.String).alias("rule"),
        pl.col(REJECT_REASON).cast(pl.String).alias("reason")
        if REJECT_REASON in raw.columns
        else pl.col(REJECT_RULE).cast(pl.String).alias("reason"),
    )
