"""Adjusted effect estimates on a simulated cohort with planted effects, nulls and a decoy."""

from typing import Any

import numpy as np
import polars as pl
import pytest

from analyses.config import AnalysisConfig
from analyses.design import build_design, first_infusions
from analyses.effects import estimate_effects
from analyses.outcomes import available_outcomes, lot_clusters
from tests.analyses.conftest import catalog_of

CFG = AnalysisConfig()


def _findings(cohort: Any, outcome_name: str, data: pl.DataFrame | None = None) -> pl.DataFrame:
    frame = first_infusions(cohort.data if data is None else data)
    design = build_design(frame, cohort.catalog, CFG)
    outcome = next(o for o in available_outcomes(frame)[0] if o.name == outcome_name)
    found, _ = estimate_effects(
        design, outcome, groups=lot_clusters(frame), cfg=CFG, seed=1, run_id="t"
    )
    return found


@pytest.fixture(scope="module")
def cr_findings(cohort: Any) -> pl.DataFrame:
    return _findings(cohort, "cr")


def _adjusted(findings: pl.DataFrame) -> pl.DataFrame:
    return findings.filter(pl.col("adjustment") == "adjusted")


def test_every_planted_effect_is_found_after_adjustment(
    cr_findings: pl.DataFrame, cohort: Any
) -> None:
    adj = _adjusted(cr_findings)
    for feature, log_or in cohort.planted_cr.items():
        row = adj.filter(pl.col("feature") == feature)
        assert row["q_value"][0] < CFG.q_threshold, feature
        assert (row["estimate"][0] > 1) == (log_or > 0), feature


def test_planted_nulls_are_not_reported(cr_findings: pl.DataFrame, cohort: Any) -> None:
    supported = set(cr_findings.filter(pl.col("is_supported"))["feature"].to_list())
    assert supported.isdisjoint(cohort.nulls)


def test_the_confounded_decoy_goes_with_response_only_before_adjustment(
    cr_findings: pl.DataFrame, cohort: Any
) -> None:
    decoy = cr_findings.filter(pl.col("feature") == cohort.decoy)
    unadjusted = decoy.filter(pl.col("adjustment") == "unadjusted")
    adjusted = decoy.filter(pl.col("adjustment") == "adjusted")
    assert unadjusted["q_value"][0] < CFG.q_threshold
    assert adjusted["q_value"][0] >= CFG.q_threshold
    assert not adjusted["is_supported"][0]


def test_process_parameters_are_not_adjusted_for_the_cqas_they_act_through(
    cr_findings: pl.DataFrame,
) -> None:
    adj = _adjusted(cr_findings)
    culture = adj.filter(pl.col("feature") == "culture_duration_days")["adjusted_for"][0]
    assert "tumor_burden_spd_mm2" in culture and "transduction_moi" in culture
    assert "tscm_pct" not in culture
    cqa = adj.filter(pl.col("feature") == "tscm_pct")["adjusted_for"][0]
    assert "exhaustion_pd1_lag3_pct" in cqa and "tumor_burden_spd_mm2" in cqa
    assert "culture_duration_days" not in cqa


def test_effects_are_per_sd_for_numbers_and_per_level_for_categories(
    cr_findings: pl.DataFrame,
) -> None:
    measures = dict(zip(cr_findings["feature"], cr_findings["effect_measure"], strict=True))
    assert measures["tscm_pct"] == "odds_ratio_per_sd"
    assert measures["lymphodepletion=bendamustine"] == "odds_ratio"
    assert "peak_expansion_copies_per_ug" not in measures


def test_survival_outcomes_get_hazard_ratios_per_sd(cohort: Any) -> None:
    pfs = _adjusted(_findings(cohort, "pfs"))
    tscm = pfs.filter(pl.col("feature") == "tscm_pct")
    assert tscm["effect_measure"][0] == "hazard_ratio_per_sd"
    assert tscm["ci_high"][0] < 1 and tscm["q_value"][0] < CFG.q_threshold
    assert set(pfs.filter(pl.col("is_supported"))["feature"]).isdisjoint(
        ("viability_pct", "car_positive_pct")
    )


def test_patients_sharing_lots_get_lot_clustered_intervals(clustered_cohort: Any) -> None:
    found = _findings(clustered_cohort, "cr")
    assert found["method"].str.contains("cluster-robust SE by lot").all()
    # The same data treated as independent patients gives narrower intervals for a lot-level CQA.
    independent = clustered_cohort.data.with_columns(
        pl.int_range(pl.len()).cast(pl.String).alias("lot_id")
    )
    naive = _findings(clustered_cohort, "cr", data=independent)

    def width(f: pl.DataFrame) -> float:
        row = _adjusted(f).filter(pl.col("feature") == "tscm_pct")
        return float(row["ci_high"][0] / row["ci_low"][0])

    assert width(found) > width(naive)


def _two_product_cohort(n_per_product: int = 80) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Two products given for two indications; one CQA is measured for the second product only."""
    rng = np.random.default_rng(3)
    n = 2 * n_per_product
    second = np.arange(n) >= n_per_product
    ecog = rng.integers(0, 3, n).astype(float)
    time = rng.exponential(400 * np.exp(-0.4 * ecog)) + 1
    frame = pl.DataFrame(
        {
            "indication": np.where(second, "HCC", "GVHD"),
            "ecog": ecog,
            "age_years": rng.normal(55, 12, n),
            "weight_kg": rng.normal(70, 10, n),
            "residual_ipsc_pct": np.where(second, rng.gamma(1.5, 0.004, n), np.nan),
            "os_days": time.round(),
            # Few deaths: the baseline is summarised in a prognostic score (events per variable).
            "os_event": rng.random(n) < 0.2,
        }
    ).with_columns(pl.col("residual_ipsc_pct").fill_nan(None))
    catalog = pl.DataFrame(
        {
            "feature": ["indication", "ecog", "age_years", "weight_kg", "residual_ipsc_pct"],
            "feature_kind": ["patient"] * 4 + ["cqa"],
            "dtype": ["categorical"] + ["numeric"] * 4,
            "known_at_release": [True] * 5,
        }
    )
    return frame, catalog


def test_a_feature_measured_for_one_product_only_gets_an_adjusted_estimate() -> None:
    frame, catalog = _two_product_cohort()
    design = build_design(frame, catalog, CFG)
    os_outcome = next(o for o in available_outcomes(frame)[0] if o.name == "os")

    found, skips = estimate_effects(design, os_outcome, groups=None, cfg=CFG, seed=1, run_id="t")

    adjusted = found.filter(
        (pl.col("feature") == "residual_ipsc_pct") & (pl.col("adjustment") == "adjusted")
    )
    assert adjusted.height == 1 and adjusted["n"][0] == 80
    assert adjusted["adjusted_for"][0].startswith("prognostic_score(indication")
    assert np.isfinite(adjusted["estimate"][0]) and np.isfinite(adjusted["ci_high"][0])
    assert not [s for s in skips if s.feature == "residual_ipsc_pct"]


def test_a_finding_names_the_features_identical_to_it_instead_of_repeating_them() -> None:
    rng = np.random.default_rng(4)
    west = rng.uniform(size=300) < 0.5
    data = pl.DataFrame(
        {
            "manufacturing_site_id": np.where(west, "WEST", "EAST"),
            "activation_reagent": np.where(west, "transact", "beads"),
            "age_years": rng.normal(60, 10, 300),
            "cr": rng.uniform(size=300) < np.where(west, 0.3, 0.6),
        }
    )
    catalog = catalog_of(
        {
            "manufacturing_site_id": ("process_parameter", "categorical"),
            "activation_reagent": ("process_parameter", "categorical"),
            "age_years": ("patient", "numeric"),
        }
    )
    design = build_design(data, catalog, CFG)
    cr = available_outcomes(data)[0][0]
    found, _ = estimate_effects(design, cr, groups=None, cfg=CFG, seed=1, run_id="t")
    assert not found["feature"].str.starts_with("activation_reagent").any()
    site = found.filter(pl.col("feature").str.starts_with("manufacturing_site_id="))
    assert site.height == 2  # unadjusted and adjusted
    assert site["aliases"].str.starts_with("activation_reagent=").all()
    assert site.filter(pl.col("adjustment") == "adjusted")["is_supported"][0]
