"""In-process time series per lot (cell density, viability, metabolites, bioreactor) and its summaries."""

import numpy as np
import polars as pl

# Operating ranges used for the truth's "hours outside range" summaries (sample_data's own choice:
# typical T-cell culture set points; the linker may define its own).
OPERATING_RANGES = {"ph": (6.9, 7.5), "do_pct": (20.0, 80.0), "temperature_c": (36.0, 38.0)}
MEASURE_UNITS = {
    "viable_cell_density": "cells/mL",
    "viability_pct": "%",
    "glucose_g_l": "g/L",
    "lactate_g_l": "g/L",
    "ph": "pH",
    "do_pct": "%",
    "temperature_c": "degC",
}


def build_timeseries(
    rng: np.random.Generator, lots: pl.DataFrame, *, interval_hours: int = 24
) -> pl.DataFrame:
    """Observations from seeding to harvest every `interval_hours` for each lot (canonical units)."""
    steps = (lots["culture_duration_days"].to_numpy() * 24 // interval_hours).astype(np.int64) + 1
    idx = np.repeat(np.arange(lots.height), steps)
    t = (np.arange(idx.size) - np.repeat(np.cumsum(steps) - steps, steps)) * interval_hours / 24.0
    m = idx.size
    seed = lots["seeding_density_cells_per_ml"].to_numpy()[idx]
    growth = lots["growth_rate_per_day"].to_numpy()[idx]
    final_viab = lots["viability_pct"].to_numpy()[idx]
    duration = lots["culture_duration_days"].to_numpy()[idx]
    # Exponential growth after a ~1.5 day lag for activation and transduction.
    log_fold = growth * np.maximum(t - 1.5, 0.0)
    # Logistic, not pure exponential: a culture vessel saturates (G-Rex-type ~5 x 10^7 cells/mL),
    # so density stays plausible however long the lot is cultured.
    capacity = 5e7
    unbounded = seed * np.exp(log_fold)
    vcd = unbounded / (1 + (unbounded - seed) / capacity) * np.exp(rng.normal(0.0, 0.05, size=m))
    # Viability dips after activation/transduction, then recovers towards the harvest value.
    viab = np.where(
        t < 2, 95.0 - 4.5 * t, 86.0 + (final_viab - 86.0) * (t - 2) / np.maximum(duration - 2, 1)
    )
    ph = 7.35 - 0.05 * log_fold + rng.normal(0.0, 0.03, size=m)
    do = rng.normal(50.0, 6.0, size=m)
    temp = 37.0 + rng.normal(0.0, 0.1, size=m)
    # Rare controller upsets: a few observations out of the operating range.
    upset = rng.random(m)
    ph = np.where(upset < 0.004, 6.75, ph)
    do = np.where((upset >= 0.004) & (upset < 0.008), 12.0, do)
    temp = np.where((upset >= 0.008) & (upset < 0.011), 35.3, temp)
    start = lots["start_date"].cast(pl.Datetime("us", "UTC")).to_numpy()[idx]
    observed = start + np.timedelta64(8, "h") + (t * 24 * 3600).astype("timedelta64[s]")
    values = {
        "viable_cell_density": np.round(vcd, -3),
        "viability_pct": np.round(np.clip(viab + rng.normal(0.0, 1.0, size=m), 40.0, 99.9), 1),
        "glucose_g_l": np.round(
            np.clip(4.5 - 0.6 * log_fold + rng.normal(0.0, 0.1, size=m), 0.3, 6.0), 2
        ),
        "lactate_g_l": np.round(
            np.clip(0.2 + 0.35 * log_fold + rng.normal(0.0, 0.05, size=m), 0.05, 4.0), 2
        ),
        "ph": np.round(ph, 2),
        "do_pct": np.round(do, 1),
        "temperature_c": np.round(temp, 2),
    }
    lot_id = lots["lot_id"].to_numpy()[idx]
    return (
        pl.concat(
            [
                pl.DataFrame(
                    {
                        "lot_id": lot_id,
                        "observed_at": observed,
                        "measure_code": code,
                        "value": v,
                        "unit": MEASURE_UNITS[code],
                    }
                )
                for code, v in values.items()
            ]
        )
        .with_columns(pl.col("observed_at").cast(pl.Datetime("us", "UTC")))
        .sort("lot_id", "observed_at", "measure_code")
    )


def summarise_in_process(ts: pl.DataFrame, *, interval_hours: int = 24) -> pl.DataFrame:
    """Per-lot features: log-linear growth rate, doublings, last viability, hours outside range."""
    days = (pl.col("observed_at") - pl.col("observed_at").min()).dt.total_seconds() / 86400.0
    vcd = (
        ts.filter(pl.col("measure_code") == "viable_cell_density")
        .sort("lot_id", "observed_at")
        .with_columns(days.over("lot_id").alias("t"), pl.col("value").log().alias("y"))
        .group_by("lot_id")
        .agg(
            (pl.cov("t", "y") / pl.col("t").var()).alias("in_process_growth_rate_per_day"),
            (pl.col("value").last() / pl.col("value").first())
            .log(2)
            .alias("in_process_population_doublings"),
        )
    )
    last_viab = (
        ts.filter(pl.col("measure_code") == "viability_pct")
        .sort("lot_id", "observed_at")
        .group_by("lot_id")
        .agg(pl.col("value").last().alias("in_process_last_viability_pct"))
    )
    out = vcd.join(last_viab, on="lot_id", how="full", coalesce=True)
    for code, (low, high) in OPERATING_RANGES.items():
        hours = (
            ts.filter(pl.col("measure_code") == code)
            .group_by("lot_id")
            .agg(
                (((pl.col("value") < low) | (pl.col("value") > high)).sum() * interval_hours)
                .cast(pl.Float64)
                .alias(f"in_process_hours_outside_range_{code}")
            )
        )
        out = out.join(hours, on="lot_id", how="full", coalesce=True)
    return out
