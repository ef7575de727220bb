"""Wide sender columns (one per measurement) melted into the contract's long measurement rows."""

import polars as pl

from rtr.adapters.common import reject_when
from rtr.adapters.interface import LINE
from rtr.adapters.profile.load import Profile
from schemas.rules import INVALID_CATEGORY


def melt_measures(frame: pl.DataFrame, profile: Profile) -> pl.DataFrame:
    """One row per source row and measure with a value; empty cells are not measurements."""
    ids = [c for c in profile.columns if c in frame.columns]
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
    return pl.concat(parts, how="vertical_relaxed").sort(LINE, maintain_order=True)
