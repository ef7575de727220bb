"""Baseline risk scores that stand in for many patient adjusters when events are few."""

from collections.abc import Callable

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceError
from sklearn.linear_model import LogisticRegression, Ridge

from analyses.design import Array
from analyses.outcomes import Outcome
from analyses.regression import FitFailedError


def score_target(outcome: Outcome, rows: Array) -> Array:
    """The 0/1 target a baseline risk score is fitted to for a binary or ordinal outcome.

    An ordinal grade is split where the two sides are most even (the most informative cut).
    """
    y = outcome.y[rows]
    if outcome.type != "ordinal":
        return np.asarray(y, dtype=float)
    cuts = np.unique(y)[1:]
    best = min(cuts, key=lambda c: abs(float((y >= c).mean()) - 0.5))
    return np.asarray(y >= best, dtype=float)


def prognostic_score_fn(
    outcome: Outcome, rows: Array, seed: int
) -> Callable[[Array, Array], Array]:
    """Return a function giving a ridge-fitted baseline risk score for the selected rows.

    The score model includes the feature itself and the score keeps only the baseline part of
    the linear predictor: a score fitted without the feature would absorb the feature's own
    effect through its correlates and over-adjust it away.
    """

    def score(bx: Array, fx: Array) -> Array:
        k = fx.shape[1]
        x = np.column_stack([fx, bx])
        # A baseline column constant among these patients (one product's indication when the
        # feature is measured for that product only) carries no information, and lifelines
        # divides by its zero SD; it gets coefficient 0 (a constant shifts no one's score).
        varies = np.ptp(x, axis=0) > 0
        coef = np.zeros(x.shape[1])
        if outcome.type in ("binary", "ordinal"):
            model = LogisticRegression(C=0.5, max_iter=500, random_state=seed)
            model.fit(x[:, varies], score_target(outcome, rows))
            coef[varies] = model.coef_[0]
            return np.asarray(bx @ coef[k:], dtype=float)
        if outcome.type == "continuous":
            ridge = Ridge(alpha=1.0).fit(x[:, varies], outcome.y[rows])
            coef[varies] = ridge.coef_
            return np.asarray(bx @ coef[k:], dtype=float)
        assert outcome.time is not None
        df = pd.DataFrame(x[:, varies], columns=[f"b{i}" for i in np.flatnonzero(varies)])
        df["_t"] = np.maximum(outcome.time[rows], 1e-3)
        df["_e"] = outcome.y[rows]
        try:
            cph = CoxPHFitter(penalizer=0.5).fit(df, "_t", "_e")
        except ConvergenceError as exc:
            raise FitFailedError(f"baseline risk score did not converge ({exc})") from exc
        coef[varies] = cph.params_.to_numpy()
        return np.asarray(bx @ coef[k:], dtype=float)

    return score
