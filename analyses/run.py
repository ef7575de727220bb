"""One call that runs every declared analysis step on the linked cohort: the analysis.* tables."""

import polars as pl
from threadpoolctl import threadpool_limits

from analyses import (
    capability,
    effects,
    groups,
    importance,
    lot_outcomes,
    manufacturing,
    mediation,
    multivariate,
    quality_cost,
    spc,
    spec_ranges,
)
from analyses.config import AnalysisConfig
from analyses.guards import skips_to_frame
from analyses.steps import Step, StepContext, check_steps, lots_from_cohort
from schemas.published import ANALYSIS_TABLES

TABLES = ANALYSIS_TABLES
# The analyses, in order: a step reads only the inputs and the tables of steps above it.
STEPS: tuple[Step, ...] = (
    effects.STEP,
    mediation.STEP,
    importance.STEP,
    groups.STEP,
    spec_ranges.STEP,
    spc.STEP,
    multivariate.STEP,
    lot_outcomes.STEP,
    manufacturing.STEP,
    capability.STEP,
    quality_cost.STEP,
)
check_steps(STEPS, tuple(t for t in TABLES if t != "skipped"))

__all__ = ["STEPS", "TABLES", "lots_from_cohort", "run_all", "top_findings"]


def run_all(
    data: pl.DataFrame,
    catalog: pl.DataFrame,
    lots: pl.DataFrame | None = None,
    specs: pl.DataFrame | None = None,
    *,
    adverse_events: pl.DataFrame | None = None,
    run_id: str,
    seed: int = 20240607,
    config: AnalysisConfig | None = None,
) -> dict[str, pl.DataFrame]:
    """Run every step of STEPS; returns the analysis tables keyed by name (see TABLES).

    data: shaped like linked.infusion_product_outcome (first infusion per subject is used);
    catalog: linked.feature_catalog; lots: one row per lot like linked.lot_features (derived
    from data if None); specs: test_code, spec_lower, spec_upper (spec ranges and capability
    are skipped if None); adverse_events: subject_id, ae_term, onset_date (time to onset is
    skipped if None).
    """
    cfg = config or AnalysisConfig()
    ctx = StepContext(
        data=data, catalog=catalog, lots=lots, specs=specs, adverse_events=adverse_events,
        cfg=cfg, seed=seed, run_id=run_id,
    )  # fmt: skip
    # Native thread pools (OpenMP in gradient boosting, BLAS) thrash on a shared 2-core
    # machine; a fixed small pool also keeps results reproducible.
    with threadpool_limits(limits=cfg.n_threads):
        for step in STEPS:
            ctx.results.update(step.run(ctx))
    return {**ctx.results, "skipped": skips_to_frame(ctx.skips, run_id)}


def top_findings(findings: pl.DataFrame, n: int = 3) -> pl.DataFrame:
    """The n strongest adjusted, FDR-supported findings per outcome (for the demo summary)."""
    return (
        findings.filter(pl.col("is_supported"))
        .sort(["outcome", "q_value", "p_value"])
        .group_by("outcome", maintain_order=True)
        .head(n)
        .select(
            "outcome",
            "feature",
            *[c for c in ("aliases",) if c in findings.columns],
            "feature_kind",
            "effect_measure",
            "estimate",
            "ci_low",
            "ci_high",
            "q_value",
            "n",
        )
    )
