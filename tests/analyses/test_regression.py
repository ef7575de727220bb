"""Firth logistic regression and Cox fits with (cluster-robust) standard errors."""

import numpy as np
import pytest
import statsmodels.api as sm

from analyses.regression import FitFailedError, fit_cox, fit_logistic


def _logistic_data(n: int, beta: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.2 + beta * x[:, 0])))).astype(float)
    return x, y


def test_firth_logistic_agrees_with_maximum_likelihood_on_a_large_sample() -> None:
    x, y = _logistic_data(4000, 0.8, seed=1)
    fit = fit_logistic(y, x, groups=None, n_leading=2)
    ml = sm.Logit(y, sm.add_constant(x)).fit(disp=0)
    assert np.allclose(fit.coef, ml.params[1:], atol=0.01)
    assert np.allclose(fit.se, ml.bse[1:], rtol=0.02)
    assert fit.p_value[0] < 1e-10 < fit.p_value[1] or fit.p_value[1] > 0.01


def test_firth_logistic_stays_finite_under_complete_separation() -> None:
    x = np.linspace(-1, 1, 60)[:, None]
    y = (x[:, 0] > 0).astype(float)
    fit = fit_logistic(y, x, groups=None, n_leading=1)
    assert np.isfinite(fit.coef[0]) and fit.coef[0] > 0


def test_a_singular_design_is_refused_with_a_reason() -> None:
    x, y = _logistic_data(200, 0.5, seed=2)
    with pytest.raises(FitFailedError, match="collinear"):
        fit_logistic(y, np.column_stack([x[:, 0], x[:, 0]]), groups=None, n_leading=1)


def test_lot_clustered_standard_errors_are_wider_when_lots_share_a_shift() -> None:
    rng = np.random.default_rng(4)
    lots = np.repeat(np.arange(30), 15)
    x_lot = rng.normal(size=30)[lots]  # a lot-level CQA shared by the lot's patients
    shift = rng.normal(0, 1.0, 30)[lots]
    y = (rng.random(lots.size) < 1 / (1 + np.exp(-(0.3 * x_lot + shift)))).astype(float)
    naive = fit_logistic(y, x_lot[:, None], groups=None, n_leading=1)
    clustered = fit_logistic(y, x_lot[:, None], groups=lots.astype(float), n_leading=1)
    assert clustered.se[0] > 1.3 * naive.se[0]
    reference = sm.Logit(y, sm.add_constant(x_lot)).fit(
        disp=0, cov_type="cluster", cov_kwds={"groups": lots}
    )
    assert np.isclose(clustered.se[0], reference.bse[1], rtol=0.05)


def test_cox_fit_recovers_a_planted_hazard_ratio() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(800, 1))
    t_event = rng.exponential(1 / (0.01 * np.exp(0.5 * x[:, 0])))
    t_cens = rng.uniform(20, 200, 800)
    fit = fit_cox(
        np.minimum(t_event, t_cens), (t_event <= t_cens).astype(float), x, groups=None, n_leading=1
    )
    assert abs(fit.coef[0] - 0.5) < 3 * fit.se[0]
    assert fit.p_value[0] < 1e-6


def test_cox_matches_the_reference_breslow_fit_with_model_and_lot_clustered_errors() -> None:
    from analyses.survival import fit_cox_breslow

    rng = np.random.default_rng(6)
    x = rng.normal(size=(1500, 3))
    t_event = np.round(rng.exponential(1 / (0.01 * np.exp(x @ np.array([0.4, -0.2, 0.0])))))  # ties
    t_cens = rng.uniform(5, 150, 1500).round()
    time, event = np.minimum(t_event, t_cens) + 1, (t_event <= t_cens).astype(float)
    lots = rng.integers(0, 200, 1500)
    ours = fit_cox_breslow(time, event, x)
    ref = sm.PHReg(time, x, status=event, ties="breslow").fit()
    assert np.allclose(ours.coef, ref.params, atol=1e-6)
    assert np.allclose(np.sqrt(np.diag(ours.cov)), ref.bse, rtol=1e-4)
    ours_robust = fit_cox_breslow(time, event, x, groups=lots.astype(float))
    ref_robust = sm.PHReg(time, x, status=event, ties="breslow").fit(groups=lots)
    assert np.allclose(np.sqrt(np.diag(ours_robust.cov)), ref_robust.bse, rtol=1e-4)
