"""Which CQAs carry a process parameter's effect on an outcome (product-of-coefficients mediation)."""

import warnings

import numpy as np
import polars as pl
import statsmodels.api as sm

from analyses.adjustment import build_adjustment
from analyses.config import AnalysisConfig
from analyses.design import Array, Design
from analyses.effects import fit_outcome
from analyses.outcomes import Outcome
from analyses.prognostic import prognostic_score_fn
from analyses.regression import FitFailedError
from analyses.steps import Step, StepContext, concat_or_empty

MEDIATION_SCHEMA = {
    "outcome": pl.String,
    "process_parameter": pl.String,
    "mediator": pl.String,
    "total_effect": pl.Float64,
    "direct_effect": pl.Float64,
    "indirect_effect": pl.Float64,
    "indirect_ci_low": pl.Float64,
    "indirect_ci_high": pl.Float64,
    "share_mediated": pl.Float64,
    "a_path": pl.Float64,
    "b_path": pl.Float64,
    "is_mediator": pl.Boolean,
    "n": pl.Int64,
    "method": pl.String,
    "run_id": pl.String,
}


def _a_path(m: Array, x: Array, groups: Array | None) -> tuple[float, float]:
    """Effect of the parameter (per SD) on the CQA (in SD), adjusted like the parameter."""
    design = np.column_stack([np.ones(len(m)), x])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a rank-deficient a-path is skipped, not reported
        if groups is None:
            res = sm.OLS(m, design).fit()
        else:
            res = sm.OLS(m, design).fit(cov_type="cluster", cov_kwds={"groups": groups})
    return float(res.params[1]), float(res.bse[1])


def mediate(
    design: Design,
    outcome: Outcome,
    parameters: dict[str, float],
    *,
    mediators: list[str] | None = None,
    groups: Array | None,
    cfg: AnalysisConfig,
    seed: int,
    run_id: str,
) -> pl.DataFrame:
    """Split each parameter's total effect (log scale, given) into paths through each numeric CQA.

    Indirect effect = a x b (a: parameter -> CQA, b: CQA -> outcome given the parameter), both
    adjusted for the parameter's confounders; its 95% CI is the Monte Carlo interval
    (Preacher & Selig 2012), which respects the skew of a product.
    """
    rng = np.random.default_rng(seed)
    cqas = [
        f
        for f in design.features
        if design.kind_of(f) == "cqa"
        and len(design.columns_of(f)) == 1
        and design.terms[design.columns_of(f)[0]].measure == "per_sd"
        and (mediators is None or f in mediators)
    ]
    out: list[dict[str, object]] = []
    for param, total in parameters.items():
        pcols = design.columns_of(param)
        if len(pcols) != 1:
            continue  # categorical parameters: mediation per level is not attempted
        for cqa in cqas:
            mcol = design.columns_of(cqa)[0]
            rows = (
                outcome.present.astype(bool)
                & np.isfinite(design.x[:, pcols[0]])
                & np.isfinite(design.x[:, mcol])
            )
            n = int(rows.sum())
            if n < cfg.min_n:
                continue
            events = outcome.events(rows)
            adj = build_adjustment(
                design,
                param,
                rows=rows,
                events=events,
                non_events=n - events if outcome.type in ("binary", "ordinal") else n,
                cfg=cfg,
                prognostic_score=prognostic_score_fn(outcome, rows, seed),
            ).matrix
            x = design.x[rows][:, pcols[0]]
            m = design.x[rows][:, mcol]
            g = None if groups is None else groups[rows]
            try:
                a, se_a = _a_path(m, np.column_stack([x, adj]), g)
                fit = fit_outcome(outcome, rows, np.column_stack([m, x, adj]), groups, 2)
            except (FitFailedError, np.linalg.LinAlgError, Warning):
                continue
            b, se_b = float(fit.coef[0]), float(fit.se[0])
            draws = rng.normal(a, se_a, cfg.mediation_draws) * rng.normal(
                b, se_b, cfg.mediation_draws
            )
            lo, hi = np.quantile(draws, [0.025, 0.975])
            indirect = a * b
            direct = float(fit.coef[1])
            denominator = indirect + direct
            out.append(
                {
                    "outcome": outcome.name,
                    "process_parameter": param,
                    "mediator": cqa,
                    "total_effect": total,
                    "direct_effect": direct,
                    "indirect_effect": indirect,
                    "indirect_ci_low": float(lo),
                    "indirect_ci_high": float(hi),
                    "share_mediated": indirect / denominator if abs(denominator) > 1e-9 else None,
                    "a_path": a,
                    "b_path": b,
                    "is_mediator": bool(lo > 0 or hi < 0),
                    "n": n,
                    "method": "product of coefficients on the log-odds/log-hazard scale per SD; "
                    "Monte Carlo 95% CI; adjusted for the parameter's confounders; candidate mediators: CQAs with an adjusted association with the outcome"
                    + ("; cluster-robust by lot" if groups is not None else ""),
                    "run_id": run_id,
                }
            )
    return pl.DataFrame(out, schema=MEDIATION_SCHEMA)


def run_mediation(ctx: StepContext) -> dict[str, pl.DataFrame]:
    """Mediation for every outcome with supported per-SD process-parameter findings."""
    findings = ctx.table("findings")
    frames = []
    for planned in ctx.outcomes:
        found = findings.filter(pl.col("outcome") == planned.outcome.name)
        total = {
            r["feature"]: float(np.log(r["estimate"]))
            for r in found.filter(
                pl.col("is_supported")
                & (pl.col("feature_kind") == "process_parameter")
                & pl.col("effect_measure").str.ends_with("per_sd")
            ).iter_rows(named=True)
        }
        if not total:
            continue
        frames.append(
            mediate(
                ctx.design,
                planned.outcome,
                total,
                # Only a CQA that itself goes with the outcome (adjusted) can carry an effect.
                mediators=found.filter(pl.col("is_supported") & (pl.col("feature_kind") == "cqa"))[
                    "feature"
                ].to_list(),
                groups=ctx.clusters,
                cfg=ctx.cfg,
                seed=planned.seed,
                run_id=ctx.run_id,
            )
        )
    return {"mediation": concat_or_empty(frames, MEDIATION_SCHEMA)}


STEP = Step(
    name="mediation",
    inputs=("cohort", "catalog", "findings"),
    outputs=("mediation",),
    settings="general",
    run=run_mediation,
)
