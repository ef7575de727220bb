"""Turn drawn outcomes into the clinical contract tables: responses, adverse events, follow-up, expansion."""

import numpy as np
import polars as pl

from sample_data import constants as c

_RANK = {"CR": 4, "PR": 3, "SD": 2, "PD": 1}


def _day_offsets(start: pl.Expr, days: str) -> pl.Expr:
    return start + pl.duration(days=pl.col(days).cast(pl.Int64))


def build_responses(rng: np.random.Generator, o: pl.DataFrame) -> pl.DataFrame:
    """Lugano 2014 assessments at ~day 30, 90 and 180 until progression, death or last contact."""
    n = o.height
    d1 = o["first_assessment_day"].to_numpy()
    d2 = np.round(rng.uniform(83, 97, size=n))
    d3 = np.round(rng.uniform(170, 190, size=n))
    best = o["planned_best_response"].to_numpy()
    prog, death, censor = (o[k].to_numpy() for k in ("progression_day", "death_day", "censor_day"))
    # Late complete responders show PR first; keep CR at day 30 when no later scan can confirm it.
    converts_late = (
        (best == "CR") & (rng.random(n) < 0.35) & (prog > d2) & (death > d2) & (censor >= d2)
    )
    first = np.where(converts_late, "PR", best)
    rows = []
    for day, value in ((d1, first), (d2, best), (d3, best)):
        rows.append(
            pl.DataFrame(
                {
                    "subject_id": o["subject_id"],
                    "day": day,
                    "response": np.where(day >= prog, "PD", value),
                    "seen": (day <= censor) & (day <= death),
                }
            )
        )
    long = (
        pl.concat(rows)
        .filter(pl.col("seen"))
        .join(o.select("subject_id", "infusion_date"), on="subject_id")
        .sort("subject_id", "day")
        # Follow-up scans stop after documented progression.
        .with_columns(pl.col("response").eq("PD").cast(pl.Int64).alias("is_pd"))
        .filter((pl.col("is_pd").cum_sum() - pl.col("is_pd")).over("subject_id") == 0)
        .with_columns(pl.col("response").replace_strict(_RANK, return_dtype=pl.Int64).alias("rank"))
    )
    first_best = (
        long.with_columns(pl.col("rank").max().over("subject_id").alias("best_rank"))
        .filter(pl.col("rank") == pl.col("best_rank"))
        .group_by("subject_id")
        .agg(pl.col("day").min().alias("best_day"))
    )
    return (
        long.join(first_best, on="subject_id")
        .select(
            "subject_id",
            _day_offsets(pl.col("infusion_date"), "day").alias("assessment_date"),
            "response",
            pl.lit("LUGANO2014").alias("criteria"),
            (pl.col("day") == pl.col("best_day")).alias("is_best_overall"),
        )
        .sort("subject_id", "assessment_date")
    )


def build_adverse_events(rng: np.random.Generator, o: pl.DataFrame) -> pl.DataFrame:
    """CRS and ICANS (ASTCT 2019) at their worst grade, plus infections, cytopenias and HLH (CTCAE 5)."""
    n = o.height
    cd28 = (o["product_code"] == c.PRODUCT_CD28).to_numpy()
    # CD28 products expand faster: CRS starts earlier (median ~2 vs ~3 days).
    crs_onset = np.where(cd28, 1.0, 2.0) + np.round(rng.exponential(np.where(cd28, 1.2, 2.0)))
    icans_onset = crs_onset + 2.0 + np.round(rng.exponential(2.0, size=n))
    infection = rng.random(n) < 0.35
    cytopenia = rng.random(n) < 0.30
    hlh = rng.random(n) < 0.01
    parts = [
        (
            "CRS",
            o["worst_crs_grade"].to_numpy(),
            crs_onset,
            rng.integers(3, 12, size=n),
            "ASTCT2019",
        ),
        (
            "ICANS",
            o["worst_icans_grade"].to_numpy(),
            icans_onset,
            rng.integers(2, 14, size=n),
            "ASTCT2019",
        ),
        (
            "infection",
            np.where(infection, rng.choice([1, 2, 3], size=n, p=[0.3, 0.45, 0.25]), 0),
            np.round(rng.uniform(10, 90, size=n)),
            rng.integers(5, 20, size=n),
            "CTCAE5",
        ),
        (
            "cytopenia",
            np.where(cytopenia, rng.choice([3, 4], size=n), 0),
            np.round(rng.uniform(21, 35, size=n)),
            rng.integers(14, 60, size=n),
            "CTCAE5",
        ),
        (
            "HLH",
            np.where(hlh, rng.choice([3, 4], size=n), 0),
            np.round(rng.uniform(5, 15, size=n)),
            rng.integers(7, 21, size=n),
            "CTCAE5",
        ),
    ]
    frames = [
        pl.DataFrame(
            {
                "subject_id": o["subject_id"],
                "ae_term": term,
                "grade": grade.astype(np.int64),
                "grading_system": system,
                "onset_day": onset,
                "duration": duration.astype(np.int64),
            }
        )
        for term, grade, onset, duration, system in parts
    ]
    limit = np.minimum(o["censor_day"].to_numpy(), o["death_day"].to_numpy())
    return (
        pl.concat(frames)
        .join(o.select("subject_id", "infusion_date").with_columns(limit=limit), on="subject_id")
        .filter((pl.col("grade") > 0) & (pl.col("onset_day") <= pl.col("limit")))
        .select(
            "subject_id",
            "ae_term",
            "grade",
            "grading_system",
            _day_offsets(pl.col("infusion_date"), "onset_day").alias("onset_date"),
            (
                _day_offsets(pl.col("infusion_date"), "onset_day")
                + pl.duration(days=pl.col("duration"))
            ).alias("resolution_date"),
            (pl.col("grade") >= 3).alias("serious"),
        )
        .sort("subject_id", "onset_date", "ae_term")
    )


def build_follow_up(o: pl.DataFrame) -> pl.DataFrame:
    """Last contact, progression and death dates as the hospital records them."""
    died = pl.col("death_day") <= pl.col("censor_day")
    progressed = (pl.col("progression_day") <= pl.col("censor_day")) & (
        pl.col("progression_day") <= pl.col("death_day")
    )
    last_day = pl.when(died).then(pl.col("death_day")).otherwise(pl.col("censor_day"))
    return o.select(
        "subject_id",
        (pl.col("infusion_date") + pl.duration(days=last_day.cast(pl.Int64))).alias(
            "last_known_alive_date"
        ),
        pl.when(progressed)
        .then(_day_offsets(pl.col("infusion_date"), "progression_day"))
        .alias("progression_date"),
        pl.when(died).then(_day_offsets(pl.col("infusion_date"), "death_day")).alias("death_date"),
        pl.when(died)
        .then(
            pl.when(pl.col("death_after_progression"))
            .then(pl.lit("progression"))
            .otherwise(pl.lit("other"))
        )
        .alias("death_cause"),
    ).sort("subject_id")


def build_expansion(rng: np.random.Generator, o: pl.DataFrame) -> pl.DataFrame:
    """CAR transgene copies/ug DNA at days 7, 14, 28, 90; the peak rises with tumour burden.

    Expansion follows antigen load and response, so it predicts response only after the fact:
    a leakage trap for any model that treats it as known at release.
    """
    n = o.height
    log_peak = (
        np.log(30000.0)
        + 0.5 * o["z_log_tumor"].to_numpy()
        + 0.5 * o["response_latent_z"].to_numpy()
        + rng.normal(0.0, 0.7, size=n)
    )
    limit = np.minimum(o["censor_day"].to_numpy(), o["death_day"].to_numpy())
    frames = []
    for day in (7, 14, 28, 90):
        shape = np.exp(-((np.log(day) - np.log(10.0)) ** 2) / 0.5)
        value = np.exp(log_peak + rng.normal(0.0, 0.2, size=n)) * shape
        frames.append(
            pl.DataFrame(
                {
                    "subject_id": o["subject_id"],
                    "day_post_infusion": np.full(n, day),
                    "car_transgene_copies_per_ug_dna": np.round(value, 1),
                    "keep": day <= limit,
                }
            )
        )
    return (
        pl.concat(frames)
        .filter(pl.col("keep"))
        .join(o.select("subject_id", "infusion_date"), on="subject_id")
        .select(
            "subject_id",
            (pl.col("infusion_date") + pl.duration(days=pl.col("day_post_infusion"))).alias(
                "sample_date"
            ),
            pl.col("day_post_infusion").cast(pl.Int64),
            "car_transgene_copies_per_ug_dna",
        )
        .sort("subject_id", "sample_date")
    )
