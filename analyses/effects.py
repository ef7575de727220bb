"""Unadjusted and causally adjusted effect estimates for every feature and outcome (findings)."""

import numpy as np
import polars as pl

from analyses.adjustment import build_adjustment
from analyses.config import AnalysisConfig
from analyses.design import Array, Design
from analyses.guards import Skip
from analyses.multiplicity import add_qvalues
from analyses.ordinal import fit_ordinal
from analyses.outcomes import Outcome, n_clusters
from analyses.power import DETECTABLE_SCHEMA, detectable_effect
from analyses.prognostic import prognostic_score_fn
from analyses.proportional_odds import check_proportional_odds, po_checks_frame
from analyses.regression import Fit, FitFailedError, fit_cox, fit_linear, fit_logistic
from analyses.steps import Step, StepContext, concat_or_empty
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


RATIO_BY_TYPE = {
    "binary": "odds_ratio",
    "survival": "hazard_ratio",
    "ordinal": "cumulative_odds_ratio",  # odds of a higher grade, the same at every cut
    "continuous": "ratio_of_means",  # geometric means: the outcome is analysed on the log scale
}
MODEL_BY_TYPE = {
    "binary": "Firth logistic regression",
    "survival": "Cox proportional hazards (Breslow ties)",
    "ordinal": "proportional-odds (cumulative logit) regression",
    "continuous": "least squares on the log scale",
}


def _measure(outcome: Outcome, per_sd: bool) -> str:
    ratio = RATIO_BY_TYPE[outcome.type]
    return f"{ratio}_per_sd" if per_sd else ratio


def fit_outcome(outcome: Outcome, rows: Array, x: Array, groups: Array | None, k: int) -> Fit:
    g = None if groups is None else groups[rows]
    if outcome.type == "binary":
        return fit_logistic(outcome.y[rows], x, groups=g, n_leading=k)
    if outcome.type == "ordinal":
        return fit_ordinal(outcome.y[rows], x, groups=g, n_leading=k)
    if outcome.type == "continuous":
        return fit_linear(outcome.y[rows], x, groups=g, n_leading=k)
    assert outcome.time is not None
    return fit_cox(outcome.time[rows], outcome.y[rows], x, groups=g, n_leading=k)


def _method(outcome: Outcome, groups: Array | None, rows: Array) -> str:
    model = MODEL_BY_TYPE[outcome.type]
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
    po_checks: list[dict[str, object]] | None = None,
) -> tuple[pl.DataFrame, list[Skip]]:
    """Findings rows (unadjusted and adjusted) for one outcome, with BH q-values per adjustment.

    For an ordinal outcome, rows checking the proportional-odds assumption of each adjusted
    fit are appended to ``po_checks`` when it is given.
    """
    rows_out: list[dict[str, object]] = []
    skips: list[Skip] = []
    for feature in design.features:
        cols = design.columns_of(feature)
        fx_all = design.x[:, cols]
        rows = outcome.present.astype(bool) & np.all(np.isfinite(fx_all), axis=1)
        n, events = int(rows.sum()), outcome.events(rows)
        non_events = n - events if outcome.type in ("binary", "ordinal") else n
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
            if po_checks is not None and outcome.type == "ordinal":
                po_checks += check_proportional_odds(
                    outcome, rows, x_adj, terms, fits[-1][1], cfg=cfg, run_id=run_id
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


def run_findings(ctx: StepContext) -> dict[str, pl.DataFrame]:
    """Effects of every feature on every patient outcome, the power per outcome, PO checks."""
    findings, detectable = [], []
    checks: list[dict[str, object]] = []
    for planned in ctx.outcomes:
        found, skips = estimate_effects(
            ctx.design,
            planned.outcome,
            groups=ctx.clusters,
            cfg=ctx.cfg,
            seed=planned.seed,
            run_id=ctx.run_id,
            po_checks=checks,
        )
        findings.append(found)
        ctx.skips += skips
        tested = found.filter((pl.col("adjustment") == "adjusted") & pl.col("p_value").is_not_nan())
        detectable.append(
            detectable_effect(
                planned.outcome,
                tests=tested.height,
                supported=int(tested["is_supported"].sum()),
                cfg=ctx.cfg,
                run_id=ctx.run_id,
            )
        )
    return {
        "findings": concat_or_empty(findings, FINDINGS_SCHEMA),
        "detectable_effects": concat_or_empty(detectable, DETECTABLE_SCHEMA),
        "proportional_odds": po_checks_frame(checks, ctx.cfg),
    }


STEP = Step(
    name="findings",
    inputs=("cohort", "catalog", "adverse_events"),
    outputs=("findings", "detectable_effects", "proportional_odds"),
    settings="general",
    run=run_findings,
)
