"""Unadjusted and causally adjusted effect estimates for every feature and outcome (findings)."""

from collections.abc import Callable

import numpy as np
import pandas as pd
import polars as pl
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceError
from sklearn.linear_model import LogisticRegression

from analyses.adjustment import build_adjustment
from analyses.config import AnalysisConfig
from analyses.design import Array, Design
from analyses.guards import Skip
from analyses.multiplicity import add_qvalues
from analyses.outcomes import Outcome, n_clusters
from analyses.regression import Fit, FitFailedError, fit_cox, fit_logistic
from analyses.threads import limit_threads

FINDINGS_SCHEMA = {
    "outcome": pl.String,
    "feature": pl.String,
    "feature_kind": pl.String,
    "effect_measure": pl.String,
    "adjustment": pl.String,
    "estimate": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "p_value": pl.Float64,
    "q_value": pl.Float64,
    "adjusted_for": pl.String,
    "n": pl.Int64,
    "events": pl.Int64,
    "sd": pl.Float64,
    "transform": pl.String,
    "reference_level": pl.String,
    "aliases": pl.String,
    "method": pl.String,
    "is_supported": pl.Boolean,
    "run_id": pl.String,
}
Z95 = 1.959963984540054


def _measure(outcome: Outcome, per_sd: bool) -> str:
    ratio = "odds_ratio" if outcome.type == "binary" else "hazard_ratio"
    return f"{ratio}_per_sd" if per_sd else ratio


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
        if outcome.type == "binary":
            model = LogisticRegression(C=0.5, max_iter=500, random_state=seed)
            model.fit(x[:, varies], outcome.y[rows])
            coef[varies] = model.coef_[0]
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


def fit_outcome(outcome: Outcome, rows: Array, x: Array, groups: Array | None, k: int) -> Fit:
    g = None if groups is None else groups[rows]
    if outcome.type == "binary":
        return fit_logistic(outcome.y[rows], x, groups=g, n_leading=k)
    assert outcome.time is not None
    return fit_cox(outcome.time[rows], outcome.y[rows], x, groups=g, n_leading=k)


def _method(outcome: Outcome, groups: Array | None, rows: Array) -> str:
    model = (
        "Firth logistic regression"
        if outcome.type == "binary"
        else "Cox proportional hazards (Breslow ties)"
    )
    k = n_clusters(groups, rows)
    se = (
        "Wald 95% CI"
        if k is None
        else f"Wald 95% CI, cluster-robust SE by lot ({k} lots; never below the model-based SE)"
    )
    return f"{model}; {se}; feature complete-case, adjusters mean-imputed with missing indicators"


@limit_threads
def estimate_effects(
    design: Design,
    outcome: Outcome,
    *,
    groups: Array | None,
    cfg: AnalysisConfig,
    seed: int,
    run_id: str,
) -> tuple[pl.DataFrame, list[Skip]]:
    """Findings rows (unadjusted and adjusted) for one outcome, with BH q-values per adjustment."""
    rows_out: list[dict[str, object]] = []
    skips: list[Skip] = []
    for feature in design.features:
        cols = design.columns_of(feature)
        fx_all = design.x[:, cols]
        rows = outcome.present.astype(bool) & np.all(np.isfinite(fx_all), axis=1)
        n, events = int(rows.sum()), outcome.events(rows)
        non_events = n - events if outcome.type == "binary" else n
        if n < cfg.min_n or min(events, non_events) < cfg.min_events:
            skips.append(
                Skip(
                    outcome.name,
                    "findings",
                    f"too few patients/events with {feature} recorded",
                    n,
                    events,
                    feature,
                )
            )
            continue
        fx = fx_all[rows]
        terms = [design.terms[c] for c in cols]
        method = _method(outcome, groups, rows)
        fits: list[tuple[str, Fit, str]] = []
        try:
            fits.append(("unadjusted", fit_outcome(outcome, rows, fx, groups, len(cols)), "none"))
            adj = build_adjustment(
                design,
                feature,
                rows=rows,
                events=events,
                non_events=non_events,
                cfg=cfg,
                prognostic_score=prognostic_score_fn(outcome, rows, seed),
            )
            x_adj = np.column_stack([fx, adj.matrix])
            fits.append(
                ("adjusted", fit_outcome(outcome, rows, x_adj, groups, len(cols)), adj.description)
            )
        except FitFailedError as exc:
            skips.append(Skip(outcome.name, "findings", str(exc), n, events, feature))
            if not fits:
                continue
        for adjustment, fit, adjusted_for in fits:
            for i, term in enumerate(terms):
                rows_out.append(
                    {
                        "outcome": outcome.name,
                        "feature": term.name,
                        "feature_kind": term.kind,
                        "effect_measure": _measure(outcome, term.measure == "per_sd"),
                        "adjustment": adjustment,
                        "estimate": float(np.exp(fit.coef[i])),
                        "ci_low": float(np.exp(fit.coef[i] - Z95 * fit.se[i])),
                        "ci_high": float(np.exp(fit.coef[i] + Z95 * fit.se[i])),
                        "p_value": float(fit.p_value[i]),
                        "adjusted_for": adjusted_for,
                        "n": n,
                        "events": events,
                        "sd": term.scale if term.measure == "per_sd" else None,
                        "transform": term.transform,
                        "reference_level": term.reference,
                        "aliases": "; ".join(term.aliases) or None,
                        "method": method,
                        "run_id": run_id,
                    }
                )
    schema = {k: v for k, v in FINDINGS_SCHEMA.items() if k not in ("q_value", "is_supported")}
    frame = pl.DataFrame(rows_out, schema=schema)
    frame = add_qvalues(frame, by=["outcome", "adjustment"])
    # Only an adjusted association counts: one that vanishes after adjustment for baseline
    # confounders is not reported as tied to the outcome.
    frame = frame.with_columns(
        ((pl.col("adjustment") == "adjusted") & (pl.col("q_value") < cfg.q_threshold))
        .fill_null(False)
        .alias("is_supported")
    )
    return frame.select(list(FINDINGS_SCHEMA)), skips
