"""Proportional-odds (cumulative logit) regression and Brant's check of its assumption.

CRS and ICANS are graded 0-5 (ASTCT 2019). Cutting the grade at 3 throws away most of what
the grade says: a proportional-odds model uses every step of it. The model is the one of
statsmodels' ``OrderedModel(distr="logit")`` (the tests compare both); it is written out here
with analytic derivatives because the findings fit it hundreds of times per night, where the
general optimiser takes ~1 s a fit at 10^4 patients.
"""

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import expit

from analyses.design import Array
from analyses.regression import Fit, FitFailedError, cluster_meat, fit_logistic_mle, wald


@dataclass(frozen=True)
class OrdinalFit:
    """Cut points and slopes of P(Y > j) = expit(x b - theta_j), with their covariance."""

    thresholds: Array  # theta_1 < ... < theta_(J-1)
    coef: Array
    cov: Array  # of [thresholds, coef]
    levels: Array  # the observed categories, in order


def ordinal_codes(y: Array) -> tuple[Array, Array]:
    """Observed categories in order, and each row's position among them (0..J-1)."""
    levels, codes = np.unique(y, return_inverse=True)
    return levels, codes


def _pieces(params: Array, x: Array, codes: Array, n_cut: int) -> tuple[float, Array, Array, Array]:
    """Log-likelihood, gradient, Hessian and per-row scores at params = [thresholds, coef]."""
    theta, beta = params[:n_cut], params[n_cut:]
    eta = x @ beta
    upper = codes < n_cut  # the row's category has an upper cut point
    lower = codes > 0
    a = np.where(upper, theta[np.minimum(codes, n_cut - 1)] - eta, np.inf)
    b = np.where(lower, theta[np.maximum(codes - 1, 0)] - eta, -np.inf)
    fa_cdf, fb_cdf = expit(a), expit(b)
    p = np.clip(fa_cdf - fb_cdf, 1e-300, None)
    fa, fb = fa_cdf * (1 - fa_cdf), fb_cdf * (1 - fb_cdf)
    dfa, dfb = fa * (1 - 2 * fa_cdf), fb * (1 - 2 * fb_cdf)
    one_a = np.zeros((len(codes), n_cut))
    one_b = np.zeros((len(codes), n_cut))
    rows = np.arange(len(codes))
    one_a[rows[upper], codes[upper]] = 1.0
    one_b[rows[lower], codes[lower] - 1] = 1.0
    ga, gb = fa / p, fb / p
    diff = (fa - fb) / p
    scores = np.column_stack([one_a * ga[:, None] - one_b * gb[:, None], -x * diff[:, None]])
    haa = dfa / p - ga**2
    hbb = -dfb / p - gb**2
    hab = ga * gb
    h_tt = (
        one_a.T @ (one_a * haa[:, None])
        + one_b.T @ (one_b * hbb[:, None])
        + one_a.T @ (one_b * hab[:, None])
        + one_b.T @ (one_a * hab[:, None])
    )
    ca = -(dfa / p - ga * diff)
    cb = dfb / p - gb * diff
    h_tb = one_a.T @ (x * ca[:, None]) + one_b.T @ (x * cb[:, None])
    h_bb = x.T @ (x * ((dfa - dfb) / p - diff**2)[:, None])
    hess = np.block([[h_tt, h_tb], [h_tb.T, h_bb]])
    return float(np.log(p).sum()), scores.sum(axis=0), hess, scores


def fit_proportional_odds(
    y: Array, x: Array, *, groups: Array | None = None, max_iter: int = 60
) -> OrdinalFit:
    """Maximum-likelihood proportional-odds fit by Newton-Raphson with step halving.

    Standard errors are model-based, or lot-clustered (sandwich, never below the model-based
    error, as for the other findings) when groups are given.
    """
    levels, codes = ordinal_codes(y)
    n_cut = levels.size - 1
    if n_cut < 1:
        raise FitFailedError("ordinal fit needs at least two observed grades")
    cum = np.cumsum(np.bincount(codes, minlength=levels.size))[:-1] / len(codes)
    params = np.concatenate([np.log(cum / (1 - cum)), np.zeros(x.shape[1])])
    loglik, grad, hess, _ = _pieces(params, x, codes, n_cut)
    converged = False
    for _ in range(max_iter):
        try:
            step = np.linalg.solve(-hess, grad)
        except np.linalg.LinAlgError as exc:
            raise FitFailedError(
                "ordinal fit failed: singular design (collinear features)"
            ) from exc
        scale = 1.0
        while scale > 1e-4:
            trial = params + scale * step
            if np.all(np.diff(trial[:n_cut]) > 0):
                new = _pieces(trial, x, codes, n_cut)
                if np.isfinite(new[0]) and new[0] >= loglik - 1e-10:
                    break
            scale /= 2
        else:
            break
        params = trial
        loglik, grad, hess, _ = new
        if np.abs(scale * step).max() < 1e-8:
            converged = True
            break
    if not converged or not np.all(np.isfinite(params)):
        raise FitFailedError("ordinal fit did not converge; check the feature for extreme values")
    _, _, hess, scores = _pieces(params, x, codes, n_cut)
    try:
        cov = np.linalg.inv(-hess)
    except np.linalg.LinAlgError as exc:
        raise FitFailedError("ordinal fit failed: singular information matrix") from exc
    if groups is not None:
        robust = cov @ cluster_meat(scores, groups) @ cov
        # Near separation the sandwich collapses; never below the model-based error.
        model_var = np.diag(cov).copy()
        cov = robust
        np.fill_diagonal(cov, np.maximum(np.diag(robust), model_var))
    return OrdinalFit(params[:n_cut], params[n_cut:], cov, levels)


def fit_ordinal(y: Array, x: Array, *, groups: Array | None, n_leading: int) -> Fit:
    """Slopes of the first n_leading columns (log cumulative odds ratios) with Wald tests."""
    fit = fit_proportional_odds(y, x, groups=groups)
    n_cut = fit.thresholds.size
    se = np.sqrt(np.clip(np.diag(fit.cov), 0, None))[n_cut : n_cut + n_leading]
    coef = fit.coef[:n_leading]
    if not np.all(np.isfinite(se)) or np.any(se > 50) or np.any(se == 0):
        raise FitFailedError(
            "ordinal fit gave unusable standard errors (separation or collinearity)"
        )
    return wald(coef, se)


@dataclass(frozen=True)
class BrantResult:
    """Brant's Wald test that a feature's slope is the same at every cut of the grade."""

    cuts: list[int]  # grade c of each binary split "grade >= c"
    log_odds_ratios: Array  # (cuts, n_leading): the feature's slope in each split
    chi2: float
    df: int
    p_value: float


def usable_cuts(y: Array, min_events: int) -> list[int]:
    """Grades c whose split 'grade >= c' has at least min_events on each side."""
    levels = np.unique(y)
    return [int(c) for c in levels[1:] if min((y >= c).sum(), (y < c).sum()) >= min_events]


def brant_test(y: Array, x: Array, *, n_leading: int, cuts: list[int]) -> BrantResult:
    """Compare the leading slopes across the binary splits y >= c (Brant 1990, Biometrics 46:1171).

    Each split is a logistic fit; their joint covariance comes from the shared rows:
    Cov(b_j, b_l) = I_j^-1 X' diag(pi_l - pi_j pi_l) X I_l^-1 for c_j <= c_l. A unit ridge on
    the slopes keeps a split finite when an adjuster separates it (negligible at the sizes
    tested: a split needs `min_split_events` on each side).
    """
    if len(cuts) < 2:
        raise FitFailedError("fewer than two grade splits with enough events on each side")
    design = np.column_stack([np.ones(len(y)), x])
    fits, probs, inverses = [], [], []
    for c in cuts:
        beta = fit_logistic_mle((y >= c).astype(float), design, ridge=1.0)
        pi = expit(design @ beta)
        info = design.T @ (design * (pi * (1 - pi))[:, None])
        info[1:, 1:] += np.eye(design.shape[1] - 1)
        fits.append(beta)
        probs.append(pi)
        inverses.append(np.linalg.inv(info))
    m, k = len(cuts), n_leading
    lead = slice(1, 1 + k)
    big = np.zeros((m * k, m * k))
    for j in range(m):
        for ell in range(j, m):
            w = probs[ell] - probs[j] * probs[ell]
            block = inverses[j] @ (design.T @ (design * w[:, None])) @ inverses[ell]
            big[j * k : (j + 1) * k, ell * k : (ell + 1) * k] = block[lead, lead]
            big[ell * k : (ell + 1) * k, j * k : (j + 1) * k] = block[lead, lead].T
    slopes = np.array([b[lead] for b in fits])
    # Differences of each split's slopes from the first split's: zero under proportional odds.
    diff_matrix = np.zeros(((m - 1) * k, m * k))
    for j in range(1, m):
        for i in range(k):
            diff_matrix[(j - 1) * k + i, i] = 1.0
            diff_matrix[(j - 1) * k + i, j * k + i] = -1.0
    d = diff_matrix @ slopes.reshape(-1)
    v = diff_matrix @ big @ diff_matrix.T
    try:
        chi2 = float(d @ np.linalg.solve(v, d))
    except np.linalg.LinAlgError as exc:
        raise FitFailedError("Brant test: singular covariance of the split slopes") from exc
    df = (m - 1) * k
    return BrantResult(cuts, slopes, chi2, df, float(stats.chi2.sf(chi2, df)))
