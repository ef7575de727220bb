"""Toxicity by grade: the proportional-odds fit, Brant's check, and onset days."""

from datetime import date

import numpy as np
import polars as pl
import pytest
from statsmodels.miscmodels.ordinal_model import OrderedModel

from analyses.config import AnalysisConfig
from analyses.effects import estimate_effects
from analyses.ordinal import brant_test, fit_proportional_odds, usable_cuts
from analyses.outcomes import Outcome
from analyses.power import detectable_effect
from analyses.proportional_odds import po_checks_frame
from analyses.toxicity import add_onset_days


def _graded(seed: int, n: int = 1500, slopes: tuple[float, ...] = (0.6, 0.0, -0.3)) -> tuple:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(slopes)))
    latent = x @ np.array(slopes) + rng.logistic(size=n)
    return np.digitize(latent, [-1.0, 0.8, 2.2, 3.4]).astype(float), x


def test_the_proportional_odds_fit_matches_statsmodels_ordered_model() -> None:
    y, x = _graded(1)
    ours = fit_proportional_odds(y, x)
    ref = OrderedModel(y, x, distr="logit").fit(method="newton", disp=False, maxiter=100)
    assert np.allclose(ours.coef, ref.params[:3], atol=1e-5)
    assert np.allclose(np.sqrt(np.diag(ours.cov))[4:], ref.bse[:3], rtol=1e-4)
    # statsmodels parametrises the cut points as the first and log increments
    ref_cuts = np.cumsum(np.r_[ref.params[3], np.exp(ref.params[4:])])
    assert np.allclose(ours.thresholds, ref_cuts, atol=1e-5)
    assert abs(ours.coef[0] - 0.6) < 0.15 and abs(ours.coef[1]) < 0.15


def test_lot_clustered_errors_are_never_below_the_model_based_ones() -> None:
    y, x = _graded(2, n=600)
    groups = np.repeat(np.arange(60), 10).astype(float)
    model = fit_proportional_odds(y, x)
    clustered = fit_proportional_odds(y, x, groups=groups)
    assert np.all(np.diag(clustered.cov) >= np.diag(model.cov) - 1e-12)


def test_brant_accepts_proportional_odds_and_rejects_a_slope_that_changes_across_grades() -> None:
    y, x = _graded(3, n=3000)
    cuts = usable_cuts(y, 10)
    assert cuts == [1, 2, 3, 4]
    holds = brant_test(y, x, n_leading=1, cuts=cuts)
    assert holds.p_value > 0.01 and holds.df == 3
    # A feature that raises mild grades but not severe ones breaks the assumption.
    rng = np.random.default_rng(3)
    z = rng.normal(size=y.size)
    y2 = np.where((y == 0) & (z > 0.5) & (rng.random(y.size) < 0.7), 1.0, y)
    broken = brant_test(y2, np.column_stack([z, x]), n_leading=1, cuts=usable_cuts(y2, 10))
    assert broken.p_value < 1e-4
    first, last = np.exp(broken.log_odds_ratios[0, 0]), np.exp(broken.log_odds_ratios[-1, 0])
    assert first > 1.5 and last < first


def test_graded_toxicity_gets_cumulative_odds_ratios_and_a_check_per_term(cohort) -> None:  # type: ignore[no-untyped-def]
    from analyses.design import build_design, first_infusions

    frame = first_infusions(cohort.data)
    rng = np.random.default_rng(4)
    z = np.log(frame["tumor_burden_spd_mm2"].to_numpy())
    latent = 0.8 * (z - z.mean()) / z.std() + rng.logistic(size=frame.height)
    grade = np.digitize(latent, [-0.8, 0.9, 2.0, 3.2]).astype(float)
    design = build_design(frame, cohort.catalog, AnalysisConfig())
    outcome = Outcome("crs_grade", "ordinal", np.ones(frame.height, dtype=bool), grade)
    checks: list[dict[str, object]] = []
    cfg = AnalysisConfig()
    found, _ = estimate_effects(
        design, outcome, groups=None, cfg=cfg, seed=1, run_id="t", po_checks=checks
    )
    adjusted = found.filter(pl.col("adjustment") == "adjusted")
    assert set(adjusted["effect_measure"]) <= {
        "cumulative_odds_ratio_per_sd",
        "cumulative_odds_ratio",
    }
    tumour = adjusted.filter(pl.col("feature") == "tumor_burden_spd_mm2").row(0, named=True)
    assert tumour["is_supported"] and tumour["estimate"] > 1.5
    assert "proportional-odds" in tumour["method"]
    nulls = adjusted.filter(pl.col("feature").is_in(["vcn_copies_per_cell", "xq_unknown_param"]))
    assert not nulls["is_supported"].any()
    table = po_checks_frame(checks, cfg)
    assert table.height == adjusted.height
    row = table.filter(pl.col("feature") == "tumor_burden_spd_mm2").row(0, named=True)
    assert row["assumption_holds"] and row["split_cuts"].startswith(">= 1")
    assert len(row["split_odds_ratios"].split("; ")) == len(row["split_cuts"].split("; "))


def test_the_graded_outcome_can_reveal_smaller_effects_than_its_grade_3_cut() -> None:
    y, _ = _graded(5, n=600)
    cfg = AnalysisConfig()
    rows = np.ones(y.size, dtype=bool)
    graded = detectable_effect(
        Outcome("crs_grade", "ordinal", rows, y), tests=60, supported=3, cfg=cfg, run_id="t"
    ).row(0, named=True)
    cut = detectable_effect(
        Outcome("crs_grade3plus", "binary", rows, (y >= 3).astype(float)),
        tests=60, supported=3, cfg=cfg, run_id="t",
    ).row(0, named=True)  # fmt: skip
    assert graded["effect_measure"] == "cumulative_odds_ratio_per_sd"
    assert 1 < graded["detectable_ratio"] < cut["detectable_ratio"]


def test_onset_days_count_from_the_infusion_and_ignore_records_outside_the_window() -> None:
    frame = pl.DataFrame(
        {
            "subject_id": ["A", "B", "C"],
            "infusion_date": [date(2024, 1, 10), date(2024, 2, 1), date(2024, 3, 1)],
        }
    )
    events = pl.DataFrame(
        {
            "subject_id": ["A", "A", "B", "B", "C"],
            "ae_term": ["CRS", "ICANS", "crs ", "CRS", "CRS"],
            "onset_date": [
                date(2024, 1, 12), date(2024, 1, 15), date(2024, 1, 20),
                date(2024, 2, 4), date(2024, 9, 1),
            ],
        }
    )  # fmt: skip
    out = add_onset_days(frame, events, window_days=90)
    assert out["crs_onset_days"].to_list() == [2.0, 3.0, None]  # B's record before infusion ignored
    assert out["icans_onset_days"].to_list() == [5.0, None, None]


@pytest.mark.parametrize("grades", [[0.0] * 50])
def test_a_single_observed_grade_cannot_be_fitted(grades: list[float]) -> None:
    from analyses.regression import FitFailedError

    with pytest.raises(FitFailedError, match="two observed grades"):
        fit_proportional_odds(np.array(grades), np.ones((50, 1)))
