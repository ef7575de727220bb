"""Draw patient baselines and treatment choices (one row per patient)."""

import numpy as np
import polars as pl

from sample_data import constants as c


def _ecog_from_latent(latent: np.ndarray) -> np.ndarray:
    # Cut points give ~40 % ECOG 0, ~44 % ECOG 1, ~14 % ECOG 2, ~2 % ECOG 3 overall:
    # CAR-T trials and registries treat mostly fit patients.
    return np.digitize(latent, [-0.25, 1.05, 2.05])


def draw_patients(
    rng: np.random.Generator, *, n_autologous: int, n_allogeneic: int
) -> pl.DataFrame:
    """Draw baseline, site and treatment for every patient; allogeneic patients come last."""
    n = n_autologous + n_allogeneic
    is_allo = np.arange(n) >= n_autologous
    site = np.where(
        is_allo,
        rng.choice(c.ALLOGENEIC_SITES, size=n),
        rng.choice(c.SITES, size=n, p=c.SITE_SHARE_AUTOLOGOUS),
    )
    sick = site == c.SICK_SITE
    # One latent severity drives tumour burden, LDH and ECOG; the referral site is shifted up.
    severity = rng.normal(size=n) + c.SICK_SITE_SEVERITY_SHIFT * sick
    log_tumor = np.log(2500.0) + 0.9 * (0.6 * severity + 0.8 * rng.normal(size=n))
    log_ldh = np.log(260.0) + 0.45 * (0.55 * severity + 0.83 * rng.normal(size=n))
    ecog = _ecog_from_latent(0.55 * severity + 0.85 * rng.normal(size=n))
    # Extranodal spread is drawn apart from severity so that adjusting for tumour burden, LDH
    # and ECOG removes all confounding by site (the decoy check relies on it).
    extranodal = rng.poisson(1.3, size=n)
    sex = rng.choice(["M", "F"], size=n, p=[0.62, 0.38])
    weight = np.where(sex == "M", 80.0, 66.0) + rng.normal(0.0, 13.0, size=n)
    product = np.where(
        is_allo, c.PRODUCT_ALLO, rng.choice([c.PRODUCT_41BB, c.PRODUCT_CD28], size=n)
    )
    # Bendamustine lymphodepletion is used mainly with the 4-1BB product (registry practice).
    benda = rng.random(n) < np.where(product == c.PRODUCT_41BB, 0.18, 0.03)
    bridging = rng.choice(["none", "chemo", "radiation", "other"], size=n, p=[0.5, 0.3, 0.12, 0.08])
    # Bridging is given to patients with bulky disease more often.
    bridging = np.where(
        (severity > 1.0) & (bridging == "none") & (rng.random(n) < 0.5), "chemo", bridging
    )
    prefix = np.char.add("SUBJ-", np.char.replace(site.astype(str), "HOSP-", ""))
    return pl.DataFrame(
        {
            "subject_id": np.char.add(prefix, np.char.zfill((np.arange(n) + 1).astype(str), 4)),
            "site_id": site,
            "is_allogeneic": is_allo,
            "severity": severity,
            "sex": sex,
            "age_years": np.clip(np.round(rng.normal(61.0, 11.0, size=n)), 19, 85).astype(np.int64),
            "weight_kg": np.round(np.clip(weight, 40.0, 150.0), 1),
            "indication": rng.choice(["DLBCL", "tFL", "PMBCL"], size=n, p=[0.8, 0.12, 0.08]),
            "disease_stage": rng.choice(
                ["I", "II", "III", "IV"], size=n, p=[0.08, 0.17, 0.25, 0.5]
            ),
            "ecog": ecog.astype(np.int64),
            "ldh_u_l": np.round(np.exp(log_ldh), 0),
            "tumor_burden_spd_mm2": np.round(np.exp(log_tumor), 0),
            "prior_lines": (1 + rng.poisson(1.3, size=n)).astype(np.int64),
            "extranodal_sites": extranodal.astype(np.int64),
            "product_code": product,
            "lymphodepletion": np.where(benda, "bendamustine", "flu_cy"),
            "bridging_therapy": bridging,
            "dose_per_kg": np.round(2.0e6 * np.exp(rng.normal(0.0, 0.3, size=n)), -3),
        }
    )
