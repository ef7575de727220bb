"""Draw manufacturing: collections and lots with their process parameters and CQAs (wide)."""

import numpy as np

from sample_data import constants as c

NUMERIC_PARAMETERS = (
    "culture_duration_days",
    "transduction_moi",
    "il2_iu_per_ml",
    "seeding_density_cells_per_ml",
    "fold_expansion",
    "population_doublings",
    "cryo_hold_hours",
    "shipping_temperature_excursion_min",
    "il7_ng_per_ml",
)
TEXT_PARAMETERS = ("activation_reagent", "bioreactor_type", "fresh_vs_cryo_starting_material")
NUMERIC_CQAS = (
    "viability_pct",
    "car_positive_pct",
    "vcn_copies_per_cell",
    "cd4_cd8_ratio",
    "cd8_pct",
    "tscm_pct",
    "tcm_pct",
    "tem_pct",
    "teff_pct",
    "exhaustion_pd1_lag3_pct",
    "ifng_release_pg_ml",
    "endotoxin_eu_per_ml",
    "total_viable_cells",
    "cd3_pct",
    "cd62l_pct",
)
TEXT_CQAS = ("sterility", "mycoplasma", "rcl")
STARTING_MATERIAL = ("sm_viability_pct", "sm_cd3_pct", "sm_alc_cells_per_ul")


def draw_lot_attributes(
    rng: np.random.Generator, *, cdmo: np.ndarray, is_v2: np.ndarray, oos_share: float
) -> dict[str, np.ndarray]:
    """Draw one set of process parameters, final-product CQAs and starting-material results per lot."""
    n = len(cdmo)
    west = cdmo == c.CDMO_WEST
    culture = np.clip(np.round(np.where(is_v2, 8.0, 11.0) + rng.normal(0.0, 1.3, size=n)), 5, 15)
    # Longer ex vivo culture differentiates T cells: fewer stem-memory cells (Ghassemi 2018).
    tscm = np.clip(
        28.0 + c.TSCM_PER_CULTURE_DAY * (culture - 9.5) + rng.normal(0.0, 7.0, size=n), 2.0, 75.0
    )
    tcm = np.clip(rng.normal(25.0, 6.0, size=n), 5.0, 50.0)
    tem = np.clip(rng.normal(25.0, 6.0, size=n), 5.0, 50.0)
    growth_noise = rng.normal(0.42, 0.06, size=n)  # per day after activation
    ratio = np.exp(np.log(1.2) + rng.normal(0.0, 0.5, size=n))
    oos_draw = rng.random(n)
    viability_oos = rng.uniform(61.0, 79.0, size=n)
    viability_ok = np.clip(rng.normal(91.0, 3.5, size=n), 80.5, 99.0)
    car = np.clip(rng.normal(45.0, 12.0, size=n), 12.0, 85.0)
    nan = np.full(n, np.nan)
    # Drawn in the order of earlier versions so that every other value stays as it was.
    moi = np.round(np.clip(rng.normal(3.0, 1.0, size=n), 1.0, 8.0), 1)
    il2 = np.round(np.clip(rng.normal(100.0, 25.0, size=n), 40.0, 250.0), 0)
    seeding = np.round(rng.uniform(0.4e6, 1.0e6, size=n), -3)
    cryo_hold = np.round(np.clip(rng.normal(30.0, 10.0, size=n), 12.0, 96.0), 1)
    il7 = np.where(west, np.round(rng.uniform(5.0, 15.0, size=n), 1), np.nan)
    starting_state = np.where(rng.random(n) < 0.8, "fresh", "cryopreserved")
    rest = _draw_quality(rng, n, west=west, car=car)
    # Planted manufacturing effects (README): T cells in the apheresis and fresh starting
    # material expand faster; a long hold before cryopreservation and a poor starting
    # viability make a lot fail its release specification.
    e = c.LOT_EFFECT
    # Standardised with the population's own centre and spread (as drawn above), not each
    # batch's: an allogeneic batch must not get a site effect from its own mean.
    z_cd3 = (rest["sm_cd3_pct"] - 40.0) / 12.0
    cryo_start = (starting_state == "cryopreserved").astype(float)
    # On the log scale, so that ln(fold) is linear in what was planted.
    growth = np.clip(growth_noise, 0.2, 0.7)
    ln_fold = growth * (culture - 1.5) + e["ln_fold_per_sd_sm_cd3"] * z_cd3
    ln_fold += e["ln_fold_cryo_start"] * cryo_start
    fold = np.exp(ln_fold)
    growth = ln_fold / (culture - 1.5)  # the in-process series grow at the lot's own rate
    lp_fail = (
        e["fail_cryo_hold"] * (cryo_hold - 30.0) / 10.0
        + e["fail_sm_viability"] * (rest["sm_viability_pct"] - 97.0) / 1.5
    )
    oos = oos_draw < _calibrated(lp_fail, oos_share)
    viability = np.where(oos, viability_oos, viability_ok)
    attrs = {
        "culture_duration_days": culture,
        "transduction_moi": moi,
        "il2_iu_per_ml": il2,
        "seeding_density_cells_per_ml": seeding,
        "fold_expansion": np.round(fold, 1),
        "population_doublings": np.round(np.log2(fold), 2),
        "cryo_hold_hours": cryo_hold,
        "shipping_temperature_excursion_min": nan.copy(),  # set per patient from the route
        # IL-7 supplementation is CDMO-WEST's own code, absent from the vocabulary.
        "il7_ng_per_ml": il7,
        "activation_reagent": np.where(west, "transact", "cd3_cd28_beads"),
        "bioreactor_type": np.where(west, "wave", "g_rex"),
        "fresh_vs_cryo_starting_material": starting_state,
        "viability_pct": np.round(viability, 1),
        "car_positive_pct": np.round(car, 1),
        "vcn_copies_per_cell": rest.pop("vcn_copies_per_cell"),
        "cd4_cd8_ratio": np.round(ratio, 2),
        "cd8_pct": np.round(100.0 / (1.0 + ratio), 1),
        "tscm_pct": np.round(tscm, 1),
        "tcm_pct": np.round(tcm, 1),
        "tem_pct": np.round(tem, 1),
        "teff_pct": np.round(np.clip(100.0 - tscm - tcm - tem, 2.0, 80.0), 1),
    }
    return attrs | rest | {"growth_rate_per_day": growth, "is_out_of_spec": oos}


def _calibrated(lp: np.ndarray, share: float) -> np.ndarray:
    """Probabilities expit(lp + k) with k chosen so that their mean is `share`."""
    lo, hi = -30.0, 30.0
    for _ in range(80):
        k = (lo + hi) / 2
        lo, hi = (k, hi) if (1 / (1 + np.exp(-(lp + k)))).mean() < share else (lo, k)
    return 1 / (1 + np.exp(-(lp + (lo + hi) / 2)))


def _draw_quality(
    rng: np.random.Generator, n: int, *, west: np.ndarray, car: np.ndarray
) -> dict[str, np.ndarray]:
    """Final-product CQAs after viability, and the starting-material results."""
    return {
        "vcn_copies_per_cell": np.round(
            np.clip(np.exp(np.log(1.8) + rng.normal(0.0, 0.35, size=n)), 0.3, 4.9), 2
        ),
        "exhaustion_pd1_lag3_pct": np.round(np.exp(np.log(8.0) + rng.normal(0.0, 0.45, size=n)), 1),
        "ifng_release_pg_ml": np.round(
            np.exp(np.log(800.0) + 0.01 * (car - 45.0) + rng.normal(0.0, 0.4, size=n)), 0
        ),
        "endotoxin_eu_per_ml": np.round(np.exp(np.log(0.1) + rng.normal(0.0, 0.5, size=n)), 3),
        "total_viable_cells": np.round(np.exp(np.log(1.5e9) + rng.normal(0.0, 0.35, size=n)), -6),
        "cd3_pct": np.round(np.clip(rng.normal(96.0, 2.0, size=n), 85.0, 99.8), 1),
        # CD62L is CDMO-WEST's extra phenotype panel: a vocabulary gap with no planted effect.
        "cd62l_pct": np.where(
            west, np.round(np.clip(rng.normal(55.0, 10.0, size=n), 10.0, 95.0), 1), np.nan
        ),
        "sterility": np.full(n, "negative"),
        "mycoplasma": np.full(n, "negative"),
        "rcl": np.full(n, "negative"),
        "sm_viability_pct": np.round(np.clip(rng.normal(97.0, 1.5, size=n), 88.0, 99.9), 1),
        "sm_cd3_pct": np.round(np.clip(rng.normal(40.0, 12.0, size=n), 5.0, 85.0), 1),
        "sm_alc_cells_per_ul": np.round(np.exp(np.log(700.0) + rng.normal(0.0, 0.5, size=n)), 0),
    }


def _din(facility: np.ndarray, dates: np.ndarray, serial: np.ndarray) -> np.ndarray:
    """ISBT 128 donation identification number style: facility, two-digit year, serial."""
    years = np.array([str(d)[2:4] for d in dates.astype("datetime64[Y]")])
    return np.char.add(
        np.char.add(np.char.add(facility, " "), np.char.add(years, " ")),
        np.char.zfill(serial.astype(str), 6),
    )


def shipping_excursions(rng: np.random.Generator, site: np.ndarray) -> np.ndarray:
    """Minutes outside 2-8 / <-150 degC in transit: the long route to the referral site has more."""
    n = len(site)
    far = site == c.SICK_SITE
    routine = np.where(rng.random(n) < 0.7, 0.0, np.exp(np.log(4.0) + rng.normal(0.0, 0.6, size=n)))
    long_route = np.exp(np.log(20.0) + rng.normal(0.0, 0.4, size=n))
    return np.round(np.where(far, long_route, routine), 0)


def din_numbers(facility: np.ndarray, dates: np.ndarray, serial: np.ndarray) -> np.ndarray:
    """Public alias of the DIN formatter (used by the allogeneic and defect builders)."""
    return _din(facility, dates, serial)
