"""Model fits that return coefficients with (cluster-robust) standard errors, or say why they failed."""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from lifelines import CoxPHFitter
from scipy import stats

from analyses.design import Array


@dataclass(frozen=True)
class Fit:
    """Coefficients of the leading columns with standard errors and Wald p-values."""

    coef: Array
    se: Array
    p_value: Array


class FitFailedError(Exception):
    """A model could not be fitted reliably (separation, non-convergence, singular design)."""


def _wald(coef: Array, se: Array) -> Fit:
    p = 2 * stats.norm.sf(np.abs(coef / se))
    return Fit(coef, se, p)


def fit_logistic(y: Array, x: Array, *, groups: Array | None, n_leading: int) -> Fit:
    """Logistic regression of y on x (plus intercept); cluster-robust SEs when groups are given."""
    design = np.column_stack([np.ones(len(y)), x])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = sm.Logit(y, design)
            if groups is not None:
                res = model.fit(
                    disp=0, maxiter=100, cov_type="cluster", cov_kwds={"groups": groups}
                )
            else:
                res = model.fit(disp=0, maxiter=100)
        except (np.linalg.LinAlgError, ValueError) as exc:
            raise FitFailedError(f"logistic fit failed: {exc}") from exc
    problems = [
        str(w.message)
        for w in caught
        if "converge" in str(w.message).lower() or "separation" in str(w.message).lower()
    ]
    if problems or not res.mle_retvals.get("converged", True):
        raise FitFailedError(
            "logistic fit did not converge (possible separation): " + "; ".join(problems[:1])
        )
    coef = np.asarray(res.params)[1 : 1 + n_leading]
    se = np.asarray(res.bse)[1 : 1 + n_leading]
    if not np.all(np.isfinite(se)) or np.any(se > 50):
        raise FitFailedError(
            "logistic fit gave unusable standard errors (separation or collinearity)"
        )
    return _wald(coef, se)


def fit_cox(
    time: Array,
    event: Array,
    x: Array,
    *,
    groups: Array | None,
    n_leading: int,
    penalizer: float = 0.0,
) -> Fit:
    """Cox proportional hazards of (time, event) on x; robust SEs clustered by groups if given."""
    cols = [f"x{i}" for i in range(x.shape[1])]
    df = pd.DataFrame(x, columns=cols)
    df["_t"] = np.maximum(time, 1e-3)  # same-day events/censoring: lifelines needs t > 0
    df["_e"] = event.astype(int)
    if groups is not None:
        df["_g"] = groups
    fitter = CoxPHFitter(penalizer=penalizer)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fitter.fit(
                df,
                duration_col="_t",
                event_col="_e",
                cluster_col="_g" if groups is not None else None,
                robust=groups is not None,
            )
        except Exception as exc:  # lifelines raises ConvergenceError and plain exceptions
            raise FitFailedError(f"Cox fit failed: {type(exc).__name__}: {str(exc)[:120]}") from exc
    if any("converge" in str(w.message).lower() for w in caught):
        raise FitFailedError("Cox fit did not converge")
    coef = fitter.params_.to_numpy()[:n_leading]
    se = fitter.standard_errors_.to_numpy()[:n_leading]
    if not np.all(np.isfinite(se)) or np.any(se > 50):
        raise FitFailedError("Cox fit gave unusable standard errors")
    return _wald(coef, se)
