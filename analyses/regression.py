"""Model fits that return coefficients with (cluster-robust) standard errors, or say why they failed."""

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analyses.design import Array
from analyses.survival import fit_cox_breslow


@dataclass(frozen=True)
class Fit:
    """Coefficients of the leading columns with standard errors and Wald p-values."""

    coef: Array
    se: Array
    p_value: Array


class FitFailedError(Exception):
    """A model could not be fitted reliably (separation, non-convergence, singular design)."""


def wald(coef: Array, se: Array) -> Fit:
    """Two-sided Wald p-values for coefficients with standard errors."""
    p = 2 * stats.norm.sf(np.abs(coef / se))
    return Fit(coef, se, p)


def cluster_meat(scores: Array, groups: Array | None) -> Array:
    """Sum over clusters of outer products of score contributions (rows are their own cluster)."""
    if groups is not None:
        _, inverse = np.unique(groups, return_inverse=True)
        summed = np.zeros((int(inverse.max()) + 1, scores.shape[1]))
        np.add.at(summed, inverse, scores)
        k = summed.shape[0]
        n = scores.shape[0]
        # Small-sample correction as in Stata / statsmodels: k/(k-1) * (n-1)/(n-p).
        factor = k / max(k - 1, 1) * (n - 1) / max(n - scores.shape[1], 1)
        return np.asarray(factor * summed.T @ summed)
    return np.asarray(scores.T @ scores)


def fit_logistic(y: Array, x: Array, *, groups: Array | None, n_leading: int) -> Fit:
    """Firth-penalised logistic regression of y on x (plus intercept).

    Firth's penalty (Heinze & Schemper 2002) keeps estimates finite under separation, which
    rare toxicities and small product subgroups produce; standard errors are model-based,
    or cluster-robust (sandwich by lot) when groups are given.
    """
    design = np.column_stack([np.ones(len(y)), x])
    beta = np.zeros(design.shape[1])
    converged = False
    for _ in range(100):
        eta = np.clip(design @ beta, -30, 30)
        p = 1 / (1 + np.exp(-eta))
        w = p * (1 - p)
        info = design.T @ (design * w[:, None])
        try:
            info_inv = np.linalg.inv(info)
        except np.linalg.LinAlgError as exc:
            raise FitFailedError(
                "logistic fit failed: singular design (collinear features)"
            ) from exc
        hat = np.einsum("ij,jk,ik->i", design, info_inv, design) * w
        score = design.T @ (y - p + hat * (0.5 - p))
        step = info_inv @ score
        # Step halving guards Newton's method against overshooting on near-separated data.
        max_step = np.abs(step).max()
        if max_step > 5:
            step *= 5 / max_step
        beta = beta + step
        if np.abs(step).max() < 1e-8:
            converged = True
            break
    if not converged or not np.all(np.isfinite(beta)):
        raise FitFailedError("logistic fit did not converge; check the feature for extreme values")
    eta = np.clip(design @ beta, -30, 30)
    p = 1 / (1 + np.exp(-eta))
    info_inv = np.linalg.inv(design.T @ (design * (p * (1 - p))[:, None]))
    se_all = np.sqrt(np.clip(np.diag(info_inv), 0, None))
    if groups is not None:
        robust = info_inv @ cluster_meat(design * (y - p)[:, None], groups) @ info_inv
        # Near separation (a level with no events) the sandwich collapses towards zero; the
        # lot-clustered error is never allowed below the model-based one.
        se_all = np.maximum(se_all, np.sqrt(np.clip(np.diag(robust), 0, None)))
    se = se_all[1 : 1 + n_leading]
    coef = beta[1 : 1 + n_leading]
    if not np.all(np.isfinite(se)) or np.any(se > 50) or np.any(se == 0):
        raise FitFailedError(
            "logistic fit gave unusable standard errors (separation or collinearity)"
        )
    return wald(coef, se)


def fit_cox(
    time: Array,
    event: Array,
    x: Array,
    *,
    groups: Array | None,
    n_leading: int,
    penalizer: float = 0.0,
) -> Fit:
    """Cox proportional hazards (Breslow ties) of (time, event) on x; lot-clustered SEs if groups."""
    # A tiny ridge penalty rescues fits where a covariate level has no events (monotone
    # likelihood) or a column is redundant; the estimate is then shrunk slightly towards none.
    result = None
    for ridge in (penalizer, max(penalizer, 0.1)):
        try:
            result = fit_cox_breslow(time, event, x, groups=groups, ridge=ridge)
        except np.linalg.LinAlgError:
            continue
        if result.converged and np.all(np.isfinite(result.cov)):
            break
    if result is None or not result.converged:
        raise FitFailedError("Cox fit did not converge (a covariate level may have no events)")
    coef = result.coef[:n_leading]
    se = np.sqrt(np.clip(np.diag(result.cov), 0, None))[:n_leading]
    if groups is not None:  # as for logistic: never below the model-based error
        model_cov = np.linalg.inv(result.information)
        se = np.maximum(se, np.sqrt(np.clip(np.diag(model_cov), 0, None))[:n_leading])
    if not np.all(np.isfinite(se)) or np.any(se > 50) or np.any(se == 0):
        raise FitFailedError("Cox fit gave unusable standard errors")
    return wald(coef, se)


def fit_logistic_mle(y: Array, design: Array, *, ridge: float = 0.0, max_iter: int = 100) -> Array:
    """Logistic coefficients of y on design (column 0 the intercept), optionally ridge-penalised.

    A small ridge keeps the slopes finite when an adjuster separates a rare split (no grade 4
    among a product's patients); the intercept is not penalised.
    """
    beta = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], ridge)
    penalty[0] = 0.0
    for _ in range(max_iter):
        p = 1 / (1 + np.exp(-np.clip(design @ beta, -30, 30)))
        info = design.T @ (design * (p * (1 - p))[:, None]) + np.diag(penalty)
        try:
            step = np.linalg.solve(info, design.T @ (y - p) - penalty * beta)
        except np.linalg.LinAlgError as exc:
            raise FitFailedError("logistic fit failed: singular design") from exc
        largest = np.abs(step).max()
        if largest > 5:
            step *= 5 / largest
        beta = beta + step
        if largest < 1e-8:
            return beta
    raise FitFailedError("logistic fit did not converge (separation)")


def fit_linear(y: Array, x: Array, *, groups: Array | None, n_leading: int) -> Fit:
    """Least squares of y on x (plus intercept) with HC1 or lot-clustered standard errors.

    Lot outcomes (log fold expansion, log days) are skewed and heteroscedastic: the sandwich
    error does not assume a constant variance.
    """
    design = np.column_stack([np.ones(len(y)), x])
    try:
        xtx_inv = np.linalg.inv(design.T @ design)
    except np.linalg.LinAlgError as exc:
        raise FitFailedError("linear fit failed: singular design (collinear features)") from exc
    beta = xtx_inv @ (design.T @ y)
    resid = y - design @ beta
    n, p = design.shape
    if groups is None:
        meat = (design * resid[:, None]).T @ (design * resid[:, None]) * n / max(n - p, 1)
    else:
        meat = cluster_meat(design * resid[:, None], groups)
    cov = xtx_inv @ meat @ xtx_inv
    var = np.diag(cov)
    if groups is not None:  # as for the other fits: never below the model-based error
        var = np.maximum(var, np.diag(xtx_inv) * float(resid @ resid) / max(n - p, 1))
    se_all = np.sqrt(np.clip(var, 0, None))
    se = se_all[1 : 1 + n_leading]
    if not np.all(np.isfinite(se)) or np.any(se == 0):
        raise FitFailedError("linear fit gave unusable standard errors (collinearity)")
    return wald(beta[1 : 1 + n_leading], se)
