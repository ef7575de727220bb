"""Fixed settings of the simulated network: hospitals, CDMOs, calendar and planted effect sizes."""

import datetime as dt

# Hospitals (treating sites). HOSP-C is the referral centre that treats sicker patients:
# the confounder behind the decoy (see README.md).
SITES = ("HOSP-A", "HOSP-B", "HOSP-C", "HOSP-D")
SITE_SHARE_AUTOLOGOUS = (0.27, 0.23, 0.30, 0.20)
SICK_SITE = "HOSP-C"
# Sites that run the allogeneic trial.
ALLOGENEIC_SITES = ("HOSP-A", "HOSP-B", "HOSP-D")
# ISBT 128 facility identification numbers of each apheresis unit (DIN prefix).
FACILITY_CODE = {
    "HOSP-A": "W4011",
    "HOSP-B": "W4027",
    "HOSP-C": "W4133",
    "HOSP-D": "W4210",
    "DONOR-CENTRE": "W9001",
}

# CDMOs. Autologous lots are made at EAST or WEST; the allogeneic product at NORTH.
CDMO_EAST, CDMO_WEST, CDMO_NORTH = "CDMO-EAST", "CDMO-WEST", "CDMO-NORTH"
# Probability that a hospital's patient is manufactured at CDMO-EAST (else WEST).
P_EAST_BY_SITE = {"HOSP-A": 0.85, "HOSP-B": 0.80, "HOSP-C": 0.10, "HOSP-D": 0.50}
# CDMO-EAST sends some values in other (convertible) units; see deliveries.py.
ODD_UNIT_CDMO = CDMO_EAST

PRODUCT_41BB = "CART-CD19-41BB"
PRODUCT_CD28 = "CART-CD19-CD28"
PRODUCT_ALLO = "ALLO-CART-CD19"

# Calendar: ~2 years of accrual, data cut-off six months after the last collection.
ACCRUAL_START = dt.date(2023, 1, 9)
ACCRUAL_DAYS = 720
PROCESS_V2_FROM = dt.date(2024, 1, 1)  # shorter-culture process version introduced
DATA_CUTOFF = dt.date(2025, 6, 30)

# Planted effect sizes (log-odds or log-hazard per SD of the feature; README.md explains each).
EFFECT = {
    "tscm_pct": 0.70,  # stem-memory T cells -> response (Fraietta 2018)
    "exhaustion_pd1_lag3_pct": -0.50,
    "log_tumor_burden": -0.60,  # on log(tumor_burden_spd_mm2)
    "log_ldh": -0.35,  # on log(ldh_u_l)
    "ecog": -0.30,
    "dose_per_kg": 0.45,
    "poor_group": -1.60,  # ecog >= 2 and extranodal_sites >= 2
    "crs_log_tumor_burden": 0.55,
    "crs_log_ldh": 0.40,
    "crs_dose_per_kg": 0.70,
    "crs_cd28": 1.30,
    "icans_log_tumor_burden": 0.50,
    "icans_log_ldh": 0.35,
    "icans_cd28": 1.50,
    "pfs_vein_to_vein": 0.60,  # log hazard ratio per SD of vein_to_vein_days
    "pfs_log_tumor_burden": 0.25,
    "allogeneic_lot_sd": 0.60,  # SD of the shared lot effect on response log-odds
}
# How much sicker the referral site's patients are (shift of the latent severity, in SD).
SICK_SITE_SEVERITY_SHIFT = 1.8
# Culture duration lowers stem-memory content: tscm_pct falls by this many points per day.
TSCM_PER_CULTURE_DAY = -2.2

# Planted manufacturing effects (README "Manufacturing"): on ln(fold expansion) per SD of
# starting-material CD3+ % and for cryopreserved starting material; on the log-odds of a lot
# failing release per SD of the hold before cryopreservation and of the starting-material
# viability.
LOT_EFFECT = {
    "ln_fold_per_sd_sm_cd3": 0.16,
    "ln_fold_cryo_start": -0.32,
    "fail_cryo_hold": 0.9,
    "fail_sm_viability": -0.9,
}
