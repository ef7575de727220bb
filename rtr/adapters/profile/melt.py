"""Wide sender columns (one per measurement) melted into the contract's long measurement rows."""

import polars as pl

from rtr.adapters.common import reject_when
from rtr.adapters.interface import IMPUTED, LINE, REJECT_COLUMNS, REJECT_RULE
from rtr.adapters.profile.spec import Profile
from schemas.rules import INVALID_CATEGORY


def melt_measures(frame: pl.DataFrame, profile: Profile) -> pl.DataFrame:
    """One row per source row and measure with a value; empty cells are not measurements.

    A reject the row already carries (an id or time column it could not map) stays on each of
    its measurements; ingestion records it once per cell (identical records are one).
    """
    ids = [c for c in profile.columns if c in frame.columns]
    carried = [c for c in (IMPUTED,) if c in frame.columns]
    row_rejects = [pl.col(c).alias(f"_row{c}") for c in REJECT_COLUMNS if c in frame.columns]
    parts = []
    for m in profile.measures:
        raw = pl.col(m.column).cast(pl.String).str.strip_chars()
        if profile.decimal != "." and not m.text:
            raw = raw.str.replace_all(profile.decimal, ".", literal=True)
        mapped = raw.replace(m.values) if m.values else raw
        unmapped = raw.is_not_null() & ~raw.is_in(list(m.values)) if m.values else pl.lit(False)
        part = frame.filter(
            pl.col(m.column).is_not_null() & (pl.col(m.column).str.strip_chars() != "")
        ).select(
            *ids,
            LINE,
            *carried,
            *row_rejects,
            pl.lit(m.code).alias(profile.code_column or "code"),
            (pl.lit(None, pl.String) if m.text else mapped).alias(profile.value_column or "value"),
            pl.lit(m.unit, pl.String).alias(profile.unit_column or "unit"),
            *(
                [(mapped if m.text else pl.lit(None, pl.String)).alias(profile.text_column)]
                if profile.text_column
                else []
            ),
            *reject_when(
                [
                    (
                        unmapped,
                        INVALID_CATEGORY,
                        pl.lit(f"{m.column}: '")
                        + raw
                        + f"' is not one of {sorted(m.values)} (profile {profile.name})",
                        profile.text_column or profile.value_column or "value",
                        raw,
                    )
                ]
            ),
        )
        parts.append(part)
    out = pl.concat(parts, how="vertical_relaxed").sort(LINE, maintain_order=True)
    if not row_rejects:
        return out
    row_failed = pl.col(f"_row{REJECT_RULE}").is_not_null()
    return out.with_columns(
        pl.when(row_failed).then(pl.col(f"_row{c}")).otherwise(pl.col(c)).alias(c)
        for c in REJECT_COLUMNS
        if f"_row{c}" in out.columns
    ).drop(f"_row{c}" for c in REJECT_COLUMNS if f"_row{c}" in out.columns)
