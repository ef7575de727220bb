"""Generating model for outcomes: linear predictors, response class, toxicity grades, event times."""

import numpy as np
import polars as pl

from sample_data import constants as c

RESPONSE_TARGETS = {"cr": 0.45, "orr": 0.70, "sd_or_better": 0.82}
CRS_TARGETS = (0.80, 0.35, 0.11, 0.02)  # P(grade >= 1..4), ASTCT 2019
ICANS_TARGETS = (0.40, 0.25, 0.15, 0.03)


def _z(x: np.ndarray) -> np.ndarray:
    return (x - np.nanmean(x)) / np.nanstd(x)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _threshold_for(lp: np.ndarray, target: float) -> float:
    """Cut point k with mean(sigmoid(lp - k)) == target (bisection: monotone in k)."""
    lo, hi = -20.0, 20.0
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _sigmoid(lp - mid).mean() > target else (lo, mid)
    return (lo + hi) / 2


def in_poor_response_group(frame: pl.DataFrame) -> np.ndarray:
    """Planted poor-response group: ECOG >= 2 with at least two extranodal sites."""
    return ((frame["ecog"] >= 2) & (frame["extranodal_sites"] >= 2)).to_numpy()


def draw_outcomes(
    rng: np.random.Generator,
    frame: pl.DataFrame,
    lot_effect: np.ndarray,
    *,
    group_shift: float = c.EFFECT["poor_group"],
) -> pl.DataFrame:
    """Draw best response, worst CRS/ICANS grade and event times for each infusion event.

    `frame` has one row per patient with baseline, primary-lot CQAs, dose, product and
    vein_to_vein_days (null for allogeneic); `lot_effect` is the shared allogeneic lot shift;
    `group_shift` the response log-odds shift of the poor-response group (0: no group).
    """
    e = c.EFFECT
    z_tumor = _z(np.log(frame["tumor_burden_spd_mm2"].to_numpy()))
    z_ldh = _z(np.log(frame["ldh_u_l"].to_numpy()))
    z_dose = _z(frame["dose_per_kg"].to_numpy())
    cd28 = (frame["product_code"] == c.PRODUCT_CD28).to_numpy().astype(float)
    lp_resp = (
        e["tscm_pct"] * _z(frame["tscm_pct"].to_numpy())
        + e["exhaustion_pd1_lag3_pct"] * _z(frame["exhaustion_pd1_lag3_pct"].to_numpy())
        + e["log_tumor_burden"] * z_tumor
        + e["log_ldh"] * z_ldh
        + e["ecog"] * _z(frame["ecog"].to_numpy().astype(float))
        + e["dose_per_kg"] * z_dose
        + group_shift * in_poor_response_group(frame)
        + lot_effect
    )
    lp_crs = (
        e["crs_log_tumor_burden"] * z_tumor
        + e["crs_log_ldh"] * z_ldh
        + e["crs_dose_per_kg"] * z_dose
        + e["crs_cd28"] * cd28
    )
    lp_icans = (
        e["icans_log_tumor_burden"] * z_tumor + e["icans_log_ldh"] * z_ldh + e["icans_cd28"] * cd28
    )
    v2v = frame["vein_to_vein_days"].to_numpy().astype(float)
    z_v2v = np.nan_to_num(_z(v2v), nan=0.0)  # off-the-shelf doses have no vein-to-vein time
    lp_hazard = e["pfs_vein_to_vein"] * z_v2v + e["pfs_log_tumor_burden"] * z_tumor

    k_cr, k_orr, k_sd = (_threshold_for(lp_resp, t) for t in RESPONSE_TARGETS.values())
    latent = lp_resp + rng.logistic(size=len(lp_resp))
    best = np.select([latent > k_cr, latent > k_orr, latent > k_sd], ["CR", "PR", "SD"], "PD")
    crs_cuts = [_threshold_for(lp_crs, t) for t in CRS_TARGETS]
    icans_cuts = [_threshold_for(lp_icans, t) for t in ICANS_TARGETS]
    crs_latent = lp_crs + rng.logistic(size=len(lp_crs))
    icans_latent = lp_icans + rng.logistic(size=len(lp_icans))
    times = _draw_times(rng, best, lp_hazard, frame["infusion_date"].to_numpy())
    return pl.DataFrame(
        {
            "subject_id": frame["subject_id"],
            "planned_best_response": best,
            "response_latent_z": _z(latent),
            "worst_crs_grade": sum((crs_latent > k).astype(np.int64) for k in crs_cuts),
            "worst_icans_grade": sum((icans_latent > k).astype(np.int64) for k in icans_cuts),
            "true_p_cr": _sigmoid(lp_resp - k_cr),
            "true_p_orr": _sigmoid(lp_resp - k_orr),
            "true_p_crs3": _sigmoid(lp_crs - crs_cuts[2]),
            "true_p_icans3": _sigmoid(lp_icans - icans_cuts[2]),
            "z_log_tumor": z_tumor,
            **times,
        }
    )


def _draw_times(
    rng: np.random.Generator, best: np.ndarray, lp_hazard: np.ndarray, infusion: np.ndarray
) -> dict[str, np.ndarray]:
    """Days from infusion to first assessment, progression, death and censoring."""
    n = len(best)
    first_assessment = np.round(rng.uniform(27, 33, size=n))
    # Weibull time to progression after the first assessment, by best-response class:
    # complete responders mostly stay in remission (long scale, shape < 1 flattens the curve).
    scale = np.select([best == "CR", best == "PR", best == "SD"], [1500.0, 180.0, 90.0], 1.0)
    shape = np.where(best == "CR", 0.8, 1.0)
    weibull = scale * (rng.exponential(size=n) * np.exp(-lp_hazard)) ** (1.0 / shape)
    progression = np.where(
        best == "PD", first_assessment, first_assessment + np.maximum(weibull, 1.0)
    )
    post_progression = 300.0 * rng.exponential(size=n) * np.exp(-lp_hazard)
    non_relapse = 31.0 + rng.exponential(8000.0, size=n)
    death = np.minimum(progression + np.maximum(post_progression, 1.0), non_relapse)
    to_cutoff = (np.datetime64(c.DATA_CUTOFF) - infusion.astype("datetime64[D]")).astype(float)
    censor = np.minimum(to_cutoff, 35.0 + rng.exponential(3000.0, size=n))
    return {
        "first_assessment_day": first_assessment,
        "progression_day": np.round(progression),
        "death_day": np.round(death),
        "censor_day": np.round(censor),
        "death_after_progression": death > progression,
    }
