"""Days from infusion to CRS and ICANS onset, from the adverse-event records (first infusions)."""

import polars as pl

from analyses.config import ONSET_OUTCOMES

# ae_term of each onset outcome (DATA_CONTRACT.md: adverse_events.ae_term).
ONSET_TERMS = {"crs_onset": "CRS", "icans_onset": "ICANS"}


def add_onset_days(
    frame: pl.DataFrame, adverse_events: pl.DataFrame | None, *, window_days: int
) -> pl.DataFrame:
    """Add `<term>_onset_days`: days from the infusion to the first onset of that toxicity.

    Only onsets on or after the infusion date and within `window_days` count (CRS and ICANS
    after CAR-T start within days; a record months later belongs to another course). Patients
    without such a record get null: time to onset is analysed among patients with the toxicity.
    """
    if (
        adverse_events is None
        or not {"subject_id", "infusion_date"} <= set(frame.columns)
        or not {"subject_id", "ae_term", "onset_date"} <= set(adverse_events.columns)
    ):
        return frame
    infusions = frame.select("subject_id", "infusion_date").unique("subject_id", keep="first")
    events = adverse_events.select(
        "subject_id",
        pl.col("ae_term").cast(pl.String).str.strip_chars().str.to_uppercase().alias("term"),
        pl.col("onset_date").cast(pl.Date),
    ).join(infusions, on="subject_id", how="inner")
    days = (pl.col("onset_date") - pl.col("infusion_date").cast(pl.Date)).dt.total_days()
    out = frame
    for outcome, column in ONSET_OUTCOMES.items():
        first = (
            events.filter(
                (pl.col("term") == ONSET_TERMS[outcome]) & days.is_between(0, window_days)
            )
            .group_by("subject_id")
            .agg(days.min().cast(pl.Float64).alias(column))
        )
        out = out.drop(column, strict=False).join(first, on="subject_id", how="left")
    return out
