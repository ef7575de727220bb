"""Predictive models from release-time features, scored by repeated cross-validation."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from lifelines import CoxPHFitter
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from analyses.clustering import cv_scheme, cv_splits
from analyses.config import AnalysisConfig
from analyses.design import Array, Design
from analyses.metrics import auc, brier, c_index, cv_metric_with_ci
from analyses.outcomes import Outcome
from analyses.penalised import L1Logistic
from analyses.threads import limit_threads

PERFORMANCE_SCHEMA = {
    "outcome": pl.String,
    "model": pl.String,
    "metric": pl.String,
    "estimate": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "cv_scheme": pl.String,
    "n": pl.Int64,
    "n_features": pl.Int64,
    "run_id": pl.String,
}


@dataclass(frozen=True)
class FoldFit:
    """A model fitted on one training fold, kept for permutation importance on its test fold."""

    model: object
    test: np.ndarray


def release_columns(design: Design) -> list[int]:
    """Columns of features known at release: post-infusion data would leak the outcome."""
    return [i for i, t in enumerate(design.terms) if design.known_at_release.get(t.feature, False)]


def gradient_boosting(seed: int) -> HistGradientBoostingClassifier:
    """Shallow gradient-boosted trees with fixed, conservative settings for small cohorts."""
    return HistGradientBoostingClassifier(
        max_depth=3,
        learning_rate=0.1,
        max_iter=80,
        min_samples_leaf=20,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    )


def binary_models(seed: int) -> dict[str, Callable[[], Any]]:
    """Factories of the two classifiers compared for each binary outcome."""
    return {
        "penalised_logistic": lambda: L1Logistic(seed=seed),
        "gradient_boosting": lambda: gradient_boosting(seed),
    }


@limit_threads
def evaluate_binary(
    x: Array,
    y: Array,
    outcome: str,
    *,
    groups: Array | None,
    cfg: AnalysisConfig,
    seed: int,
    run_id: str,
) -> tuple[pl.DataFrame, dict[str, list[FoldFit]]]:
    """AUC and Brier (mean over CV repeats, bootstrap CI) per model, plus first-repeat fold fits."""
    splits = cv_splits(y, groups, folds=cfg.cv_folds, repeats=cfg.cv_repeats, seed=seed)
    scheme = cv_scheme(groups, folds=cfg.cv_folds, repeats=cfg.cv_repeats)
    rows: list[dict[str, object]] = []
    fold_fits: dict[str, list[FoldFit]] = {}
    for name, make in binary_models(seed).items():
        oof: list[Array] = []
        for r, repeat in enumerate(splits):
            pred = np.full(len(y), np.nan)
            for train, test in repeat:
                model = make().fit(x[train], y[train])
                pred[test] = model.predict_proba(x[test])[:, 1]
                if r == 0:
                    fold_fits.setdefault(name, []).append(FoldFit(model, test))
            oof.append(pred)
        for metric_name, metric in (("auc", auc), ("brier", brier)):
            est, lo, hi = cv_metric_with_ci(
                metric, (y,), oof, groups=groups, n_boot=cfg.n_boot, seed=seed
            )
            rows.append(
                {
                    "outcome": outcome,
                    "model": name,
                    "metric": metric_name,
                    "estimate": est,
                    "ci_low": lo,
                    "ci_high": hi,
                    "cv_scheme": scheme,
                    "n": len(y),
                    "n_features": x.shape[1],
                    "run_id": run_id,
                }
            )
    return pl.DataFrame(rows, schema=PERFORMANCE_SCHEMA), fold_fits


def _cox_frame(x: Array, time: Array | None = None, event: Array | None = None) -> pd.DataFrame:
    df = pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])])
    if time is not None and event is not None:
        df["_t"] = np.maximum(time, 1e-3)
        df["_e"] = event
    return df


def evaluate_survival(
    x: Array,
    outcome: Outcome,
    rows: Array,
    *,
    groups: Array | None,
    cfg: AnalysisConfig,
    seed: int,
    run_id: str,
) -> pl.DataFrame:
    """Cross-validated C-index of a ridge-penalised Cox model (imputation fitted per fold)."""
    assert outcome.time is not None
    time, event = outcome.time[rows], outcome.y[rows]
    splits = cv_splits(event, groups, folds=cfg.cv_folds, repeats=cfg.cv_repeats, seed=seed)
    oof: list[Array] = []
    for repeat in splits:
        risk = np.full(len(time), np.nan)
        for train, test in repeat:
            prep: Pipeline = make_pipeline(
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                StandardScaler(),
            )
            xt = prep.fit_transform(x[train])
            keep = xt.std(axis=0) > 0
            cph = CoxPHFitter(penalizer=0.1).fit(
                _cox_frame(xt[:, keep], time[train], event[train]), "_t", "_e"
            )
            xs = prep.transform(x[test])[:, keep]
            risk[test] = np.asarray(cph.predict_log_partial_hazard(_cox_frame(xs)), dtype=float)
        oof.append(risk)
    est, lo, hi = cv_metric_with_ci(
        c_index, (time, event), oof, groups=groups, n_boot=max(cfg.n_boot // 4, 20), seed=seed
    )
    scheme = cv_scheme(groups, folds=cfg.cv_folds, repeats=cfg.cv_repeats)
    return pl.DataFrame(
        [
            {
                "outcome": outcome.name,
                "model": "penalised_cox",
                "metric": "c_index",
                "estimate": est,
                "ci_low": lo,
                "ci_high": hi,
                "cv_scheme": scheme,
                "n": len(time),
                "n_features": x.shape[1],
                "run_id": run_id,
            }
        ],
        schema=PERFORMANCE_SCHEMA,
    )
