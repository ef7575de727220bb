"""Small simulated cohorts with planted effects, nulls, a confounded decoy and shared lots."""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from rtr.link.catalog import CATALOG_SCHEMA


@dataclass(frozen=True)
class SimCohort:
    """Simulated linked frame, its feature catalog, and what was planted."""

    data: pl.DataFrame
    catalog: pl.DataFrame
    true_p_cr: np.ndarray
    planted_cr: dict[str, float]  # feature -> true log-OR per SD (direct effects on CR)
    nulls: tuple[str, ...]
    decoy: str
    poor_group: tuple[str, ...] = ("ecog", "indication")  # ecog >= 2 and indication == DLBCL


CATALOG_KINDS = {
    "age_years": ("patient", "numeric"),
    "sex": ("patient", "categorical"),
    "ecog": ("patient", "numeric"),
    "ldh_u_l": ("patient", "numeric"),
    "tumor_burden_spd_mm2": ("patient", "numeric"),
    "indication": ("patient", "categorical"),
    "dose_per_kg": ("treatment", "numeric"),
    "lymphodepletion": ("treatment", "categorical"),
    "culture_duration_days": ("process_parameter", "numeric"),
    "transduction_moi": ("process_parameter", "numeric"),
    "seeding_density_cells_per_ml": ("process_parameter", "numeric"),
    "xq_unknown_param": ("process_parameter", "numeric"),
    "tscm_pct": ("cqa", "numeric"),
    "exhaustion_pd1_lag3_pct": ("cqa", "numeric"),
    "viability_pct": ("cqa", "numeric"),
    "car_positive_pct": ("cqa", "numeric"),
    "vcn_copies_per_cell": ("cqa", "numeric"),
    "peak_expansion_copies_per_ug": ("post_infusion", "numeric"),
}


def catalog_of(kinds: dict[str, tuple[str, str]]) -> pl.DataFrame:
    """A feature catalog from {feature: (feature_kind, dtype)}, every feature known at release."""
    return pl.DataFrame(
        [(f, kind, "t", dtype, None, True) for f, (kind, dtype) in kinds.items()],
        orient="row",
        schema=CATALOG_SCHEMA,
    )


def _z(v: np.ndarray) -> np.ndarray:
    return (v - v.mean()) / v.std()


def simulate_cohort(
    seed: int = 11, n: int = 500, n_shared_lots: int | None = None, lot_sd: float = 0.0
) -> SimCohort:
    """A CAR-T-like cohort; with n_shared_lots, patients share lots whose effect varies (sd lot_sd)."""
    rng = np.random.default_rng(seed)
    age = rng.normal(60, 11, n).round()
    sex = rng.choice(["F", "M"], n)
    ecog = rng.choice([0, 1, 2], n, p=[0.4, 0.35, 0.25]).astype(float)
    sickness = rng.normal(0, 1, n)  # latent disease severity drives burden, LDH, and site choice
    tumor = np.exp(8 + 0.6 * sickness + rng.normal(0, 0.5, n))
    ldh = np.exp(5.5 + 0.4 * sickness + rng.normal(0, 0.4, n))
    indication = rng.choice(["DLBCL", "FL", "MCL"], n, p=[0.6, 0.25, 0.15])
    dose = rng.normal(2.0, 0.5, n)
    lympho = rng.choice(["flu_cy", "bendamustine"], n, p=[0.7, 0.3])
    culture = rng.normal(10, 2, n)
    moi = rng.normal(5, 1.5, n)
    # Decoy: sicker patients go to the site that seeds denser; no effect of its own.
    seeding = 1.0 + 0.9 * sickness + rng.normal(0, 0.45, n)
    unknown = rng.normal(0, 1, n)
    tscm = np.clip(30 - 2.5 * (culture - 10) + rng.normal(0, 5, n), 1, 80)  # mediator
    exhaustion = np.clip(rng.normal(20, 6, n), 1, 60)
    viability = np.clip(rng.normal(88, 6, n), 55, 99)  # some below the 80 % spec: null effect
    car = np.clip(rng.normal(35, 10, n), 5, 80)
    vcn = np.clip(rng.normal(2.5, 0.8, n), 0.3, 6)
    if n_shared_lots:
        lot_idx = rng.integers(0, n_shared_lots, n)
        lot_effect = rng.normal(0, lot_sd, n_shared_lots)[lot_idx]
        lot_ids = np.array([f"LOT{i:03d}" for i in lot_idx])
    else:
        lot_effect = np.zeros(n)
        lot_ids = np.array([f"LOT{i:04d}" for i in range(n)])
    planted = {
        "tscm_pct": 0.8,
        "tumor_burden_spd_mm2": -0.7,
        "exhaustion_pd1_lag3_pct": -0.6,
        "ldh_u_l": -0.4,
    }
    logit = (
        -0.1
        + 0.8 * _z(tscm)
        - 0.7 * _z(np.log(tumor))
        - 0.6 * _z(exhaustion)
        - 0.4 * _z(np.log(ldh))
        - 1.6 * ((ecog >= 2) & (indication == "DLBCL"))
        + lot_effect
    )
    p_cr = 1 / (1 + np.exp(-logit))
    cr = rng.random(n) < p_cr
    p_orr = 1 / (1 + np.exp(-(logit + 1.2)))
    orr = cr | (rng.random(n) < p_orr)
    p_crs = 1 / (1 + np.exp(-(-2.0 + 0.8 * _z(np.log(tumor)) + 0.6 * _z(dose))))
    crs3 = rng.random(n) < p_crs
    icans3 = rng.random(n) < 0.12
    hazard = 0.002 * np.exp(-0.5 * _z(tscm) + 0.5 * _z(np.log(tumor)))
    t_event = rng.exponential(1 / hazard)
    t_cens = rng.uniform(100, 900, n)
    pfs_days = np.minimum(t_event, t_cens).round()
    os_t = t_event + rng.exponential(400, n)
    os_days = np.minimum(os_t, t_cens).round()
    release = [date(2023, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 700, n)]
    data = pl.DataFrame(
        {
            "subject_id": [f"S{i:04d}" for i in range(n)],
            "lot_id": lot_ids,
            "is_first_infusion": np.ones(n, dtype=bool),
            "manufacturing_site_id": np.where(seeding > 1.0, "SITE_B", "SITE_A"),
            "process_version": rng.choice(["v1", "v2"], n),
            "release_date": release,
            "age_years": age,
            "sex": sex,
            "ecog": ecog,
            "ldh_u_l": ldh,
            "tumor_burden_spd_mm2": tumor,
            "indication": indication,
            "dose_per_kg": dose,
            "lymphodepletion": lympho,
            "culture_duration_days": culture,
            "transduction_moi": moi,
            "seeding_density_cells_per_ml": seeding,
            "xq_unknown_param": unknown,
            "tscm_pct": tscm,
            "exhaustion_pd1_lag3_pct": exhaustion,
            "viability_pct": viability,
            "car_positive_pct": car,
            "vcn_copies_per_cell": vcn,
            "cr": cr,
            "orr": orr,
            "crs_grade3plus": crs3,
            "icans_grade3plus": icans3,
            "pfs_days": pfs_days,
            "pfs_event": t_event <= t_cens,
            "os_days": os_days,
            "os_event": os_t <= t_cens,
            # Post-infusion expansion follows response: it must never be used as a predictor.
            "peak_expansion_copies_per_ug": np.exp(9 + 1.5 * cr + rng.normal(0, 0.3, n)),
        }
    )
    # A few missing values, as in real deliveries.
    data = data.with_columns(
        pl.when(pl.Series(rng.random(n) < 0.05))
        .then(None)
        .otherwise(pl.col("ldh_u_l"))
        .alias("ldh_u_l")
    )
    catalog = pl.DataFrame(
        {
            "feature": list(CATALOG_KINDS),
            "feature_kind": [k for k, _ in CATALOG_KINDS.values()],
            "source": "sim",
            "dtype": [d for _, d in CATALOG_KINDS.values()],
            "unit": None,
            "known_at_release": [k != "post_infusion" for k, _ in CATALOG_KINDS.values()],
        },
        schema_overrides={"unit": pl.String},
    )
    nulls = (
        "viability_pct",
        "car_positive_pct",
        "vcn_copies_per_cell",
        "transduction_moi",
        "xq_unknown_param",
        "age_years",
    )
    return SimCohort(data, catalog, p_cr, planted, nulls, "seeding_density_cells_per_ml")


@pytest.fixture(scope="session")
def simulate():  # type: ignore[no-untyped-def]
    """The simulator itself, for tests that need a variant cohort."""
    return simulate_cohort


@pytest.fixture(scope="session")
def cohort() -> SimCohort:
    """Independent patients (one lot each)."""
    return simulate_cohort(seed=11, n=500)


@pytest.fixture(scope="session")
def clustered_cohort() -> SimCohort:
    """Allogeneic-like: 25 lots shared by ~16 patients each, with a lot effect."""
    return simulate_cohort(seed=5, n=400, n_shared_lots=25, lot_sd=0.8)


def catalog_for_truth(truth: pl.DataFrame, tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """A linked.feature_catalog for the generator's truth frame, built from its column names.

    Fixed columns take the linker's kinds; pivoted codes are typed by the table they come from
    (process parameter vs final-product CQA), so unknown codes are classified like known ones.
    """
    from rtr.link.columns import IDS, OUTCOMES, PATIENT, POST_INFUSION, PRODUCT, TREATMENT

    fixed = {
        c.name: (c.feature_kind, c.dtype)
        for c in IDS + PATIENT + TREATMENT + PRODUCT + OUTCOMES + POST_INFUSION
    }
    params = set(tables["process_parameters"]["parameter_code"].to_list())
    qr = tables["quality_results"]
    cqas = set(qr.filter(pl.col("sample_stage") == "final_product")["test_code"].to_list())
    rows = []
    for name in truth.columns:
        if name.startswith("true_p_"):
            continue
        dtype = (
            "numeric"
            if truth[name].dtype.is_numeric()
            else "boolean"
            if truth[name].dtype == pl.Boolean
            else "categorical"
        )
        if name in fixed:
            kind, dtype = fixed[name]
        elif name.startswith("sm_"):
            kind = "patient"
        elif name.startswith("in_process_") or name in params:
            kind = "process_parameter"
        elif name in cqas:
            kind = "cqa"
        else:
            kind = "id"
        rows.append(
            {
                "feature": name,
                "feature_kind": kind,
                "source": "test",
                "dtype": dtype,
                "unit": None,
                "known_at_release": kind not in ("outcome", "post_infusion"),
            }
        )
    return pl.DataFrame(
        rows,
        schema=CATALOG_SCHEMA,
    )


@pytest.fixture(scope="session")
def truth_catalog():  # type: ignore[no-untyped-def]
    """The catalog builder for the generator's truth frame."""
    return catalog_for_truth
